"""A conditional DCGAN on MNIST, in TensorFlow 1 style, running on TensorFlow 2.x: G draws the
digit it is asked for.

A faithful port of tensorflow_MNIST_cDCGAN.py from znxlwm/tensorflow-MNIST-cGAN-cDCGAN: the
label goes in as a 1x1x10 input beside G's noise and as ten 28x28 planes beside D's image,
through tf.compat.v1, in the reference's order; each extra (resume, Ctrl-C, TensorBoard,
scoring) is one call into the modules gan_mnist.py uses. Departures: G's labels are drawn from 0
to 9 (the reference's stopped at 8: numpy's randint excludes its high end), and the losses recorded are
those the two training steps return (the reference evaluated all three again after them). The
defaults are the reference's networks, a GPU's work (4-5 minutes an epoch on 2 CPU cores);
config/cdcgan_cpu.py trains on a CPU.

    python cdcgan_mnist.py                      # the reference: 30 epochs (a GPU's job)
    python cdcgan_mnist.py config/cdcgan_cpu.py # narrower, with dense layers: 2 CPU cores
    python cdcgan_mnist.py config/cdcgan_cpu.py --sample=100 --digit=7   # 100 sevens
"""
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # the folder stays as cloned: no __pycache__ for the modules below
import configurator
import input_data  # the reference: from tensorflow.examples.tutorials.mnist import input_data

# ---------------------------------------------------------------------------------------------
# Settings: edit them here, or override any for one run: python cdcgan_mnist.py --name=value
# ---------------------------------------------------------------------------------------------
# training parameters (the reference's)
batch_size = 100
lr = 0.0002           # where the reference's decay starts ...
lr_decay_steps = 500  # ... times lr_decay_rate after every this many D steps
lr_decay_rate = 0.95  # 1.0: no such decay (nor with lr_decay_epochs below, which takes its place)
train_epoch = 30
# the networks' size and shape; the defaults are the reference's
g_width = 256         # channels of G's 7x7 layer; its 14x14 layer has half
d_width = 256         # channels of D's 7x7 layer; its 14x14 layer has half
kernel_size = 5       # the stride-2 layers' kernels
g_dense_units = 0     # > 0: hidden dense layers of this many units take z and the label first (InfoGAN's G: 1024)
g_dense_layers = 1    # how many such layers, one after another
d_dense_units = 0     # > 0: a hidden dense layer of this many units before D's output (InfoGAN's D)
# better samples: the recipe's kit; each default is the reference's
d_lr_ratio = 1.0      # D's learning rate is lr times this; > 1 lets D learn faster than G (TTUR)
lr_decay_epochs = 0   # > 0: lr falls linearly to 0 over the last this many epochs instead (a shorter run: all of it)
minibatch_stddev = False  # D's last layer also sees how much each group of 4 in its batch differs
ema_decay = 0.0       # > 0 (e.g. 0.999): pictures, samples, scores from G's weights' moving average
seed = 0              # numpy noise and weight init; the reference seeded from the clock
# speed
precision = 'float32'  # 'bfloat16': convolutions and products in bfloat16, faster on CPUs with AMX (see the README)
# data
dataset = 'mnist'     # or 'fashion_mnist', 'kmnist': each downloaded on first use into a folder of its own
data_dir = 'MNIST_data'  # its files; or a folder of your own images (flat, or a subfolder a class)
data_url = input_data.DEFAULT_SOURCE_URL  # where missing MNIST files are downloaded from
channels = 1          # 3: color images, drawn in RGB
# outputs
results_dir = 'results/cdcgan'
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


