"""A fully connected GAN on MNIST, in TensorFlow 1 style, running on TensorFlow 2.x.

A faithful port of tensorflow_MNIST_GAN.py from znxlwm/tensorflow-MNIST-GAN-DCGAN:
graph, placeholders, variable_scope, get_variable and Session, through tf.compat.v1.

    python gan_mnist.py                                   # 100 epochs on MNIST_data/, outputs in results/
    python gan_mnist.py --train_epoch=1 --results_dir=/tmp/r   # any setting below, for one run
    python gan_mnist.py --sample=1000                     # samples.npy from the latest checkpoint
    python gan_mnist.py --evaluate=10000                  # sample-quality figures of the latest checkpoint
"""
import ast
import contextlib
import gzip
import hashlib
import os
import pickle
import signal
import struct
import sys
import time
import types
import urllib.request
from collections import namedtuple

import imageio.v3 as iio
import matplotlib
import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

matplotlib.use('Agg')  # files only, no window: also works on a machine with no display
import matplotlib.pyplot as plt  # after use('Agg'): the backend must be chosen first

# ---------------------------------------------------------------------------------------------
# Settings: edit them here, or override any for one run: python gan_mnist.py --name=value
# ---------------------------------------------------------------------------------------------
# training parameters (the reference's)
batch_size = 100
lr = 0.0002
train_epoch = 100
keep_prob = 0.3       # fed to the drop_out placeholder; TF1 meaning: keep 30% of D's units, drop 70%
eps = 1e-2            # keeps the logs in the losses finite when D is sure
# recipe knobs; the defaults are the reference
leaky_slope = 0.0     # slope for x < 0 in the hidden layers of G and D; 0 is the reference's ReLU
adam_beta1 = 0.9      # Adam's first-moment decay; 0.9 is TF's default, which the reference used
shuffle = False       # reshuffle the training images every epoch; the reference slices them in order
seed = 0              # numpy noise, weight init and dropout; the reference seeded from the clock
# data
data_dir = 'MNIST_data'
data_url = 'https://storage.googleapis.com/cvdf-datasets/mnist/'  # where missing files come from
# outputs
results_dir = 'results'
resume = True         # continue the run saved in results_dir; False deletes that run and starts over
keep_checkpoints = 3  # how many end-of-epoch checkpoints to keep
summary_every = 50    # steps between TensorBoard loss points
eval_samples = 10000  # generated images scored at the end of training; 0 skips the scoring
eval_every = 0        # also score every this many epochs (costs time each time); 0 = only at the end
# instead of training
sample = 0            # N > 0: write N samples of the latest checkpoint to samples.npy and samples.png
evaluate = 0          # N > 0: score N samples of the latest checkpoint and print the figures

SETTINGS = {name: value for name, value in globals().items()
            if not name.startswith('_') and isinstance(value, (bool, int, float, str))}
# Settings a saved run must share with this one to be resumed: they change what is trained.
RUN_SETTINGS = ('batch_size', 'lr', 'keep_prob', 'eps', 'leaky_slope', 'adam_beta1', 'shuffle', 'seed')


class InputError(Exception):
    """A problem with what the user gave (settings, data, folders, checkpoints): the message says
    what and how to fix it, and the script stops before any long work."""


def apply_overrides(args):
    """nanoGPT-style overrides: every argument is --name=value for a setting above."""
    valid = ', '.join(SETTINGS)
    for arg in args:
        name, has_value, text = arg[2:].partition('=')
        if not arg.startswith('--') or name not in SETTINGS:
            raise InputError(f"unknown setting {arg!r}. Settings are given as --name=value, "
                             f"with name one of: {valid}.")
        default = SETTINGS[name]
        if not has_value:
            raise InputError(f"--{name} needs a value, as in --{name}={default!r}.")
        if isinstance(default, str):
            value = text  # verbatim, so a folder named 1e3 stays a name
        elif isinstance(default, bool):
            value = {'true': True, 'false': False}.get(text.lower(), text)
        else:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text
            if isinstance(default, float) and type(value) is int:
                value = float(value)
        if type(value) is not type(default):
            raise InputError(f"--{name}={text} is not of type {type(default).__name__} "
                             f"(the default is {default!r}). Settings: {valid}.")
        globals()[name] = value


