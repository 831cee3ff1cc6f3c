"""The backstage rooms on their own, without the script: the results folder, checkpoints with
their run state, the check that a saved run is the same run, Ctrl-C, TensorBoard summaries, the
grid, the leaky ReLU."""
import os
import re
import signal
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import DCGAN, SCRIPT, script_defaults

import input_data
from backstage import (
    layers,
    pictures,
    results_folder,
    sampling,
    stop_request,
    training_run,
)
from backstage.checkpoints import Checkpoints, check_same_run, older_name
from configurator import InputError, run_settings


def test_results_dir_gets_its_folders(tmp_path):
    results_folder.prepare(str(tmp_path / 'r'))
    assert sorted(os.listdir(tmp_path / 'r')) == sorted(results_folder.RUN_FOLDERS)


def test_results_dir_that_is_a_file_is_explained(tmp_path):
    (tmp_path / 'f').write_text('')
    with pytest.raises(InputError, match="cannot write the results to '.*f'"):
        results_folder.prepare(str(tmp_path / 'f'))


@pytest.fixture
def variable_session():
    """A session on a graph holding one variable v."""
    with tf.Graph().as_default(), tf.Session() as sess:
        v = tf.get_variable('v', [3], initializer=tf.zeros_initializer())
        sess.run(tf.global_variables_initializer())
        yield sess, v


def save_epochs(sess, v, checkpoints, epochs, best=()):
    for epoch in epochs:
        sess.run(v.assign([epoch] * 3))
        checkpoints.save(sess, epoch, {'epoch': epoch, 'settings': {},
                                       'fixed_z': np.zeros((25, 100), np.float32)},
                         is_best=epoch in best)


def kept_files(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(('.index', '.json')))


def test_checkpoints_round_trip_and_keep_the_newest(variable_session, tmp_path):
    sess, v = variable_session
    checkpoints = Checkpoints(str(tmp_path), keep=2)
    save_epochs(sess, v, checkpoints, [1, 2, 3])
    assert kept_files(tmp_path) == ['gan-2.index', 'gan-3.index', 'run-2.json', 'run-3.json']
    sess.run(v.assign([0, 0, 0]))
    assert checkpoints.restore(sess)['epoch'] == 3
    assert list(sess.run(v)) == [3, 3, 3]


def test_the_best_is_kept_besides_the_last(variable_session, tmp_path, capsys):
    sess, v = variable_session
    checkpoints = Checkpoints(str(tmp_path), keep=2)
    save_epochs(sess, v, checkpoints, [1, 2, 3, 4, 5], best=[1, 2])
    assert kept_files(tmp_path) == ['best-2.index', 'gan-4.index', 'gan-5.index',
                                    'run-2.json', 'run-4.json', 'run-5.json']
    assert checkpoints.restore(sess, 'best')['epoch'] == 2 and list(sess.run(v)) == [2, 2, 2]
    assert checkpoints.restore(sess, '4')['epoch'] == 4 and list(sess.run(v)) == [4, 4, 4]
    with pytest.raises(InputError, match='epoch 3 is not kept .* the kept ones are 4, 5 and the best, 2'):
        checkpoints.restore(sess, '3')


def test_no_best_without_scores_is_explained(variable_session, tmp_path):
    sess, v = variable_session
    checkpoints = Checkpoints(str(tmp_path), keep=2)
    save_epochs(sess, v, checkpoints, [1])
    with pytest.raises(InputError, match='holds no best checkpoint: the run was not scored'):
        checkpoints.restore(sess, 'best')


def test_going_back_drops_the_later_checkpoints(variable_session, tmp_path):
    sess, v = variable_session
    checkpoints = Checkpoints(str(tmp_path), keep=3)
    save_epochs(sess, v, checkpoints, [1, 2, 3, 4], best=[1, 4])
    checkpoints.drop_after(2)
    assert kept_files(tmp_path) == ['gan-2.index', 'run-2.json']
    assert not os.path.exists(tmp_path / 'best_checkpoint')
    assert checkpoints.restore(sess)['epoch'] == 2
    save_epochs(sess, v, checkpoints, [3])  # training goes on from there
    assert kept_files(tmp_path) == ['gan-2.index', 'gan-3.index', 'run-2.json', 'run-3.json']


