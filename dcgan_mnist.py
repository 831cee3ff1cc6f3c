"""A DCGAN on MNIST, in TensorFlow 1 style, running on TensorFlow 2.x.

A faithful port of tensorflow_MNIST_DCGAN.py from znxlwm/tensorflow-MNIST-GAN-DCGAN, the second
script of the repository gan_mnist.py follows: graph, placeholders, variable_scope and Session,
through tf.compat.v1, in the reference's order; each extra (resume, Ctrl-C, TensorBoard,
scoring) is one call into the modules gan_mnist.py uses. The defaults are the reference's 64x64
networks, a GPU's work (about 80 minutes an epoch on 2 CPU cores); config/dcgan_cpu.py is a
28x28 form that trains on a CPU.

    python dcgan_mnist.py                       # the reference: 20 epochs at 64x64 (a GPU's job)
    python dcgan_mnist.py config/dcgan_cpu.py   # 28x28 and narrower layers: 2 CPU cores
    python dcgan_mnist.py --sample=1000         # samples.npy from the latest checkpoint
    python dcgan_mnist.py --evaluate=10000      # sample-quality figures of the latest checkpoint
"""
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # the folder stays as cloned: no __pycache__ for the modules below
import configurator
import input_data  # the reference: from tensorflow.examples.tutorials.mnist import input_data

# ---------------------------------------------------------------------------------------------
# Settings: edit them here, or override any for one run: python dcgan_mnist.py --name=value
# ---------------------------------------------------------------------------------------------
# training parameters (the reference's)
batch_size = 100
lr = 0.0002
train_epoch = 20
# the networks' size and shape; the defaults are the reference's
img_size = 64         # the training images are resized to this; 28 keeps MNIST's own size
g_width = 1024        # channels of G's first layer; halved layer by layer towards the image
d_width = 1024        # channels of D's last hidden layer; halved layer by layer towards the image
kernel_size = 4       # the stride-2 layers' kernels: 4x4 (the reference), 5x5 (TensorFlow's tutorial)
g_dense_units = 0     # > 0: a hidden dense layer of this many units takes z first (InfoGAN's G: 1024)
g_dense_layers = 1    # how many such layers, one after another (the fully connected G has 3)
d_dense_units = 0     # > 0: a hidden dense layer of this many units before D's output (InfoGAN's D)
# better samples: the fully connected recipe's kit; each default is the reference's
adam_beta1 = 0.5      # Adam's first-moment decay; 0.5 is the reference's
keep_prob = 1.0       # D keeps this share of its hidden units (dropout); 1.0 keeps all (the reference)
d_lr_ratio = 1.0      # D's learning rate is lr times this; > 1 lets D learn faster than G (TTUR)
lr_decay_epochs = 0   # > 0: lr falls linearly to 0 over the last this many epochs (a shorter run: all of it)
label_smoothing = 0.0  # > 0 (e.g. 0.1): one-sided, D's target for real images is 1 - this
minibatch_stddev = False  # D's last layer also sees how much each group of 4 in its batch differs
shuffle = False       # reshuffle the training images every epoch; the reference slices them in order
ema_decay = 0.0       # > 0 (e.g. 0.999): pictures, samples, scores from G's weights' moving average
seed = 0              # numpy noise and weight init; the reference seeded from the clock
# speed
precision = 'float32'  # 'bfloat16': matrix products and convolutions in bfloat16, faster on CPUs with AMX
                      # or AVX512-BF16 (see the README); checkpoints are the same in either
# data
dataset = 'mnist'     # or 'fashion_mnist', 'kmnist': each downloaded on first use into a folder of its own
data_dir = 'MNIST_data'  # its files; or a folder of your own images (flat, or a subfolder a class)
data_url = input_data.DEFAULT_SOURCE_URL  # where missing MNIST files are downloaded from
channels = 1          # 3: color images, drawn in RGB
# outputs
results_dir = 'results/dcgan'
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
from backstage.layers import lrelu  # the reference's leaky ReLU

settings = sampling.with_saved_network(settings, sys.argv[1:], defaults)  # to sample: the saved run's network
globals().update(settings)
training_run.new_graph()  # TF1: build a graph first, then run it in a Session; a new one each run

n_up = 1  # stride-2 layers: 4 at 64x64 (4 -> 8 -> 16 -> 32 -> 64), 2 at 28x28 (7 -> 14 -> 28)
while img_size % 2 ** (n_up + 1) == 0 and img_size // 2 ** (n_up + 1) >= 4:
    n_up += 1
