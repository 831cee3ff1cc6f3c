"""A fully connected GAN on MNIST, in TensorFlow 1 style, running on TensorFlow 2.x.

A faithful port of tensorflow_MNIST_GAN.py from znxlwm/tensorflow-MNIST-GAN-DCGAN: graph,
placeholders, variable_scope, get_variable and Session, through tf.compat.v1. It reads in the
reference's order; each extra (resume, Ctrl-C, TensorBoard, scoring) is one call into a module
beside it: configurator.py, input_data.py, and the run machinery in backstage/.

    python gan_mnist.py                         # 100 epochs on MNIST_data/, outputs in results/
    python gan_mnist.py --train_epoch=1 --results_dir=/tmp/r   # any setting below, for one run
    python gan_mnist.py config/recipe.py        # a settings file first, then any --name=value
    python gan_mnist.py --sample=1000           # samples.npy from the latest checkpoint
    python gan_mnist.py --evaluate=10000        # sample-quality figures of the latest checkpoint
"""
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # the folder stays as cloned: no __pycache__ for the modules below
import configurator
import input_data  # the reference: from tensorflow.examples.tutorials.mnist import input_data

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
# better samples; each is off by default (the reference)
batch_norm = False    # batch normalization in G's hidden layers
ema_decay = 0.0       # > 0 (e.g. 0.999): pictures, samples, scores from G's weights' moving average
lr_decay_epochs = 0   # > 0: lr falls linearly to 0 over the last this many epochs (a shorter run: all of it)
label_smoothing = 0.0  # > 0 (e.g. 0.1): one-sided, D's target for real images is 1 - this
d_lr_ratio = 1.0      # D's learning rate is lr times this; > 1 lets D learn faster than G (TTUR)
minibatch_stddev = False  # D also sees how much the images of its batch differ (against collapse)
# speed
precision = 'float32'  # 'bfloat16': the matrix products in bfloat16, faster on CPUs with AMX or
                      # AVX512-BF16 (see the README); checkpoints are the same in either
# data
dataset = 'mnist'     # or 'fashion_mnist', 'kmnist': each downloaded on first use into a folder of its own
data_dir = 'MNIST_data'  # its files; or a folder of your own images (flat, or a subfolder a class)
data_url = input_data.DEFAULT_SOURCE_URL  # where missing MNIST files are downloaded from
channels = 1          # 3: color images, drawn in RGB
# outputs
results_dir = 'results'
resume = True         # continue the run saved in results_dir; False deletes that run and starts over
keep_checkpoints = 3  # how many end-of-epoch checkpoints to keep
summary_every = 50    # steps between TensorBoard loss points
eval_samples = 10000  # generated images scored at the end of training; 0 skips the scoring
eval_every = 0        # also score every this many epochs (costs time each time); 0 = only at the end
# instead of training
sample = 0            # N > 0: write N samples of a checkpoint to samples.npy, and samples.png by digit
digit = ''            # with sample: only samples the classifier takes for this class (7, or its name)
evaluate = 0          # N > 0: score N samples of a checkpoint and print the figures
interpolate = 0       # K > 0: K walks through G's noise, to interpolation.png and .gif
checkpoint = 'last'   # what sample/evaluate/interpolate load, or training goes back to: 'best', an epoch

# a settings file and --name=value arguments override the lines above (nanoGPT's configurator)
defaults = {name: value for name, value in globals().items()
            if isinstance(value, (bool, int, float, str)) and not name.startswith('_')}
settings = configurator.configure(sys.argv[1:], defaults)
# TensorFlow only now, so that a bad setting is refused in one line, before its start-up notes
import tensorflow.compat.v1 as tf

from backstage import bfloat16, kit, layers, sampling, training_run

settings = sampling.with_saved_network(settings, sys.argv[1:], defaults)  # to sample: the saved run's network
globals().update(settings)
training_run.new_graph()  # TF1: build a graph first, then run it in a Session; a new one each run

# load MNIST
mnist = input_data.read_data_sets(data_dir, one_hot=True, source_url=data_url, dataset=dataset, channels=channels)
train_set = (mnist.train.images - 0.5) / 0.5  # normalization; range: -1 ~ 1