def check_settings():
    """Reject values that would fail late or train nothing, before any long work."""
    rules = [
        (batch_size >= 1, 'batch_size', 'at least 1'),
        (lr > 0, 'lr', 'greater than 0'),
        (train_epoch >= 1, 'train_epoch', 'at least 1'),
        (0 < keep_prob <= 1, 'keep_prob', 'in (0, 1]: the fraction of units dropout keeps'),
        (eps >= 0, 'eps', 'at least 0'),
        (0 <= leaky_slope < 1, 'leaky_slope', 'in [0, 1)'),
        (0 <= adam_beta1 < 1, 'adam_beta1', 'in [0, 1)'),
        (keep_checkpoints >= 1, 'keep_checkpoints', 'at least 1'),
        (summary_every >= 1, 'summary_every', 'at least 1'),
        (eval_samples == 0 or eval_samples >= 2, 'eval_samples', '0 (off) or at least 2'),
        (eval_every >= 0, 'eval_every', 'at least 0'),
        (sample >= 0, 'sample', 'at least 0'),
        (evaluate == 0 or evaluate >= 2, 'evaluate', '0 (off) or at least 2'),
    ]
    for ok, name, wanted in rules:
        if not ok:
            raise InputError(f"--{name}={globals()[name]!r} is out of range: it must be {wanted}.")
    if sample and evaluate:
        raise InputError("--sample and --evaluate each replace training: give one of them.")


# ---------------------------------------------------------------------------------------------
# Data: a stand-in for the removed tensorflow.examples.tutorials.mnist.input_data
# ---------------------------------------------------------------------------------------------
MNIST_FILES = {  # file name: md5 of the published file
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
DataSet = namedtuple('DataSet', 'images labels')
Datasets = namedtuple('Datasets', 'train validation test')


@contextlib.contextmanager
def replaced_atomically(path):
    """Write to a temporary name, then rename: a crash never leaves half a file at `path`."""
    tmp = path + '.part'
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def maybe_download(train_dir, url=None):
    """Fetch any of the four MNIST files missing from train_dir, checking each file's md5."""
    url = url or data_url
    if os.path.exists(train_dir) and not os.path.isdir(train_dir):
        raise InputError(f"data_dir {train_dir!r} is a file, not a folder. Point --data_dir at the "
                         f"folder holding the four MNIST files ({', '.join(MNIST_FILES)}).")
    missing = [name for name in MNIST_FILES if not os.path.exists(os.path.join(train_dir, name))]
    for name in missing:
        print(f'downloading {url}{name}')
        try:
            with urllib.request.urlopen(url + name, timeout=60) as response:
                data = response.read()
            if hashlib.md5(data).hexdigest() != MNIST_FILES[name]:
                raise OSError(f'{name} arrived with md5 {hashlib.md5(data).hexdigest()}, '
                              f'not the published {MNIST_FILES[name]}')
            os.makedirs(train_dir, exist_ok=True)
            with replaced_atomically(os.path.join(train_dir, name)) as tmp, open(tmp, 'wb') as f:
                f.write(data)
        except (OSError, ValueError) as e:  # URLError, HTTPError and socket timeouts are OSErrors
            raise InputError(f"MNIST file(s) missing from {train_dir}/: {', '.join(missing)}; "
                             f"downloading them from {url} failed ({e}). Copy the four original "
                             f"files into {train_dir}/, or point --data_dir at a folder that holds "
                             f"them, and run again.") from None


def read_idx(path, magic, shape):
    """One gzipped IDX file as a uint8 array, checked against the format; `shape` is what one
    item must look like (() for a label, (28, 28) for an image)."""
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise InputError(f"{path} cannot be read as gzip ({e}). It is damaged or truncated: "
                         f"delete it to download it again, or copy the original.") from None
    ndim = 1 + len(shape)
    header = 4 + 4 * ndim
    if len(raw) < header or struct.unpack('>I', raw[:4])[0] != magic:
        raise InputError(f"{path} is not an MNIST IDX file: it does not start with the magic "
                         f"number {magic}. Delete it to download it again, or copy the original.")
    dims = struct.unpack(f'>{ndim}I', raw[4:header])
    if dims[1:] != shape:
        raise InputError(f"{path} holds items of shape {dims[1:]}, not {shape}: it is not the "
                         f"MNIST file of that name. Replace it with the original.")
    if len(raw) - header != int(np.prod(dims)):
        raise InputError(f"{path} is truncated or padded: its header promises {dims[0]} items "
                         f"({int(np.prod(dims))} bytes), it holds {len(raw) - header} bytes. "
                         f"Delete it to download it again, or copy the original.")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_split(train_dir, kind):
    """Images (N x 784 float32 in [0, 1]) and labels (N uint8) of 'train' or 't10k'."""
    images_path = os.path.join(train_dir, f'{kind}-images-idx3-ubyte.gz')
    labels_path = os.path.join(train_dir, f'{kind}-labels-idx1-ubyte.gz')
    images = read_idx(images_path, 2051, (28, 28))
    labels = read_idx(labels_path, 2049, ())
    if len(images) != len(labels):
        raise InputError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                         f"{len(labels)} labels: the two files are not a pair.")
    if labels.size and labels.max() > 9:
        raise InputError(f"{labels_path} holds the label {labels.max()}; MNIST labels are 0 to 9.")
    return images.reshape(-1, 784).astype(np.float32) / 255.0, labels


