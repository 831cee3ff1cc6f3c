"""The judge behind every figure of sample quality: a small convolutional MNIST classifier,

    28x28 image -> 5x5 conv, 32 channels, ReLU, 2x2 max pool -> 5x5 conv, 64, ReLU, max pool
                -> dense 128, ReLU (the features the Fréchet distance compares) -> 10 logits,

the shape of TensorFlow's own MNIST tutorials; TF-GAN's MNIST score and distance also use a
convolutional classifier, which reads G's in-between drawings more strictly than a perceptron
does (the one before this, 784-512-128-10, took many 9s with a closed top for 4s).

It is trained TF1 style by train_classifier, on the 55,000 training images only, and ships beside
this file as plain arrays in a .npz (SHIPPED, checked by its md5; no pickle is loaded), so that
figures from every machine compare. Where that file is missing or damaged, the same network is
trained here and cached in the data folder: its figures compare only with runs scored by it.
The forward pass runs in a graph and session of its own (Judge), beside a story's.
"""
import functools
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import tensorflow.compat.v1 as tf

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mnist_classifier.npz')
SHIPPED_MD5 = 'd73a177d791cc356f21ca41a2f7850a0'  # 99.47% of the test images
SHAPES = {  # the network's weights, by name
    'conv1_kernel': (5, 5, 1, 32), 'conv1_bias': (32,),
    'conv2_kernel': (5, 5, 32, 64), 'conv2_bias': (64,),
    'dense_kernel': (7 * 7 * 64, 128), 'dense_bias': (128,),
    'out_kernel': (128, 10), 'out_bias': (10,),
}
EPOCHS = 20           # passes over the 55,000 training images (12: 99.35% of the test images)
SEED = 0
LR, LR_DECAY = 1e-3, 0.85  # Adam's learning rate, times LR_DECAY after each epoch
KEEP = 0.5            # dropout keeps half of the features while training
SHIFT = 2             # each training image moved by up to this many pixels in each direction
# what a cached classifier must have been trained with to be used; a change retrains it
VERSION = json.dumps({'shapes': SHAPES, 'epochs': EPOCHS, 'seed': SEED, 'lr': [LR, LR_DECAY],
                      'keep': KEEP, 'shift': SHIFT})
CHUNK = 1000  # images judged at once: the activations stay near 100 MB


def network(images, weights, keep=None):
    """The features (N x 128) and the logits (N x 10) of images in [-1, 1], flat (N x 784) or not
    (N x 28 x 28 x 1); weights by name (variables, or arrays); keep: dropout's keep probability
    while training (None: no dropout)."""
    h = tf.reshape(images, [-1, 28, 28, 1])
    for conv in ('conv1', 'conv2'):
        h = tf.nn.relu(tf.nn.conv2d(h, weights[f'{conv}_kernel'], 1, 'SAME') + weights[f'{conv}_bias'])
        h = tf.nn.max_pool2d(h, 2, 2, 'VALID')
    h = tf.reshape(h, [-1, SHAPES['dense_kernel'][0]])
    features = tf.nn.relu(tf.matmul(h, weights['dense_kernel']) + weights['dense_bias'])
    dropped = features if keep is None else tf.nn.dropout(features, rate=1 - keep)
    return features, tf.matmul(dropped, weights['out_kernel']) + weights['out_bias']


class Judge:
    """The classifier's forward pass: judge(images) gives the features (N x 128) and the class
    probabilities (N x 10) of images in [-1, 1], CHUNK at a time, in a graph and session of its
    own, so that a story's graph, its session and its precision are left alone."""

    def __init__(self, weights):
        self.weights, self.graph = weights, tf.Graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, (None, 28, 28, 1))
            self.features, logits = network(self.images, {name: tf.constant(weights[name]) for name in SHAPES})
            self.probs = tf.nn.softmax(logits)
        self.sess = tf.Session(graph=self.graph)

    def __call__(self, images):
        images = np.reshape(images, (-1, 28, 28, 1))
        judged = [self.sess.run([self.features, self.probs], {self.images: images[i:i + CHUNK]})
                  for i in range(0, len(images), CHUNK)]
        return np.concatenate([f for f, _ in judged]), np.concatenate([p for _, p in judged])

    def accuracy(self, images, digits):
        """The share of images (in [0, 1], as the data sets hold them) taken for their digits."""
        return float(np.mean(self((images - 0.5) / 0.5)[1].argmax(1) == digits))