# G(z) and D(x), fully connected; each layer's variables made by get_variable
def dense(x, w_name, b_name, n_out):
    """x @ w + b, its variables made by get_variable as in the reference; x @ w in `precision`."""
    w = tf.get_variable(w_name, [x.get_shape()[1], n_out],
                        initializer=tf.truncated_normal_initializer(mean=0, stddev=0.02))
    b = tf.get_variable(b_name, [n_out], initializer=tf.constant_initializer(0.))
    return bfloat16.computed_in(precision, tf.matmul, x, w) + b


def hidden(h):
    return tf.nn.relu(h) if leaky_slope == 0 else tf.nn.leaky_relu(h, alpha=leaky_slope)


def normalized(h, name, training):
    """Batch normalization (tf.layers' stand-in) when batch_norm is on: the batch's statistics in
    training, their moving averages (updated with each G step through UPDATE_OPS) when sampling."""
    return layers.batch_normalization(h, training=training, name=name) if batch_norm else h


def generator(x, training=True):
    """z (N x 100) -> 256 -> 512 -> 1024 -> 784 pixels (times 3 in color) in [-1, 1]."""
    h0 = hidden(normalized(dense(x, 'G_w0', 'G_b0', 256), 'G_bn0', training))
    h1 = hidden(normalized(dense(h0, 'G_w1', 'G_b1', 512), 'G_bn1', training))
    h2 = hidden(normalized(dense(h1, 'G_w2', 'G_b2', 1024), 'G_bn2', training))
    return tf.nn.tanh(dense(h2, 'G_w3', 'G_b3', 784 * channels))


def discriminator(x, drop_out):
    """x (N x 784) -> 1024 -> 512 -> 256 -> probability that x is real. drop_out is the keep
    probability, as TF1's tf.nn.dropout(x, 0.3) meant it; TF2's rate is the share dropped. The
    reference's D_b2 had shape [1024] and did not build; it is [256] here."""
    h0 = tf.nn.dropout(hidden(dense(x, 'D_w0', 'D_b0', 1024)), rate=1 - drop_out)
    h1 = tf.nn.dropout(hidden(dense(h0, 'D_w1', 'D_b1', 512)), rate=1 - drop_out)
    if minibatch_stddev:  # one more feature: the spread of each group of 4 images (Karras et al.)
        h1 = kit.with_minibatch_spread(h1)
    h2 = tf.nn.dropout(hidden(dense(h1, 'D_w2', 'D_b2', 256)), rate=1 - drop_out)
    return tf.sigmoid(dense(h2, 'D_w3', 'D_b3', 1))


tf.set_random_seed(seed)  # weight init and dropout masks

# networks : generator
with tf.variable_scope('G'):
    z = tf.placeholder(tf.float32, shape=(None, 100))
    G_z = generator(z)

# networks : discriminator
with tf.variable_scope('D') as scope:
    drop_out = tf.placeholder(dtype=tf.float32, name='drop_out')
    x = tf.placeholder(tf.float32, shape=(None, 784 * channels))
    D_real = discriminator(x, drop_out)
    scope.reuse_variables()  # D_fake uses D_real's variables, not new ones
    D_fake = discriminator(G_z, drop_out)

# loss for each network: both minimize a negated log-likelihood; eps keeps the logs finite
D_loss = tf.reduce_mean(-tf.log(D_real + eps) - tf.log(1 - D_fake + eps))
G_loss = tf.reduce_mean(-tf.log(D_fake + eps))
if label_smoothing:  # one-sided: real images count as real with probability 1 - label_smoothing
    D_loss = tf.reduce_mean(-(1 - label_smoothing) * tf.log(D_real + eps) - label_smoothing
                            * tf.log(1 - D_real + eps) - tf.log(1 - D_fake + eps))

# trainable variables for each network
t_vars = tf.trainable_variables()
D_vars = [var for var in t_vars if 'D_' in var.name]
G_vars = [var for var in t_vars if 'G_' in var.name]

# optimizer for each network: each step changes only its own network's variables
lr_scale = tf.Variable(1.0, trainable=False, name='lr_scale') if lr_decay_epochs else 1.0
D_optim = tf.train.AdamOptimizer(lr * lr_scale * d_lr_ratio, beta1=adam_beta1).minimize(D_loss, var_list=D_vars)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch_norm statistics
    G_optim = tf.train.AdamOptimizer(lr * lr_scale, beta1=adam_beta1).minimize(G_loss, var_list=G_vars)

# the generator the pictures, samples and scores come from: G_z's, or with batch_norm in inference
# mode, and with ema_decay the moving average of its weights, updated after every G step
G_sample, ema = G_z, None
if ema_decay:
    G_optim, ema = kit.averaged_after(G_optim, G_vars, ema_decay)