def read_data_sets(train_dir, one_hot=False, validation_size=5000):
    """What input_data.read_data_sets returned: .train, .validation, .test, each with .images
    (N x 784 float32 in [0, 1]) and .labels (one-hot float32 N x 10, or digits). The first
    `validation_size` training images are held out, as TF's loader did."""
    maybe_download(train_dir)
    train_images, train_labels = read_split(train_dir, 'train')
    test_images, test_labels = read_split(train_dir, 't10k')
    if not 0 <= validation_size <= len(train_images):
        raise InputError(f"validation_size {validation_size} is not within the "
                         f"{len(train_images)} training images of {train_dir}/.")

    def labels(digits):
        return np.eye(10, dtype=np.float32)[digits] if one_hot else digits

    return Datasets(
        train=DataSet(train_images[validation_size:], labels(train_labels[validation_size:])),
        validation=DataSet(train_images[:validation_size], labels(train_labels[:validation_size])),
        test=DataSet(test_images, labels(test_labels)))


# ---------------------------------------------------------------------------------------------
# Networks: G(z) and D(x), fully connected, variables made by get_variable
# ---------------------------------------------------------------------------------------------
def dense(x, n_out, net, i):
    """x @ w + b with variables named {net}_w{i} and {net}_b{i}, as in the reference."""
    w = tf.get_variable(f'{net}_w{i}', [x.get_shape()[1], n_out],
                        initializer=tf.truncated_normal_initializer(mean=0, stddev=0.02))
    b = tf.get_variable(f'{net}_b{i}', [n_out], initializer=tf.constant_initializer(0.))
    return tf.matmul(x, w) + b


def hidden_activation(h):
    return tf.nn.relu(h) if leaky_slope == 0 else tf.nn.leaky_relu(h, alpha=leaky_slope)


def generator(z):
    """z (N x 100) -> 256 -> 512 -> 1024 -> 784 images in [-1, 1]."""
    h = z
    for i, n_out in enumerate([256, 512, 1024]):
        h = hidden_activation(dense(h, n_out, 'G', i))
    return tf.nn.tanh(dense(h, 784, 'G', 3))


def discriminator(x, drop_out):
    """x (N x 784) -> 1024 -> 512 -> 256 -> probability that x is real. The reference's D_b2
    had shape [1024] and did not build; it is [256] here."""
    h = x
    for i, n_out in enumerate([1024, 512, 256]):
        # drop_out holds the keep probability, as TF1's tf.nn.dropout(x, 0.3) meant it;
        # passing it as rate (TF2's meaning) would keep 70% instead of 30%
        h = tf.nn.dropout(hidden_activation(dense(h, n_out, 'D', i)), rate=1 - drop_out)
    return tf.sigmoid(dense(h, 1, 'D', 3))


