"""A conditional GAN on MNIST, in TensorFlow 1 style, running on TensorFlow 2.x: G draws the
digit it is asked for.

A faithful port of tensorflow_MNIST_cGAN.py from znxlwm/tensorflow-MNIST-cGAN-cDCGAN (Mirza and
Osindero's conditional GAN): the digit's one-hot label goes in beside z to G and beside the image
to D, through tf.compat.v1, in the reference's order; each extra (resume, Ctrl-C, TensorBoard,
scoring) is one call into the modules gan_mnist.py uses. One departure shows in every picture:
G's labels are drawn from 0 to 9; the reference's stopped at 8 (numpy's randint excludes its high end).

    python cgan_mnist.py                        # 100 epochs, outputs in results/cgan
    python cgan_mnist.py --sample=1000          # samples.npy and labels.npy, 100 of each digit
    python cgan_mnist.py --sample=100 --digit=7 # 100 samples G drew when asked for a 7
    python cgan_mnist.py --interpolate=10       # walks through the noise, and from digit to digit
"""
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # the folder stays as cloned: no __pycache__ for the modules below
import configurator
import input_data  # the reference: from tensorflow.examples.tutorials.mnist import input_data

# ---------------------------------------------------------------------------------------------
# Settings: edit them here, or override any for one run: python cgan_mnist.py --name=value
# ---------------------------------------------------------------------------------------------
# training parameters (the reference's)
batch_size = 100
lr = 0.0002
train_epoch = 100
# better samples: the recipe's kit; each default is the reference's
d_lr_ratio = 1.0      # D's learning rate is lr times this; > 1 lets D learn faster than G (TTUR)
lr_decay_epochs = 0   # > 0: lr falls linearly to 0 over the last this many epochs (a shorter run: all of it)
shuffle = False       # reshuffle the training images every epoch; the reference slices them in order
ema_decay = 0.0       # > 0 (e.g. 0.999): pictures, samples, scores from G's weights' moving average
seed = 0              # numpy noise and weight init; the reference seeded from the clock
# speed
precision = 'float32'  # 'bfloat16': the matrix products in bfloat16, faster on CPUs with AMX (see the README)
# data
dataset = 'mnist'     # or 'fashion_mnist', 'kmnist': each downloaded on first use into a folder of its own
data_dir = 'MNIST_data'  # its files; or a folder of your own images (flat, or a subfolder a class)
data_url = input_data.DEFAULT_SOURCE_URL  # where missing MNIST files are downloaded from
channels = 1          # 3: color images, drawn in RGB
# outputs
results_dir = 'results/cgan'
resume = True         # continue the run saved in results_dir; False deletes that run and starts over
keep_checkpoints = 3  # how many end-of-epoch checkpoints to keep
summary_every = 50    # steps between TensorBoard loss points
eval_samples = 10000  # generated images scored at the end of training; 0 skips the scoring
eval_every = 0        # also score every this many epochs (costs time each time); 0 = only at the end
# instead of training
sample = 0            # N > 0: write N samples of a checkpoint, 0-9 in turn, to samples.npy and labels.npy
digit = ''            # with sample: G is asked for this class only (7, or its name: three, Sneaker)
evaluate = 0          # N > 0: score N samples of a checkpoint and print the figures, label accuracy too
interpolate = 0       # K > 0: K walks through G's noise and K from digit to digit, to .png and .gif
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


# G(z, y): the noise beside the class's one-hot label -> 128 units -> a 784-pixel image (x3 in color)
def generator(x, y, isTrain=True, reuse=False):
    with tf.variable_scope('generator', reuse=reuse):
        w_init = tf.glorot_uniform_initializer()  # the reference's tf.contrib.layers.xavier_initializer()

        cat1 = tf.concat([x, y], 1)

        dense1 = layers.dense(cat1, 128, kernel_initializer=w_init)
        relu1 = tf.nn.relu(dense1)

        dense2 = layers.dense(relu1, 784 * channels, kernel_initializer=w_init)
        o = tf.nn.tanh(dense2)

        return o


# D(x, y): the image beside the class's one-hot label -> 128 units -> the probability it is real
def discriminator(x, y, isTrain=True, reuse=False):
    with tf.variable_scope('discriminator', reuse=reuse):
        w_init = tf.glorot_uniform_initializer()

        cat1 = tf.concat([x, y], 1)

        dense1 = layers.dense(cat1, 128, kernel_initializer=w_init)
        lrelu1 = lrelu(dense1, 0.2)

        dense2 = layers.dense(lrelu1, 1, kernel_initializer=w_init)
        o = tf.nn.sigmoid(dense2)

        return o, dense2


# load MNIST
mnist = input_data.read_data_sets(data_dir, one_hot=True, source_url=data_url, dataset=dataset, channels=channels,
                                  labelled=True)  # the last three: beyond MNIST (a folder: its classes)
