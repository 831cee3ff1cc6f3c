"""tf.function twins of the stories' networks, for bench.py: the same layers, written with Keras
and stepped by two tf.function steps (D, then G, each one GradientTape), as TensorFlow 2 code
would have them. Each story's twin reads the story's settings (a dict), so that a preset's
networks are what is timed; the moving average of G's weights, which a story updates after G's
step, is left out (it only makes the story's step longer).

    python experiments/twins.py '{"story": "cdcgan_mnist.py", ...}'   # prints ms per iteration
"""
import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project's root
from backstage.kit import with_minibatch_spread


def normalized_lrelu():
    return [layers.BatchNormalization(momentum=0.99, epsilon=1e-3), layers.LeakyReLU(0.2)]


def dense_layers(units, count):
    return [layers.Flatten()] + [part for _ in range(count) for part in (layers.Dense(units), *normalized_lrelu())]


def fully_connected(s):
    """gan_mnist.py: G 100-256-512-1024-784, D 784-1024-512-256-1 with dropout."""
    hidden = layers.ReLU if s['leaky_slope'] == 0 else lambda: layers.LeakyReLU(s['leaky_slope'])
    G = [keras.Input((100,))]
    for units in (256, 512, 1024):
        G += [layers.Dense(units)] + ([layers.BatchNormalization()] if s['batch_norm'] else []) + [hidden()]
    D = [keras.Input((784,))]
    for units in (1024, 512, 256):
        D += [layers.Dense(units), hidden(), layers.Dropout(1 - s['keep_prob'])]
        if units == 512 and s['minibatch_stddev']:
            D += [layers.Lambda(with_minibatch_spread)]
    return keras.Sequential(G + [layers.Dense(784, activation='tanh')]), keras.Sequential(D + [layers.Dense(1)])