def build_graph():
    """The reference's graph, in the current default graph; returns its tensors and ops."""
    tf.set_random_seed(seed)
    with tf.variable_scope('G'):
        z = tf.placeholder(tf.float32, shape=(None, 100), name='z')
        G_z = generator(z)

    with tf.variable_scope('D') as scope:
        drop_out = tf.placeholder(dtype=tf.float32, name='drop_out')
        x = tf.placeholder(tf.float32, shape=(None, 784), name='x')
        D_real = discriminator(x, drop_out)
        scope.reuse_variables()  # D_fake uses D_real's variables, not new ones
        D_fake = discriminator(G_z, drop_out)

    # loss for each network: both minimize a negated log-likelihood
    D_loss = tf.reduce_mean(-tf.log(D_real + eps) - tf.log(1 - D_fake + eps))
    G_loss = tf.reduce_mean(-tf.log(D_fake + eps))

    # trainable variables for each network, told apart by name
    t_vars = tf.trainable_variables()
    D_vars = [var for var in t_vars if 'D_' in var.name]
    G_vars = [var for var in t_vars if 'G_' in var.name]

    # optimizer for each network: each step changes only its own network's variables
    D_optim = tf.train.AdamOptimizer(lr, beta1=adam_beta1).minimize(D_loss, var_list=D_vars)
    G_optim = tf.train.AdamOptimizer(lr, beta1=adam_beta1).minimize(G_loss, var_list=G_vars)

    # TensorBoard: losses fetched every summary_every steps, and the fixed-noise grid per epoch
    D_summary = tf.summary.scalar('loss/D', D_loss)
    G_summary = tf.summary.scalar('loss/G', G_loss)
    grid = tf.placeholder(tf.uint8, shape=(1, None, None, 1), name='grid')
    grid_summary = tf.summary.image('fixed_noise_grid', grid)
    return types.SimpleNamespace(**locals())


# ---------------------------------------------------------------------------------------------
# Pictures: sample grids and the loss plot, each a figure drawn once and updated per epoch
# ---------------------------------------------------------------------------------------------
class GridFigure:
    """A 5x5 grid of generated digits with a caption, as the reference's show_result drew it, but
    as one image instead of 25 subplots: about 15 ms a picture instead of several hundred."""

    def __init__(self):
        self.fig = plt.figure(figsize=(5, 5))  # 500 x 500 pixels, as the reference's
        ax = self.fig.add_axes([0.05, 0.07, 0.9, 0.9])  # 450 pixels: each image pixel drawn 3x3
        ax.axis('off')
        self.image = ax.imshow(np.zeros((150, 150)), cmap='gray', vmin=-1, vmax=1,
                               interpolation='nearest')
        self.caption = self.fig.text(0.5, 0.025, '', ha='center')

    def save(self, images, caption, path):
        """Save the first 25 images (N x 784, in [-1, 1]) and return the picture as gray uint8."""
        tiles = np.full((25, 30, 30), np.nan, np.float32)  # NaN: a blank 1-pixel frame per tile
        tiles[:len(images[:25]), 1:-1, 1:-1] = images[:25].reshape(-1, 28, 28)
        self.image.set_data(tiles.reshape(5, 5, 30, 30).transpose(0, 2, 1, 3).reshape(150, 150))
        self.caption.set_text(caption)
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')
        return np.asarray(self.fig.canvas.buffer_rgba())[..., 0].copy()


class LossFigure:
    """D and G loss per epoch, as the reference's show_train_hist drew it."""

    def __init__(self):
        self.fig, self.ax = plt.subplots()
        self.D_line, = self.ax.plot([], [], '.-', label='D_loss')
        self.G_line, = self.ax.plot([], [], '.-', label='G_loss')
        self.ax.set_xlabel('Epoch')
        self.ax.set_ylabel('Loss')
        self.ax.legend(loc=4)
        self.ax.grid(True)
        self.fig.tight_layout()

    def save(self, hist, path):
        epochs = np.arange(1, len(hist['D_losses']) + 1)
        self.D_line.set_data(epochs, hist['D_losses'])
        self.G_line.set_data(epochs, hist['G_losses'])
        self.ax.relim()
        self.ax.autoscale_view()
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')