if batch_norm or ema_decay:
    with kit.reused_weights(ema), tf.variable_scope('G'):
        G_sample = generator(z, training=False)

# open session and initialize all variables
sess = tf.Session()  # the reference's InteractiveSession is meant for shells and notebooks
sess.run(tf.global_variables_initializer())

if sample or evaluate or interpolate:  # instead of training: use a checkpoint in results_dir (--checkpoint)
    sampling.instead_of_training(sess, G_sample, z, mnist, settings, model='MNIST_GAN_')
    sys.exit()

# results folder, checkpoints, TensorBoard, Ctrl-C; resume the run saved there, if any
run = training_run.TrainingRun(sess, G_sample, z, settings, data=mnist, model='MNIST_GAN_')
rng = np.random.default_rng(seed)  # the noise; the reference seeded np.random from the clock
fixed_z_ = rng.standard_normal((25, 100), dtype=np.float32)  # the same 25 inputs every epoch
train_hist = {'D_losses': [], 'G_losses': [], 'per_epoch_ptimes': [], 'total_ptime': [0.0]}
train_hist, fixed_z_ = run.resume(train_hist, fixed_z_, rng)
start_epoch = len(train_hist['D_losses'])

# training-loop
run.start(train_hist)  # progress bar, TensorBoard, the clock; Ctrl-C now stops after a step
for epoch in range(start_epoch, train_epoch):
    D_losses = []
    G_losses = []
    epoch_start_time = time.time()
    if shuffle:  # a new order every epoch; the reference slices the same order every time
        train_set = train_set[rng.permutation(len(train_set))]
    if lr_decay_epochs:
        lr_scale.load(min(1.0, (train_epoch - epoch) / min(lr_decay_epochs, train_epoch)), sess)
    for iter in range(train_set.shape[0] // batch_size):
        # update discriminator
        x_ = train_set[iter*batch_size:(iter+1)*batch_size]
        z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)

        loss_d_, _ = sess.run([D_loss, D_optim], {x: x_, z: z_, drop_out: keep_prob})
        D_losses.append(loss_d_)

        # update generator
        z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)
        loss_g_, _ = sess.run([G_loss, G_optim], {z: z_, drop_out: keep_prob})
        G_losses.append(loss_g_)

        run.step(loss_d_, loss_g_)  # progress bar; TensorBoard every summary_every steps
        if run.stop_requested:
            break
    if run.stop_requested:
        break  # the unfinished epoch is dropped: the last checkpoint is the last whole epoch

    per_epoch_ptime = time.time() - epoch_start_time
    run.print(f'[{epoch + 1}/{train_epoch}] - ptime: {per_epoch_ptime:.2f} '
              f'loss_d: {np.mean(D_losses):.3f}, loss_g: {np.mean(G_losses):.3f}')
    run.stop_if_diverged(epoch + 1, D_losses, G_losses, train_hist)  # a NaN loss keeps no epoch
    random_z_ = rng.standard_normal((25, 100), dtype=np.float32)
    run.show_result((epoch + 1), sess.run(G_sample, {z: random_z_}), isFix=False)
    run.show_result((epoch + 1), sess.run(G_sample, {z: fixed_z_}), isFix=True)
    train_hist['D_losses'].append(np.mean(D_losses))
    train_hist['G_losses'].append(np.mean(G_losses))
    train_hist['per_epoch_ptimes'].append(per_epoch_ptime)
    if eval_every and (epoch + 1) % eval_every == 0:
        run.score(epoch + 1, eval_samples, train_hist)
    run.save(epoch + 1, train_hist, fixed_z_, rng)  # history, loss plot, checkpoint

run.end_training(train_hist)
if run.stop_requested:  # Ctrl-C or SIGTERM: keep what is done, say how to go on
    sys.exit(run.interrupted(train_hist))
print(f"Avg per epoch ptime: {np.mean(train_hist['per_epoch_ptimes']):.2f}, "
      f"total {train_epoch} epochs ptime: {train_hist['total_ptime'][0]:.2f}")
print("Training finish!... save training results")
if eval_samples and not (eval_every and train_epoch % eval_every == 0):
    run.score(train_epoch, eval_samples, train_hist)
run.finish(train_hist)  # train_hist.pkl, the loss plot, and the GIF of the Fixed grids
sess.close()