def shifted(images, rng):
    """Each image (N x 28 x 28, in [-1, 1]) moved by up to SHIFT pixels down or up and left or
    right, at random, the background (-1) filling in: the augmentation that takes the network
    from about 99.2% to 99.4% of the test images."""
    n, side = len(images), images.shape[1]
    padded = np.pad(images, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)), constant_values=-1)
    rows, columns = (rng.integers(0, 2 * SHIFT + 1, (n, 1)) + np.arange(side) for _ in range(2))
    return padded[np.arange(n)[:, None, None], rows[:, :, None], columns[:, None, :]]


def digits_of(labels):
    """The digits of labels, one-hot (N x 10) or not."""
    return labels.argmax(1) if labels.ndim == 2 else labels


def train_classifier(mnist, epochs=None, seed=SEED, say=print):
    """Train the network on mnist.train (images in [0, 1], flat or 28 x 28 x 1; labels one-hot or
    digits), batches of 100; return its weights as arrays, with its accuracy on mnist.test under
    'test_accuracy'. `say` hears a line after each epoch. EPOCHS unless epochs is given."""
    epochs = epochs or EPOCHS
    images = (np.reshape(mnist.train.images, (-1, 28, 28)) - 0.5) / 0.5
    one_hot = np.eye(10, dtype=np.float32)[digits_of(mnist.train.labels)]
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, (None, 28, 28, 1))
        y = tf.placeholder(tf.float32, (None, 10))
        lr = tf.placeholder(tf.float32, ())
        weights = {name: tf.get_variable(f'classifier/{name}', shape, initializer=tf.zeros_initializer()
                                         if name.endswith('bias') else tf.glorot_uniform_initializer())
                   for name, shape in SHAPES.items()}
        _, logits = network(x, weights, keep=KEEP)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        optim = tf.train.AdamOptimizer(lr).minimize(loss)
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(images))
            for i in range(0, len(images) - 99, 100):
                batch = order[i:i + 100]
                sess.run(optim, {x: shifted(images[batch], rng)[..., None], y: one_hot[batch],
                                 lr: LR * LR_DECAY ** epoch})
            say(f'classifier epoch {epoch + 1}/{epochs}')
        weights = sess.run(weights)
    accuracy = Judge(weights).accuracy(mnist.test.images, digits_of(mnist.test.labels))
    return dict(weights, test_accuracy=np.float32(accuracy))


@functools.cache
def shipped_judge():
    """The Judge of the classifier that ships with the project, or None (said once) when its file
    is missing or not the one shipped. Read as plain arrays: no pickle is loaded."""
    try:
        with open(SHIPPED, 'rb') as f:
            data = f.read()
        md5 = hashlib.md5(data).hexdigest()
        if md5 == SHIPPED_MD5:
            with np.load(io.BytesIO(data), allow_pickle=False) as shipped:
                return Judge({name: shipped[name] for name in shipped.files})
        problem = f'is damaged (md5 {md5}, not {SHIPPED_MD5})'
    except OSError as e:
        problem = f'cannot be read ({e.strerror})'
    print(f'the scorer\'s classifier {SHIPPED} {problem}: scoring with one trained on this '
          f'machine instead, whose figures compare only with runs scored by that same file')
    return None


def load_judge(mnist, cache_path):
    """The shipped classifier's Judge; where it is missing or damaged, that of the one cached in
    cache_path, or of a new one trained (and cached) when that is missing, damaged, or of
    another VERSION."""
    shipped = shipped_judge()
    if shipped is not None:
        return shipped
    try:
        with np.load(cache_path, allow_pickle=False) as cache:
            weights = {name: cache[name] for name in cache.files}
        if 'version' in weights and str(weights['version']) == VERSION:
            return Judge(weights)
        print(f'{cache_path} holds a classifier trained otherwise than {VERSION}; '
              f'training a new one')
    except FileNotFoundError:
        print(f'training an MNIST classifier for the quality figures (once, some minutes; cached '
              f'in {cache_path})')
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        print(f'{cache_path} is damaged ({type(e).__name__}); training a new classifier')
    weights = dict(train_classifier(mnist, say=lambda line: None), version=np.array(VERSION))
    print(f"classifier test accuracy: {weights['test_accuracy']:.4f}")
    try:
        tmp = cache_path + '.part.npz'
        np.savez(tmp, **weights)
        os.replace(tmp, cache_path)
    except OSError as e:
        print(f'could not cache the classifier in {cache_path} ({e.strerror}); it is retrained next time')
    return Judge(weights)