def save_pickle(obj, path):
    with replaced_atomically(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(obj, f)


def save_gif(frames, path):
    with replaced_atomically(path) as tmp:
        # 5 fps, as the reference; optimize=False keeps one 256-gray palette for every frame,
        # without which Pillow reads a later frame in another mode than the first
        iio.imwrite(tmp, np.stack(frames), extension='.gif', duration=200, loop=0, optimize=False)


# ---------------------------------------------------------------------------------------------
# Checkpoints: weights and Adam state through Saver, plus a pickle of the rest of the run
# ---------------------------------------------------------------------------------------------
def checkpoint_dir():
    return os.path.join(results_dir, 'checkpoints')


def save_checkpoint(sess, saver, epoch, run_state):
    """The run state first, the Saver last: Saver updates its 'checkpoint' index file only after
    the weights are written, so a checkpoint listed there is whole."""
    save_pickle(run_state, os.path.join(checkpoint_dir(), f'run-{epoch}.pkl'))
    saver.save(sess, os.path.join(checkpoint_dir(), 'gan'), global_step=epoch,
               write_meta_graph=False)
    kept_epochs = {path.rsplit('-', 1)[1] for path in saver.last_checkpoints}
    for name in os.listdir(checkpoint_dir()):
        if name.startswith('run-') and name[len('run-'):-len('.pkl')] not in kept_epochs:
            os.remove(os.path.join(checkpoint_dir(), name))


def restore_checkpoint(sess, saver):
    """Restore the newest whole checkpoint and return its run state, or None if there is none.
    A damaged newest checkpoint is reported and the one before it used."""
    state = tf.train.get_checkpoint_state(checkpoint_dir())
    if state is None:
        return None
    paths = list(state.all_model_checkpoint_paths)
    for path in reversed(paths):
        epoch = path.rsplit('-', 1)[-1]
        try:
            with open(os.path.join(checkpoint_dir(), f'run-{epoch}.pkl'), 'rb') as f:
                run_state = pickle.load(f)
            saver.restore(sess, path)
        except (OSError, EOFError, pickle.UnpicklingError, tf.errors.OpError) as e:
            print(f'checkpoint of epoch {epoch} is damaged ({type(e).__name__}); '
                  f'trying the one before it')
            continue
        saver.recover_last_checkpoints(paths)
        return run_state
    raise InputError(f"every checkpoint in {checkpoint_dir()}/ is damaged. Run with "
                     f"--resume=False to delete this run and start over, or with another "
                     f"--results_dir to keep it.")


def check_same_run(run_state):
    """Refuse to continue a saved run with settings that would make it a different run."""
    saved = run_state['settings']
    differ = [name for name in RUN_SETTINGS if saved[name] != globals()[name]]
    if differ:
        raise InputError(
            f"{results_dir}/ holds a run trained with "
            + ', '.join(f'{n}={saved[n]!r}' for n in differ) + "; this run asks for "
            + ', '.join(f'{n}={globals()[n]!r}' for n in differ) + ". Resume it with its own "
            "settings, keep it and start another with a new --results_dir, or delete it and "
            "start over with --resume=False.")


RUN_FOLDERS = ('checkpoints', 'Fixed_results', 'Random_results', 'tensorboard')  # in results_dir


def clear_run():
    """--resume=False: delete what an earlier run left in results_dir."""
    for name in RUN_FOLDERS:
        path = os.path.join(results_dir, name)
        if os.path.isdir(path):
            for file in os.listdir(path):
                os.remove(os.path.join(path, file))
    for name in ('train_hist.pkl', 'MNIST_GAN_train_hist.png', 'generation_animation.gif'):
        if os.path.exists(os.path.join(results_dir, name)):
            os.remove(os.path.join(results_dir, name))


def prepare_results_dir():
    """Make results_dir and its subfolders, or explain why they cannot be made."""
    try:
        for name in RUN_FOLDERS:
            os.makedirs(os.path.join(results_dir, name), exist_ok=True)
        with open(os.path.join(results_dir, '.write_test'), 'w'):
            pass
        os.remove(os.path.join(results_dir, '.write_test'))
    except OSError as e:
        raise InputError(f"cannot write the results to {results_dir!r} ({e.strerror}: "
                         f"{e.filename}). Point --results_dir at a folder you can write to.") from None


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
class StopRequest:
    """Ctrl-C or SIGTERM ask the loop to stop after the current step, so that an interrupted run
    keeps its last checkpoint whole and writes its plot and GIF."""

    def __init__(self):
        self.signal = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)

    def handle(self, signum, frame):
        if self.signal:  # asked twice: stop now
            raise KeyboardInterrupt
        self.signal = signum

    def release(self):
        """After training, Ctrl-C and SIGTERM stop the script at once again."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def epoch_batches(train_set, rng):
    """One epoch's batches: consecutive slices as in the reference, of a fresh permutation when
    shuffle is on. The images that do not fill a last batch sit the epoch out."""
    images = train_set[rng.permutation(len(train_set))] if shuffle else train_set
    return [images[i * batch_size:(i + 1) * batch_size] for i in range(len(images) // batch_size)]


class RunOutputs:
    """What a run writes under results_dir besides checkpoints: the reference's grids, history,
    loss plot and GIF, and the TensorBoard events."""

    def __init__(self, graph, epochs_done):
        self.hist_path = os.path.join(results_dir, 'train_hist.pkl')
        self.plot_path = os.path.join(results_dir, 'MNIST_GAN_train_hist.png')
        self.gif_path = os.path.join(results_dir, 'generation_animation.gif')
        self.grid_figure, self.loss_figure = GridFigure(), LossFigure()
        self.writer = tf.summary.FileWriter(os.path.join(results_dir, 'tensorboard'), graph)
        # the GIF's frames: the Fixed grids, read back once when a run resumes
        done = [self.grid_path('Fixed', e + 1) for e in range(epochs_done)]
        self.fixed_frames = [iio.imread(path)[..., 0] for path in done if os.path.exists(path)]

    @staticmethod
    def grid_path(kind, epoch):
        return os.path.join(results_dir, f'{kind}_results', f'MNIST_GAN_{epoch}.png')

    def grids(self, sess, g, epoch, fixed_z_, random_z_, step):
        """The epoch's Random and Fixed grids, and the Fixed one in TensorBoard."""
        caption = f'Epoch {epoch}'
        self.grid_figure.save(sess.run(g.G_z, {g.z: random_z_}), caption,
                              self.grid_path('Random', epoch))
        frame = self.grid_figure.save(sess.run(g.G_z, {g.z: fixed_z_}), caption,
                                      self.grid_path('Fixed', epoch))
        self.fixed_frames.append(frame)
        self.writer.add_summary(sess.run(g.grid_summary, {g.grid: frame[None, :, :, None]}), step)

    def history(self, train_hist):
        save_pickle(train_hist, self.hist_path)
        self.loss_figure.save(train_hist, self.plot_path)

    def finish(self, train_hist):
        """The outputs that sum up the run so far: history, loss plot, GIF of the Fixed grids."""
        self.history(train_hist)
        if self.fixed_frames:
            save_gif(self.fixed_frames, self.gif_path)
        self.writer.flush()