def dcgan(s):
    """dcgan_mnist.py: n_up stride-2 layers from a first x first side, dense layers if asked."""
    n_up, first, k = s['n_up'], s['first'], s['kernel_size']
    dropped = [layers.Dropout(1 - s['keep_prob'])] if s['keep_prob'] < 1 else []
    G = [keras.Input((1, 1, 100))]
    if s['g_dense_units']:
        G += dense_layers(s['g_dense_units'], s['g_dense_layers']) + [layers.Reshape((1, 1, s['g_dense_units']))]
    G += [layers.Conv2DTranspose(s['g_width'], first), *normalized_lrelu()]
    for i in range(2, n_up + 1):
        G += [layers.Conv2DTranspose(s['g_width'] // 2 ** (i - 1), k, 2, 'same'), *normalized_lrelu()]
    G = keras.Sequential(G + [layers.Conv2DTranspose(1, k, 2, 'same', activation='tanh')])
    D = [keras.Input((s['img_size'], s['img_size'], 1)),
         layers.Conv2D(s['d_width'] // 2 ** (n_up - 1), k, 2, 'same'), layers.LeakyReLU(0.2), *dropped]
    for i in range(2, n_up + 1):
        D += [layers.Conv2D(s['d_width'] // 2 ** (n_up - i), k, 2, 'same'), *normalized_lrelu(), *dropped]
    if s['d_dense_units']:
        D += [layers.Flatten(), layers.Dense(s['d_dense_units']), *normalized_lrelu(), *dropped]
    D += [layers.Lambda(with_minibatch_spread)] if s['minibatch_stddev'] else []
    D += [layers.Dense(1), layers.Reshape((1, 1, 1))] if s['d_dense_units'] else [layers.Conv2D(1, first)]
    return G, keras.Sequential(D)


def cgan(s):
    """cgan_mnist.py: the label beside z (G) and beside the image (D); 128 hidden units each."""
    z, y, x = keras.Input((100,)), keras.Input((10,)), keras.Input((784,))
    g = layers.Dense(128, activation='relu')(layers.Concatenate()([z, y]))
    d = layers.LeakyReLU(0.2)(layers.Dense(128)(layers.Concatenate()([x, y])))
    return keras.Model([z, y], layers.Dense(784, activation='tanh')(g)), keras.Model([x, y], layers.Dense(1)(d))


def cdcgan(s):
    """cdcgan_mnist.py: 1x1x(100 + 10) -> 7x7 -> 14x14 -> 28x28 in G; the image beside ten label
    planes in D, which the twin tiles from the label in its graph."""
    k, z, y, x = s['kernel_size'], keras.Input((1, 1, 100)), keras.Input((1, 1, 10)), keras.Input((28, 28, 1))
    g = layers.Concatenate()([z, y])
    if s['g_dense_units']:
        for part in dense_layers(s['g_dense_units'], s['g_dense_layers']) + [layers.Reshape((1, 1, s['g_dense_units']))]:
            g = part(g)
    for part in [layers.Conv2DTranspose(s['g_width'], 7), *normalized_lrelu(),
                 layers.Conv2DTranspose(s['g_width'] // 2, k, 2, 'same'), *normalized_lrelu(),
                 layers.Conv2DTranspose(1, k, 2, 'same', activation='tanh')]:
        g = part(g)
    d = layers.Concatenate()([x, layers.Lambda(lambda y: tf.tile(y, [1, 28, 28, 1]))(y)])
    parts = [layers.Conv2D(s['d_width'] // 2, k, 2, 'same'), layers.LeakyReLU(0.2),
             layers.Conv2D(s['d_width'], k, 2, 'same'), *normalized_lrelu()]
    parts += dense_layers(s['d_dense_units'], 1) if s['d_dense_units'] else []
    parts += [layers.Lambda(with_minibatch_spread)] if s['minibatch_stddev'] else []
    parts += [layers.Dense(1), layers.Reshape((1, 1, 1))] if s['d_dense_units'] else [layers.Conv2D(1, 7)]
    for part in parts:
        d = part(d)
    return keras.Model([z, y], g), keras.Model([x, y], d)


TWINS = {'gan_mnist.py': fully_connected, 'dcgan_mnist.py': dcgan, 'cgan_mnist.py': cgan, 'cdcgan_mnist.py': cdcgan}


def ms_per_iteration(s):
    """ms per iteration (one D step and one G step, batch_size each) of the twin of s['story']."""
    G, D = TWINS[s['story']](s)
    conditional = s['story'].startswith('c')
    d_lr = s['lr'] * s.get('d_lr_ratio', 1.0)
    D_adam = keras.optimizers.Adam(d_lr, beta_1=s.get('adam_beta1', 0.5))
    G_adam = keras.optimizers.Adam(s['lr'], beta_1=s.get('adam_beta1', 0.5))
    eps = s.get('eps')  # the fully connected story's loss: -log(D + eps), on D's probabilities

    def loss(logits, label):
        if eps is not None:
            p = tf.sigmoid(logits)
            return tf.reduce_mean(-tf.math.log(p + eps) if label else -tf.math.log(1 - p + eps))
        labels = tf.fill(tf.shape(logits), float(label))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=labels))

    def inputs(images, y):
        return [images, y] if conditional else images

    @tf.function
    def d_step(x, z, y):
        with tf.GradientTape() as tape:
            fake = G(inputs(z, y), training=True)
            total = loss(D(inputs(x, y), training=True), 1) + loss(D(inputs(fake, y), training=True), 0)
        D_adam.apply_gradients(zip(tape.gradient(total, D.trainable_variables), D.trainable_variables))
        return total

    @tf.function
    def g_step(x, z, y):
        with tf.GradientTape() as tape:
            D(inputs(x, y), training=True)  # as the stories' G step, which also runs D on x
            total = loss(D(inputs(G(inputs(z, y), training=True), y), training=True), 1)
        G_adam.apply_gradients(zip(tape.gradient(total, G.trainable_variables), G.trainable_variables))
        return total

    n, rng = s['batch_size'], np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, *D.inputs[0].shape[1:])).astype(np.float32)
    noise_shape, label_shape = G.inputs[0].shape[1:], (G.inputs[1].shape[1:] if conditional else (10,))

    def iteration():
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)].reshape((n, *label_shape))
        d_step(x, rng.standard_normal((n, *noise_shape), dtype=np.float32), y).numpy()
        g_step(x, rng.standard_normal((n, *noise_shape), dtype=np.float32), y).numpy()
    for _ in range(3):  # tracing and warming up
        iteration()
    began = time.perf_counter()
    for _ in range(s['iterations']):
        iteration()
    return (time.perf_counter() - began) / s['iterations'] * 1000


if __name__ == '__main__':
    print(ms_per_iteration(json.loads(sys.argv[1])))