def test_a_damaged_newest_checkpoint_falls_back(variable_session, tmp_path, capsys):
    sess, v = variable_session
    checkpoints = Checkpoints(str(tmp_path), keep=2)
    save_epochs(sess, v, checkpoints, [1, 2])
    os.remove(tmp_path / 'run-2.json')
    assert checkpoints.restore(sess)['epoch'] == 1
    assert list(sess.run(v)) == [1, 1, 1]
    assert 'checkpoint of epoch 2 is damaged' in capsys.readouterr().out


@pytest.mark.parametrize('graph_has', [{'v': [3], 'w': [2]}, {'v': [4]}])
def test_a_checkpoint_that_does_not_fit_the_graph_is_kept_not_called_damaged(
        variable_session, tmp_path, capsys, graph_has):
    sess, v = variable_session
    save_epochs(sess, v, Checkpoints(str(tmp_path), keep=2), [1, 2])
    with tf.Graph().as_default(), tf.Session() as other:
        for name, shape in graph_has.items():
            tf.get_variable(name, shape, initializer=tf.zeros_initializer())
        with pytest.raises(InputError, match=rf"checkpoint .*gan-2 does not hold {list(graph_has)[-1]} as "
                                             r"this script's graph has it \(missing, or in another shape\)"):
            Checkpoints(str(tmp_path), keep=2).restore(other)
    assert 'damaged' not in capsys.readouterr().out
    assert kept_files(tmp_path) == ['gan-1.index', 'gan-2.index', 'run-1.json', 'run-2.json']


def test_a_checkpoint_saved_before_the_layers_took_tf_layers_names_restores(tmp_path):
    """Runs saved by bfd0255 and earlier named a layer's variables conv1_kernel, bn1_mean,
    bn1_var (and Adam's slots after them); this version's are conv1/kernel, bn1/moving_mean,
    bn1/moving_variance. The older names are read into the newer variables, and saved anew."""
    old = {'generator/conv1_kernel': 1.0, 'generator/conv1_kernel/Adam': 2.0, 'generator/bn1_mean': 3.0,
           'generator/bn1_var': 4.0, 'G/G_w0': 5.0}
    with tf.Graph().as_default(), tf.Session() as sess:
        for name, value in old.items():
            tf.get_variable(name, [2], initializer=tf.constant_initializer(value))
        sess.run(tf.global_variables_initializer())
        Checkpoints(str(tmp_path)).save(sess, 1, {'epoch': 1, 'settings': {}, 'fixed_z': np.zeros((1, 100))})
    new = ['generator/conv1/kernel', 'generator/conv1/kernel/Adam', 'generator/bn1/moving_mean',
           'generator/bn1/moving_variance', 'G/G_w0']
    assert [older_name(name) for name in new] == list(old)
    with tf.Graph().as_default(), tf.Session() as sess:
        variables = [tf.get_variable(name, [2], initializer=tf.zeros_initializer()) for name in new]
        checkpoints = Checkpoints(str(tmp_path))
        assert checkpoints.restore(sess)['epoch'] == 1
        assert [list(values) for values in sess.run(variables)] == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0],
                                                                    [5.0, 5.0]]
        checkpoints.save(sess, 2, {'epoch': 2, 'settings': {}, 'fixed_z': np.zeros((1, 100))})
    assert sorted(name for name, _ in tf.train.list_variables(str(tmp_path / 'gan-2'))) == sorted(new)


def test_no_checkpoint_is_none(variable_session, tmp_path):
    sess, _ = variable_session
    assert Checkpoints(str(tmp_path)).restore(sess) is None


def test_a_run_with_other_training_settings_is_refused():
    settings = script_defaults()
    check_same_run(dict(settings), settings)
    with pytest.raises(InputError, match='holds a run trained with lr=0.001, seed=3; this run '
                                         'asks for lr=0.0002, seed=0'):
        check_same_run(dict(settings, lr=0.001, seed=3), settings)