def train(sess, g, mnist, train_set):
    saver = tf.train.Saver(max_to_keep=keep_checkpoints, save_relative_paths=True)
    rng = np.random.default_rng(seed)
    run_state = restore_checkpoint(sess, saver) if resume else None
    if run_state is None:
        sess.run(tf.global_variables_initializer())
        train_hist = {'D_losses': [], 'G_losses': [], 'per_epoch_ptimes': [], 'total_ptime': [0.0]}
        fixed_z_ = rng.standard_normal((25, 100), dtype=np.float32)  # the same noise every epoch
        start_epoch = 0
    else:
        check_same_run(run_state)
        train_hist, fixed_z_ = run_state['train_hist'], run_state['fixed_z']
        rng.bit_generator.state = run_state['rng_state']
        start_epoch = run_state['epoch']
        print(f'resuming from epoch {start_epoch} of {train_epoch} (saved in {checkpoint_dir()}/)')
    if start_epoch >= train_epoch:
        print(f'{results_dir}/ already holds {start_epoch} trained epochs; nothing to do. '
              f'Raise --train_epoch to train on.')
        return 0
    outputs = RunOutputs(sess.graph, start_epoch)
    stop = StopRequest()

    # training-loop
    n_batches = len(train_set) // batch_size
    bar = tqdm(total=train_epoch * n_batches, initial=start_epoch * n_batches, unit='step',
               file=sys.stdout, disable=not sys.stdout.isatty(), dynamic_ncols=True)
    earlier_ptime = train_hist['total_ptime'][0]  # wall time of the sessions before this one
    start_time = time.time()
    for epoch in range(start_epoch, train_epoch):
        bar.set_description(f'epoch {epoch + 1}/{train_epoch}')
        D_losses, G_losses = [], []
        epoch_start_time = time.time()
        for iter, x_ in enumerate(epoch_batches(train_set, rng)):
            step = epoch * n_batches + iter
            summarize = step % summary_every == 0
            # update discriminator
            z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)
            fetches = [g.D_loss, g.D_optim] + ([g.D_summary] if summarize else [])
            loss_d_, _, *summary_d = sess.run(fetches, {g.x: x_, g.z: z_, g.drop_out: keep_prob})
            D_losses.append(loss_d_)

            # update generator
            z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)
            fetches = [g.G_loss, g.G_optim] + ([g.G_summary] if summarize else [])
            loss_g_, _, *summary_g = sess.run(fetches, {g.z: z_, g.drop_out: keep_prob})
            G_losses.append(loss_g_)

            if summarize:
                outputs.writer.add_summary(summary_d[0], step)
                outputs.writer.add_summary(summary_g[0], step)
                bar.set_postfix(loss_d=f'{loss_d_:.3f}', loss_g=f'{loss_g_:.3f}', refresh=False)
            bar.update()
            if stop.signal:
                break
        if stop.signal:
            break  # the unfinished epoch is dropped; the last checkpoint is the last whole epoch
        per_epoch_ptime = time.time() - epoch_start_time
        loss_d, loss_g = np.mean(D_losses), np.mean(G_losses)
        tqdm.write(f'[{epoch + 1}/{train_epoch}] - ptime: {per_epoch_ptime:.2f} '
                   f'loss_d: {loss_d:.3f}, loss_g: {loss_g:.3f}', file=sys.stdout)
        if not (np.isfinite(loss_d) and np.isfinite(loss_g)):
            bar.close()
            outputs.finish(train_hist)
            raise InputError(f"training diverged in epoch {epoch + 1}: loss_d={loss_d}, "
                             f"loss_g={loss_g}. Nothing of this epoch was saved; the checkpoint of "
                             f"epoch {epoch} is kept. Try a smaller --lr, or a larger --eps.")

        # per-epoch outputs: the two grids, the history and loss plot, a checkpoint
        outputs.grids(sess, g, epoch + 1, fixed_z_, rng.standard_normal((25, 100), dtype=np.float32),
                      step)
        train_hist['D_losses'].append(loss_d)
        train_hist['G_losses'].append(loss_g)
        train_hist['per_epoch_ptimes'].append(per_epoch_ptime)
        if eval_every and (epoch + 1) % eval_every == 0:
            record_scores(sess, g, mnist, train_hist, epoch + 1, outputs.writer)
        train_hist['total_ptime'] = [earlier_ptime + time.time() - start_time]
        outputs.history(train_hist)
        save_checkpoint(sess, saver, epoch + 1, {
            'epoch': epoch + 1, 'settings': {name: globals()[name] for name in RUN_SETTINGS},
            'train_hist': train_hist, 'fixed_z': fixed_z_, 'rng_state': rng.bit_generator.state})
    train_hist['total_ptime'] = [earlier_ptime + time.time() - start_time]
    bar.close()
    stop.release()

    epochs_done = len(train_hist['D_losses'])
    if stop.signal:
        outputs.finish(train_hist)
        name = 'Ctrl-C' if stop.signal == signal.SIGINT else 'SIGTERM'
        print(f'{name}: stopped in epoch {epoch + 1}; {epochs_done} of {train_epoch} epochs are '
              f'saved in {results_dir}/. Run the same command to resume.')
        return 128 + stop.signal
    print(f"Avg per epoch ptime: {np.mean(train_hist['per_epoch_ptimes']):.2f}, "
          f"total {epochs_done} epochs ptime: {train_hist['total_ptime'][0]:.2f}")
    print('Training finish!... save training results')
    if eval_samples and not (eval_every and epochs_done % eval_every == 0):
        record_scores(sess, g, mnist, train_hist, epochs_done, outputs.writer)
    outputs.finish(train_hist)
    outputs.writer.close()
    return 0