first = img_size // 2 ** n_up  # the side of G's first layer and of D's last: 4 at 64x64


def d_hidden(h, name, isTrain):  # D's hidden layers after its first: batch norm, leaky ReLU, dropout
    return dropout(lrelu(layers.batch_normalization(h, training=isTrain, name=name), 0.2))


def dropout(h):  # keep_prob < 1: D drops the rest of its units (D only runs in training steps)
    return tf.nn.dropout(h, rate=1 - keep_prob) if keep_prob < 1 else h


# G(z): at 64x64, 1x1x100 -> 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x1 (x3 in color)
def generator(x, isTrain=True, reuse=False):
    with tf.variable_scope('generator', reuse=reuse):
        # 1st hidden layer
        if g_dense_units:  # z's features, each seeing all of z, before any image takes shape
            x = tf.reshape(x, [-1, 100])
            for i in range(1, g_dense_layers + 1):
                suffix = f'_{i}' if i > 1 else ''  # dense0, bn0 as before g_dense_layers; then dense0_2, ...
                x = lrelu(layers.batch_normalization(layers.dense(x, g_dense_units, name=f'dense0{suffix}'), training=isTrain, name=f'bn0{suffix}'), 0.2)
            x = tf.reshape(x, [-1, 1, 1, g_dense_units])
        conv1 = layers.conv2d_transpose(x, g_width, [first, first], strides=(1, 1), padding='valid', name='conv1')
        lrelu1 = lrelu(layers.batch_normalization(conv1, training=isTrain, name='bn1'), 0.2)

        # 2nd to 4th hidden layers at 64x64 (fewer at a smaller img_size), each twice the side
        h = lrelu1
        for i in range(2, n_up + 1):
            conv = layers.conv2d_transpose(h, g_width // 2 ** (i - 1), [kernel_size, kernel_size], strides=(2, 2), padding='same', name=f'conv{i}')
            h = lrelu(layers.batch_normalization(conv, training=isTrain, name=f'bn{i}'), 0.2)

        # output layer
        conv5 = layers.conv2d_transpose(h, channels, [kernel_size, kernel_size], strides=(2, 2), padding='same', name='conv_out')
        o = tf.nn.tanh(conv5)

        return o


# D(x): at 64x64, 64x64x1 -> 32x32x128 -> 16x16x256 -> 8x8x512 -> 4x4x1024 -> 1x1x1
def discriminator(x, isTrain=True, reuse=False):
    with tf.variable_scope('discriminator', reuse=reuse):
        # 1st hidden layer
        conv1 = layers.conv2d(x, d_width // 2 ** (n_up - 1), [kernel_size, kernel_size], strides=(2, 2), padding='same', name='conv1')
        lrelu1 = dropout(lrelu(conv1, 0.2))

        # 2nd to 4th hidden layers at 64x64, each half the side and twice the channels
        h = lrelu1
        for i in range(2, n_up + 1):
            conv = layers.conv2d(h, d_width // 2 ** (n_up - i), [kernel_size, kernel_size], strides=(2, 2), padding='same', name=f'conv{i}')
            h = d_hidden(conv, f'bn{i}', isTrain)
        if d_dense_units:  # features of the whole image, each seeing every channel everywhere
            h = layers.dense(tf.reshape(h, [-1, first * first * h.get_shape()[-1]]), d_dense_units, name='dense')
            h = d_hidden(h, 'dense_bn', isTrain)
        if minibatch_stddev:  # one more channel: the spread of each group of 4 images (Karras et al.)
            h = kit.with_minibatch_spread(h)

        # output layer
        if d_dense_units:
            conv5 = tf.reshape(layers.dense(h, 1, name='dense_out'), [-1, 1, 1, 1])
        else:
            conv5 = layers.conv2d(h, 1, [first, first], strides=(1, 1), padding='valid', name='conv_out')
        o = tf.nn.sigmoid(conv5)

        return o, conv5


# load MNIST
mnist = input_data.read_data_sets(data_dir, one_hot=True, reshape=[], source_url=data_url, dataset=dataset,
                                  channels=channels, size=img_size)  # the last two: beyond MNIST

tf.set_random_seed(seed)  # weight init

# variables : input
x = tf.placeholder(tf.float32, shape=(None, img_size, img_size, channels))
z = tf.placeholder(tf.float32, shape=(None, 1, 1, 100))
isTrain = tf.placeholder(dtype=tf.bool)

# networks : generator
G_z = generator(z, isTrain)

# networks : discriminator
D_real, D_real_logits = discriminator(x, isTrain)
D_fake, D_fake_logits = discriminator(G_z, isTrain, reuse=True)

# loss for each network
D_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_real_logits, labels=tf.ones([batch_size, 1, 1, 1])))
D_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.zeros([batch_size, 1, 1, 1])))
if label_smoothing:  # one-sided: real images count as real with probability 1 - label_smoothing
    D_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_real_logits, labels=tf.fill([batch_size, 1, 1, 1], 1 - label_smoothing)))