train_set = (mnist.train.images - 0.5) / 0.5  # normalization; range: -1 ~ 1
train_label = mnist.train.labels

# label preprocess
n_classes = len(mnist.classes)  # MNIST's 10 digits, or another data set's classes
onehot = np.eye(n_classes)

tf.set_random_seed(seed)  # weight init

# variables : input
x = tf.placeholder(tf.float32, shape=(None, 784 * channels))
y = tf.placeholder(tf.float32, shape=(None, n_classes))
z = tf.placeholder(tf.float32, shape=(None, 100))
isTrain = tf.placeholder(dtype=tf.bool)

# networks : generator
G_z = generator(z, y, isTrain)

# networks : discriminator
D_real, D_real_logits = discriminator(x, y, isTrain)
D_fake, D_fake_logits = discriminator(G_z, y, isTrain, reuse=True)

# loss for each network
D_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_real_logits, labels=tf.ones([batch_size, 1])))
D_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.zeros([batch_size, 1])))
D_loss = D_loss_real + D_loss_fake
G_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.ones([batch_size, 1])))

# trainable variables for each network
T_vars = tf.trainable_variables()
D_vars = [var for var in T_vars if var.name.startswith('discriminator')]
G_vars = [var for var in T_vars if var.name.startswith('generator')]

# optimizer for each network
lr_scale = tf.Variable(1.0, trainable=False, name='lr_scale') if lr_decay_epochs else 1.0
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    D_optim = tf.train.AdamOptimizer(lr * lr_scale * d_lr_ratio, beta1=0.5).minimize(D_loss, var_list=D_vars)
    G_optim = tf.train.AdamOptimizer(lr * lr_scale, beta1=0.5).minimize(G_loss, var_list=G_vars)

# the generator the pictures, samples and scores come from: G_z with isTrain False, as the
# reference's show_result fed it, and with ema_decay the moving average of its weights
ema = None
if ema_decay:
    G_optim, ema = kit.averaged_after(G_optim, G_vars, ema_decay)
with kit.reused_weights(ema):
    G_sample = generator(z, y, False, reuse=True)

# open session and initialize all variables
sess = tf.Session(config=bfloat16.session_config(precision))  # the reference's InteractiveSession: for shells
sess.run(tf.global_variables_initializer())

if sample or evaluate or interpolate:  # instead of training: use a checkpoint in results_dir (--checkpoint)
    sampling.instead_of_training(sess, G_sample, z, mnist, settings, model='MNIST_cGAN_', labels=y)
    sys.exit()

# results folder, checkpoints, TensorBoard, Ctrl-C; resume the run saved there, if any
model = 'MNIST_cGAN_'
run = training_run.TrainingRun(sess, G_sample, z, settings, data=mnist, model=model,
                               prefix_all=True, labels=y)  # MNIST_cGAN_train_hist.pkl, as the reference
rng = np.random.default_rng(seed)  # the noise; the reference seeded np.random from the clock
fixed_z_, fixed_y_ = sampling.fixed_grid(rng, z, y)  # the reference's 10x10: row d asks for digit d
train_hist = {'D_losses': [], 'G_losses': [], 'per_epoch_ptimes': [], 'total_ptime': [0.0]}
train_hist, fixed_z_ = run.resume(train_hist, fixed_z_, rng)
start_epoch = len(train_hist['D_losses'])

# training-loop
run.start(train_hist)  # progress bar, TensorBoard, the clock; Ctrl-C now stops after a step
for epoch in range(start_epoch, train_epoch):
    G_losses = []
    D_losses = []
    epoch_start_time = time.time()
    if shuffle:  # a new order every epoch, images and labels alike; the reference slices one order
        order = rng.permutation(len(train_set))
        train_set, train_label = train_set[order], train_label[order]
    if lr_decay_epochs:
        lr_scale.load(min(1.0, (train_epoch - epoch) / min(lr_decay_epochs, train_epoch)), sess)
    for iter in range(len(train_set) // batch_size):
        # update discriminator
        x_ = train_set[iter * batch_size:(iter + 1) * batch_size]
        y_ = train_label[iter * batch_size:(iter + 1) * batch_size]

        z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)

        loss_d_, _ = sess.run([D_loss, D_optim], {x: x_, y: y_, z: z_, isTrain: True})
        D_losses.append(loss_d_)

        # update generator
        z_ = rng.standard_normal((batch_size, 100), dtype=np.float32)
        y_ = rng.integers(0, n_classes, (batch_size, 1))  # every class: the reference's high end, 9, was never drawn
        y_ = onehot[y_.astype(np.int32)].squeeze()
        loss_g_, _ = sess.run([G_loss, G_optim], {z: z_, x: x_, y: y_, isTrain: True})
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
    run.show_result((epoch + 1), sess.run(G_sample, {z: fixed_z_, y: fixed_y_}), isFix=True)
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