def record_scores(sess, g, mnist, train_hist, epoch, writer):
    """Score eval_samples generated images; print, keep in the history and in TensorBoard."""
    figures = quality_figures(sess, g, mnist, eval_samples, epoch)
    train_hist.setdefault('scores', []).append(dict(figures, epoch=epoch))
    writer.add_summary(tf.Summary(value=[
        tf.Summary.Value(tag=f'quality/{name}', simple_value=value)
        for name, value in figures.items()]), epoch)


def quality_figures(sess, g, mnist, n, epoch):
    """Classifier score and Fréchet distance of n samples, with the real-data ceiling, printed."""
    import mnist_score  # only runs that score need it
    images = generate(sess, g, n, np.random.default_rng(seed + epoch))
    figures = mnist_score.score_images(images, mnist, os.path.join(data_dir, 'mnist_classifier.npz'))
    print(mnist_score.describe(figures, epoch, n))
    return figures


def generate(sess, g, n, rng):
    """n generated images (n x 784, float32 in [-1, 1]), made in chunks to bound memory."""
    chunks = [sess.run(g.G_z, {g.z: rng.standard_normal((min(10000, n - i), 100), dtype=np.float32)})
              for i in range(0, n, 10000)]
    return np.concatenate(chunks).astype(np.float32)