# G(z, y): 1x1x(100 + 10) -> 7x7x256 -> 14x14x128 -> 28x28x1 (x3 in color; 10: the classes)
def generator(x, y_label, isTrain=True, reuse=False):
    with tf.variable_scope('generator', reuse=reuse):
        # initializer
        w_init = tf.truncated_normal_initializer(mean=0.0, stddev=0.02)
        b_init = tf.constant_initializer(0.0)

        # concat layer
        cat1 = tf.concat([x, y_label], 3)
        if g_dense_units:  # features of z and the label, each seeing all of both, before any image takes shape
            cat1 = tf.reshape(kit.dense_layers(cat1, g_dense_units, g_dense_layers, isTrain), [-1, 1, 1, g_dense_units])

        # 1st hidden layer
        deconv1 = layers.conv2d_transpose(cat1, g_width, [7, 7], strides=(1, 1), padding='valid', kernel_initializer=w_init, bias_initializer=b_init)
        lrelu1 = lrelu(layers.batch_normalization(deconv1, training=isTrain), 0.2)

        # 2nd hidden layer
        deconv2 = layers.conv2d_transpose(lrelu1, g_width // 2, [kernel_size, kernel_size], strides=(2, 2), padding='same', kernel_initializer=w_init, bias_initializer=b_init)
        lrelu2 = lrelu(layers.batch_normalization(deconv2, training=isTrain), 0.2)

        # output layer
        deconv3 = layers.conv2d_transpose(lrelu2, channels, [kernel_size, kernel_size], strides=(2, 2), padding='same', kernel_initializer=w_init, bias_initializer=b_init)
        o = tf.nn.tanh(deconv3)

        return o


# D(x, y): 28x28x(1 + 10) -> 14x14x128 -> 7x7x256 -> 1x1x1
def discriminator(x, y_fill, isTrain=True, reuse=False):
    with tf.variable_scope('discriminator', reuse=reuse):
        # initializer
        w_init = tf.truncated_normal_initializer(mean=0.0, stddev=0.02)
        b_init = tf.constant_initializer(0.0)

        # concat layer
        cat1 = tf.concat([x, y_fill], 3)

        # 1st hidden layer
        conv1 = layers.conv2d(cat1, d_width // 2, [kernel_size, kernel_size], strides=(2, 2), padding='same', kernel_initializer=w_init, bias_initializer=b_init)
        lrelu1 = lrelu(conv1, 0.2)

        # 2nd hidden layer
        conv2 = layers.conv2d(lrelu1, d_width, [kernel_size, kernel_size], strides=(2, 2), padding='same', kernel_initializer=w_init, bias_initializer=b_init)
        lrelu2 = lrelu(layers.batch_normalization(conv2, training=isTrain), 0.2)
        if d_dense_units:  # features of the whole image, each seeing every channel everywhere
            lrelu2 = kit.dense_layers(lrelu2, d_dense_units, 1, isTrain)
        if minibatch_stddev:  # one more feature: the spread of each group of 4 images (Karras et al.)
            lrelu2 = kit.with_minibatch_spread(lrelu2)

        # output layer
        if d_dense_units:
            conv3 = tf.reshape(layers.dense(lrelu2, 1, kernel_initializer=w_init), [-1, 1, 1, 1])
        else:
            conv3 = layers.conv2d(lrelu2, 1, [7, 7], strides=(1, 1), padding='valid', kernel_initializer=w_init)
        o = tf.nn.sigmoid(conv3)

        return o, conv3


# preprocess
img_size = 28

# training parameters: lr decays on D's steps, which count global_step (unless it falls linearly: lr_decay_epochs)
global_step = tf.Variable(0, trainable=False)
lr = tf.train.exponential_decay(lr, global_step, lr_decay_steps, 1.0 if lr_decay_epochs else lr_decay_rate, staircase=True)
# load MNIST
mnist = input_data.read_data_sets(data_dir, one_hot=True, reshape=[], source_url=data_url, dataset=dataset,
                                  channels=channels, size=img_size, labelled=True)  # the last four: beyond MNIST
n_classes = len(mnist.classes)  # MNIST's 10 digits, or another data set's classes
onehot = np.eye(n_classes).astype(np.float32)  # float32 as the placeholders: G's label planes (3 MB a step) go in unconverted

tf.set_random_seed(seed)  # weight init

# variables : input
x = tf.placeholder(tf.float32, shape=(None, img_size, img_size, channels))
z = tf.placeholder(tf.float32, shape=(None, 1, 1, 100))
y_label = tf.placeholder(tf.float32, shape=(None, 1, 1, n_classes))
y_fill = tf.placeholder(tf.float32, shape=(None, img_size, img_size, n_classes))
isTrain = tf.placeholder(dtype=tf.bool)

# networks : generator
G_z = generator(z, y_label, isTrain)

# networks : discriminator
D_real, D_real_logits = discriminator(x, y_fill, isTrain)
D_fake, D_fake_logits = discriminator(G_z, y_fill, isTrain, reuse=True)

# loss for each network
D_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_real_logits, labels=tf.ones([batch_size, 1, 1, 1])))
D_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.zeros([batch_size, 1, 1, 1])))
D_loss = D_loss_real + D_loss_fake
G_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake_logits, labels=tf.ones([batch_size, 1, 1, 1])))

# trainable variables for each network
T_vars = tf.trainable_variables()
D_vars = [var for var in T_vars if var.name.startswith('discriminator')]
G_vars = [var for var in T_vars if var.name.startswith('generator')]