def test_ctrl_c_asks_once_then_stops_at_once_and_puts_back_the_handlers_it_found(capsys):
    def kernels_own(signum, frame):  # a notebook kernel's handler, say
        pass
    signal.signal(signal.SIGINT, kernels_own)
    let_go = []
    try:
        stop = stop_request.StopRequest(lambda: let_go.append(True))
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signal == signal.SIGINT and not let_go
        with pytest.raises(SystemExit) as stopped:
            os.kill(os.getpid(), signal.SIGINT)
        assert stopped.value.code == 130 and let_go == [True]
        assert capsys.readouterr().err.endswith(': SIGINT again: stopped at once; the epochs saved '
                                                'before stay whole.\n')
        assert signal.getsignal(signal.SIGINT) is kernels_own
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_run_an_error_ended_in_a_kernel_hands_ctrl_c_back(capsys):
    """A story whose own lines raised (a kernel lives on) leaves its StopRequest installed: the
    next Ctrl-C finds the story no longer running and goes to the kernel's handler, the handlers
    put back and the run let go of; and a next run's start puts them back too."""
    def kernels_own(signum, frame):
        heard.append(signum)
    heard, let_go = [], []
    signal.signal(signal.SIGINT, kernels_own)

    def story():  # a story's module: a run starts, then an error leaves it
        stop_request.StopRequest(lambda: let_go.append('first'), story=story.__code__)
        raise RuntimeError('a TensorFlow error in the story\'s own lines')
    try:
        with pytest.raises(RuntimeError):
            story()
        assert signal.getsignal(signal.SIGINT) is not kernels_own  # what the error left
        os.kill(os.getpid(), signal.SIGINT)
        assert heard == [signal.SIGINT] and let_go == ['first'] and signal.getsignal(signal.SIGINT) is kernels_own
        with pytest.raises(RuntimeError):
            story()
        second = stop_request.StopRequest(lambda: let_go.append('second'))
        assert let_go == ['first', 'first'] and second.found[signal.SIGINT] is kernels_own
        second.release()
        assert signal.getsignal(signal.SIGINT) is kernels_own and stop_request.StopRequest.installed is None
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_lrelu_is_the_references_leaky_relu_forward_and_back_in_one_op_each_way():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(1000), [0.0, -0.0, 1e-40, -1e-40]]).astype(np.float32)
    upstream = rng.standard_normal(len(values)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        X = tf.constant(values)
        ours, references = layers.lrelu(X, 0.2), tf.maximum(0.2 * X, X)
        grads = [tf.gradients(y, X, upstream)[0] for y in (ours, references)]
        (ours_, references_), (ours_grad, references_grad) = sess.run([[ours, references], grads])
    assert np.array_equal(ours_, references_) and np.array_equal(ours_grad, references_grad)  # at 0 too
    assert (ours.op.type, grads[0].op.type) == ('LeakyRelu', 'LeakyReluGrad')


def test_summaries_made_from_values():
    values = training_run.scalars({'loss/D': np.float32(0.5), 'loss/G': 2}).value
    assert [(v.tag, v.simple_value) for v in values] == [('loss/D', 0.5), ('loss/G', 2.0)]
    picture = np.arange(12, dtype=np.uint8).reshape(3, 4)
    image = pictures.image_summary('grid', picture).value[0].image
    assert (image.height, image.width, image.colorspace) == (3, 4, 1)
    assert np.array_equal(iio.imread(image.encoded_image_string, extension='.png'), picture)


def test_grid_is_500_pixels_and_returns_what_it_saved(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (30, 784)).astype(np.float32)
    path = str(tmp_path / 'grid.png')
    frame = pictures.GridFigure().save(images, 'Epoch 1', path)
    assert frame.shape == (500, 500) and frame.dtype == np.uint8
    assert np.array_equal(iio.imread(path)[..., 0], frame)


def test_starting_over_deletes_only_the_files_the_script_writes(tmp_path, capsys):
    results = tmp_path / 'r'
    results_folder.prepare(str(results))
    ours = ['train_hist.pkl', 'MNIST_GAN_train_hist.png', 'MNIST_GAN_quality.png',
            'generation_animation.gif', 'samples.npy', 'samples.png', 'checkpoints/checkpoint',
            'checkpoints/best_checkpoint', 'checkpoints/gan-3.index',
            'checkpoints/gan-3.data-00000-of-00001', 'checkpoints/best-2.index',
            'checkpoints/run-3.json', 'checkpoints/run-3.npz', 'checkpoints/run-1.pkl',
            'Fixed_results/MNIST_GAN_12.png', 'Random_results/MNIST_GAN_1.png',
            'tensorboard/events.out.tfevents.1795739481.host.gan_mnist']
    theirs = ['notes.txt', 'checkpoints/my-notes.txt', 'checkpoints/model.ckpt-3.index',
              'Fixed_results/MNIST_GAN_best.png', 'tensorboard/events.out.tfevents.1795739481.host',
              'samples.npy.bak']
    (results / 'Random_results').mkdir()
    for name in ours + theirs:
        (results / name).write_text('x')
    results_folder.clear_run(str(results), 'MNIST_GAN_')
    assert not [name for name in ours if (results / name).exists()]
    assert all((results / name).exists() for name in theirs)
    assert f'left {len(theirs)} file(s) the script did not write' in capsys.readouterr().out


def test_one_training_run_per_results_dir(tmp_path):
    """Another process holding the lock (as filelock takes it for a run) refuses this one, naming
    it; once that process ends, however it ends, the lock is free."""
    lock_file = os.path.join(tmp_path, results_folder.LOCK_NAME)
    holds = ('import filelock, sys, time; held = filelock.FileLock(sys.argv[1]); held.acquire(); '
             'print("held", flush=True); time.sleep(60)')
    holder = subprocess.Popen([sys.executable, '-c', holds, lock_file],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        with pytest.raises(InputError, match=f'is in use by another training run \\(process {holder.pid}\\)'):
            results_folder.lock(str(tmp_path))
    finally:
        holder.kill()
        holder.communicate()
    results_folder.lock(str(tmp_path)).release()


def test_a_lock_this_process_still_holds_is_taken_over(tmp_path):
    """A notebook kernel whose last run stopped on an error before letting go of the lock: its
    next run in that folder takes the lock over instead of being refused by itself."""
    first = results_folder.lock(str(tmp_path))
    second = results_folder.lock(str(tmp_path))
    assert second.is_locked and not first.is_locked
    second.release()
    assert not second.is_locked


def test_run_state_is_json_and_npz_never_a_pickle(variable_session, tmp_path):
    sess, _ = variable_session
    checkpoints = Checkpoints(str(tmp_path))
    fixed_z = np.random.default_rng(0).standard_normal((25, 100), dtype=np.float32)
    rng = np.random.default_rng(5)
    state = {'epoch': 1, 'settings': {'lr': 0.0002}, 'fixed_z': fixed_z,
             'train_hist': {'D_losses': [np.float32(0.5)]}, 'rng_state': rng.bit_generator.state}
    checkpoints.save(sess, 1, state)
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith('run-')) == ['run-1.json', 'run-1.npz']
    restored = checkpoints.restore(sess)
    assert np.array_equal(restored['fixed_z'], fixed_z) and restored['fixed_z'].dtype == np.float32
    assert restored['train_hist'] == {'D_losses': [0.5]}
    again = np.random.default_rng(0)
    again.bit_generator.state = restored['rng_state']
    assert again.random() == rng.random()  # the noise goes on where it stopped


@pytest.mark.parametrize('script, newer', [
    (SCRIPT, ('d_lr_ratio', 'minibatch_stddev')),
    (DCGAN, ('adam_beta1', 'keep_prob', 'label_smoothing', 'd_lr_ratio', 'minibatch_stddev',
             'kernel_size', 'g_dense_units', 'd_dense_units', 'g_dense_layers'))])
def test_a_run_saved_before_the_newest_settings_was_trained_without_them(variable_session,
                                                                           tmp_path, script, newer):
    sess, _ = variable_session
    checkpoints = Checkpoints(str(tmp_path))
    defaults = script_defaults(script)
    older = {name: value for name, value in run_settings(defaults).items() if name not in newer}
    if script == DCGAN:  # its one width, before G's and D's had their own
        older['width'] = older.pop('g_width')
        del older['d_width']
    checkpoints.save(sess, 1, {'epoch': 1, 'settings': older, 'fixed_z': np.zeros((25, 100))})
    saved = checkpoints.saved_settings()
    assert {name: saved[name] for name in newer} == {name: defaults[name] for name in newer}
    check_same_run(saved, defaults)  # the defaults: the reference's, as those runs were
    with pytest.raises(InputError, match=r"trained with d_lr_ratio=1.0; this run asks for d_lr_ratio=2.0"):
        check_same_run(saved, dict(defaults, d_lr_ratio=2.0))


def test_a_run_trained_with_a_removed_setting_is_refused_naming_the_commit_that_has_it(variable_session, tmp_path):
    sess, _ = variable_session
    checkpoints = Checkpoints(str(tmp_path))
    defaults = script_defaults(DCGAN)
    checkpoints.save(sess, 1, {'epoch': 1, 'settings': dict(run_settings(defaults), g_start='conv', d_batch_norm=True),
                               'fixed_z': np.zeros((25, 100))})
    check_same_run(checkpoints.saved_settings(), defaults)  # the values this version builds
    checkpoints.save(sess, 2, {'epoch': 2, 'settings': dict(run_settings(defaults), g_start='dense', g_extra_layers=1),
                               'fixed_z': np.zeros((25, 100))})
    with pytest.raises(InputError, match=re.escape("holds a run trained with g_start='dense', g_extra_layers=1, "
                                                   "which this version of the script no longer builds "
                                                   "(`git checkout 89fbded` does)")):
        check_same_run(checkpoints.saved_settings(), defaults)


def test_a_run_saved_as_pickles_is_not_loaded(variable_session, tmp_path):
    sess, _ = variable_session
    (tmp_path / 'run-1.pkl').write_bytes(b'cos\nsystem\n(S"touch /tmp/pwned"\ntR.')
    (tmp_path / 'checkpoint').write_text('model_checkpoint_path: "gan-1"\n'
                                         'all_model_checkpoint_paths: "gan-1"\n')
    with pytest.raises(InputError, match='older version of gan_mnist.py, as pickles'):
        Checkpoints(str(tmp_path)).restore(sess)


def test_going_back_in_a_folder_with_no_checkpoint_is_refused(variable_session, tmp_path):
    sess, _ = variable_session
    settings = dict(script_defaults(), results_dir=str(tmp_path), checkpoint='best')
    G_sample = tf.placeholder(tf.float32, (None, 784))
    data = input_data.Datasets(*[input_data.DataSet(np.zeros((55000, 784)), None)] * 3)
    run = training_run.TrainingRun(sess, G_sample, None, settings, data=data, model='MNIST_GAN_')
    with pytest.raises(InputError, match='--checkpoint=best: .* holds no checkpoint to go back to'):
        run.resume({}, None, np.random.default_rng(0))


class RecordingSession:
    """Stands in for a Session running a generator: images from the noise, each batch recorded."""

    def __init__(self):
        self.batches = []

    def run(self, G_sample, feed):
        noise, = feed.values()
        self.batches.append(len(noise))
        return np.tanh(noise[:, :1] * np.linspace(-1, 1, 784, dtype=np.float32))


def test_samples_go_into_one_npy_a_chunk_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(sampling, 'CHUNK', 7)
    sess = RecordingSession()
    G_sample, z = tf.placeholder(tf.float32, (None, 784)), tf.placeholder(tf.float32, (None, 100))
    G = sampling.Drawn(sess, G_sample, z)
    chunks = (images for images, _ in G.chunks(G_sample, np.random.default_rng(3), sampling.chunk_sizes(30)))
    first = sampling.write_samples(str(tmp_path / 's.npy'), 30, (784,), chunks)
    assert sess.batches == [7, 7, 7, 7, 2]  # never more than a chunk in memory
    expected = np.concatenate([images for images, _ in G.chunks(G_sample, np.random.default_rng(3), sampling.chunk_sizes(30))])
    saved = np.load(tmp_path / 's.npy')
    assert saved.shape == (30, 784) and saved.dtype == np.float32
    np.testing.assert_array_equal(saved, expected)
    np.testing.assert_array_equal(first, expected[:25])