def restore_for_inference(sess):
    saver = tf.train.Saver()
    run_state = restore_checkpoint(sess, saver)
    if run_state is None:
        raise InputError(f"no checkpoint in {checkpoint_dir()}/ to sample from. Train first "
                         f"(python gan_mnist.py --results_dir={results_dir}), or point "
                         f"--results_dir at a folder holding a trained run.")
    return run_state['epoch']


def write_samples(sess, g):
    epoch = restore_for_inference(sess)
    images = generate(sess, g, sample, np.random.default_rng(seed))
    np.save(os.path.join(results_dir, 'samples.npy'), images)
    GridFigure().save(images, f'{sample} samples, epoch {epoch}',
                      os.path.join(results_dir, 'samples.png'))
    print(f'wrote {sample} samples of epoch {epoch} to {results_dir}/samples.npy and samples.png')


def evaluate_checkpoint(sess, g, mnist):
    quality_figures(sess, g, mnist, evaluate, restore_for_inference(sess))


def main(args):
    apply_overrides(args)
    check_settings()
    if (sample or evaluate) and not os.path.isdir(checkpoint_dir()):
        raise InputError(f"no checkpoint in {checkpoint_dir()}/: nothing trained to "
                         f"{'sample from' if sample else 'evaluate'}. Train first, or point "
                         f"--results_dir at a folder holding a trained run.")
    if not sample:
        # load MNIST; normalization: range -1 ~ 1
        mnist = read_data_sets(data_dir, one_hot=True)
        train_set = (mnist.train.images - 0.5) / 0.5
    if not (sample or evaluate):
        if batch_size > len(train_set):
            raise InputError(f"--batch_size={batch_size} is larger than the {len(train_set)} "
                             f"training images in {data_dir}/.")
        prepare_results_dir()
        if not resume:
            clear_run()
    tf.disable_eager_execution()
    tf.logging.set_verbosity(tf.logging.ERROR)  # compat.v1 calls warn that they are compat.v1
    with tf.Graph().as_default(), tf.Session() as sess:
        g = build_graph()
        if sample:
            write_samples(sess, g)
        elif evaluate:
            evaluate_checkpoint(sess, g, mnist)
        else:
            return train(sess, g, mnist, train_set)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        print(f'gan_mnist.py: error: {e}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print('gan_mnist.py: interrupted.', file=sys.stderr)
        sys.exit(130)