D_loss = D_loss_real + D_loss_fake
G_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.ones([batch_size, 1, 1, 1])))

# trainable variables for each network
T_vars = tf.trainable_variables()
D_vars = [var for var in T_vars if var.name.startswith('discriminator')]
G_vars = [var for var in T_vars if var.name.startswith('generator')]

# optimizer for each network; each step also updates every batch norm's moving statistics
lr_scale = tf.Variable(1.0, trainable=False, name='lr_scale') if lr_decay_epochs else 1.0
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    D_optim = tf.train.AdamOptimizer(lr * lr_scale * d_lr_ratio, beta1=adam_beta1).minimize(D_loss, var_list=D_vars)
    G_optim = tf.train.AdamOptimizer(lr * lr_scale, beta1=adam_beta1).minimize(G_loss, var_list=G_vars)

# the generator the pictures, samples and scores come from: G_z with isTrain False, as the
# reference's show_result fed it, and with ema_decay the moving average of its weights
ema = None
if ema_decay:
    G_optim, ema = kit.averaged_after(G_optim, G_vars, ema_decay)
with kit.reused_weights(ema):
    G_sample = generator(z, False, reuse=True)

# open session and initialize all variables
sess = tf.Session(config=bfloat16.session_config(precision))  # the reference's InteractiveSession: for shells
sess.run(tf.global_variables_initializer())

if sample or evaluate or interpolate:  # instead of training: use a checkpoint in results_dir (--checkpoint)
    sampling.instead_of_training(sess, G_sample, z, mnist, settings, model='MNIST_DCGAN_')
    sys.exit()

# MNIST resize and normalization; the images go in through a placeholder, not as a constant
# that would copy all of them into the graph (and into TensorBoard's picture of it)
images = tf.placeholder(tf.float32, shape=(None, *mnist.train.images.shape[1:]))
train_set = sess.run(tf.image.resize_images(images, [img_size, img_size]), {images: mnist.train.images})
train_set = (train_set - 0.5) / 0.5  # normalization; range: -1 ~ 1

# results folder, checkpoints, TensorBoard, Ctrl-C; resume the run saved there, if any
model = 'MNIST_DCGAN_'
run = training_run.TrainingRun(sess, G_sample, z, settings, data=mnist, model=model,
                               prefix_all=True)  # MNIST_DCGAN_train_hist.pkl, as the reference
rng = np.random.default_rng(seed)  # the noise; the reference seeded np.random from the clock
fixed_z_ = rng.standard_normal((25, 1, 1, 100), dtype=np.float32)  # the same 25 inputs every epoch
train_hist = {'D_losses': [], 'G_losses': [], 'per_epoch_ptimes': [], 'total_ptime': [0.0]}
train_hist, fixed_z_ = run.resume(train_hist, fixed_z_, rng)
start_epoch = len(train_hist['D_losses'])

# training-loop
run.start(train_hist)  # progress bar, TensorBoard, the clock; Ctrl-C now stops after a step
for epoch in range(start_epoch, train_epoch):
    G_losses = []
    D_losses = []
    epoch_start_time = time.time()
    if shuffle:  # a new order every epoch; the reference slices the same order every time
        train_set = train_set[rng.permutation(len(train_set))]
    if lr_decay_epochs:
        lr_scale.load(min(1.0, (train_epoch - epoch) / min(lr_decay_epochs, train_epoch)), sess)
    for iter in range(train_set.shape[0] // batch_size):
        # update discriminator
        x_ = train_set[iter*batch_size:(iter+1)*batch_size]
        z_ = rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)

        loss_d_, _ = sess.run([D_loss, D_optim], {x: x_, z: z_, isTrain: True})
        D_losses.append(loss_d_)

        # update generator
        z_ = rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)
        loss_g_, _ = sess.run([G_loss, G_optim], {z: z_, x: x_, isTrain: True})
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
run.finish(train_hist)  # the history, the loss plot, and the GIF of the Fixed grids
sess.close()