# optimizer for each network; only D's step counts global_step
lr_scale = tf.Variable(1.0, trainable=False, name='lr_scale') if lr_decay_epochs else 1.0
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    optim = tf.train.AdamOptimizer(lr * lr_scale * d_lr_ratio, beta1=0.5)
    D_optim = optim.minimize(D_loss, global_step=global_step, var_list=D_vars)
    G_optim = tf.train.AdamOptimizer(lr * lr_scale, beta1=0.5).minimize(G_loss, var_list=G_vars)

# the generator the pictures, samples and scores come from: G_z with isTrain False, as the
# reference's show_result fed it, and with ema_decay the moving average of its weights
ema = None
if ema_decay:
    G_optim, ema = kit.averaged_after(G_optim, G_vars, ema_decay)
with kit.reused_weights(ema):
    G_sample = generator(z, y_label, False, reuse=True)

# open session and initialize all variables
sess = tf.Session(config=bfloat16.session_config(precision))  # the reference's InteractiveSession: for shells
sess.run(tf.global_variables_initializer())

if sample or evaluate or interpolate:  # instead of training: use a checkpoint in results_dir (--checkpoint)
    sampling.instead_of_training(sess, G_sample, z, mnist, settings, model='MNIST_cDCGAN_', labels=y_label)
    sys.exit()

# MNIST normalization
train_set = (mnist.train.images - 0.5) / 0.5
train_label = mnist.train.labels

# results folder, checkpoints, TensorBoard, Ctrl-C; resume the run saved there, if any
model = 'MNIST_cDCGAN_'
run = training_run.TrainingRun(sess, G_sample, z, settings, data=mnist, model=model,
                               prefix_all=True, labels=y_label)  # MNIST_cDCGAN_train_hist.pkl, as the reference
rng = np.random.default_rng(seed)  # the noise and the order; the reference seeded from the clock
fixed_z_, fixed_y_ = sampling.fixed_grid(rng, z, y_label)  # the reference's 10x10: row d asks for digit d
train_hist = {'D_losses': [], 'G_losses': [], 'per_epoch_ptimes': [], 'total_ptime': [0.0]}
train_hist, fixed_z_ = run.resume(train_hist, fixed_z_, rng)
start_epoch = len(train_hist['D_losses'])
fill = np.ones([batch_size, img_size, img_size, n_classes], np.float32)  # a label times this: its planes

# training-loop
run.start(train_hist)  # progress bar, TensorBoard, the clock; Ctrl-C now stops after a step
for epoch in range(start_epoch, train_epoch):
    G_losses = []
    D_losses = []
    epoch_start_time = time.time()
    shuffle_idxs = rng.permutation(train_set.shape[0])  # the reference: random.sample(...), unseeded
    shuffled_set = train_set[shuffle_idxs]
    shuffled_label = train_label[shuffle_idxs]
    if lr_decay_epochs:
        lr_scale.load(min(1.0, (train_epoch - epoch) / min(lr_decay_epochs, train_epoch)), sess)
    for iter in range(shuffled_set.shape[0] // batch_size):
        # update discriminator
        x_ = shuffled_set[iter*batch_size:(iter+1)*batch_size]
        y_label_ = shuffled_label[iter*batch_size:(iter+1)*batch_size].reshape([batch_size, 1, 1, n_classes])
        y_fill_ = y_label_ * fill
        z_ = rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)

        loss_d_, _ = sess.run([D_loss, D_optim], {x: x_, z: z_, y_fill: y_fill_, y_label: y_label_, isTrain: True})
        D_losses.append(loss_d_)

        # update generator
        z_ = rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)
        y_ = rng.integers(0, n_classes, (batch_size, 1))  # every class: the reference's high end, 9, was never drawn
        y_label_ = onehot[y_.astype(np.int32)].reshape([batch_size, 1, 1, n_classes])
        y_fill_ = y_label_ * fill
        loss_g_, _ = sess.run([G_loss, G_optim], {z: z_, x: x_, y_fill: y_fill_, y_label: y_label_, isTrain: True})
        G_losses.append(loss_g_)  # the reference evaluated its losses again here, in inference mode

        run.step(loss_d_, loss_g_)  # progress bar; TensorBoard every summary_every steps
        if run.stop_requested:
            break
    if run.stop_requested:
        break  # the unfinished epoch is dropped: the last checkpoint is the last whole epoch

    per_epoch_ptime = time.time() - epoch_start_time
    run.print(f'[{epoch + 1}/{train_epoch}] - ptime: {per_epoch_ptime:.2f} '
              f'loss_d: {np.mean(D_losses):.3f}, loss_g: {np.mean(G_losses):.3f}')
    run.stop_if_diverged(epoch + 1, D_losses, G_losses, train_hist)  # a NaN loss keeps no epoch
    run.show_result((epoch + 1), sess.run(G_sample, {z: fixed_z_, y_label: fixed_y_}), isFix=True)
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
