"""The judge behind every figure of sample quality: a small convolutional classifier,

    28x28 image -> 5x5 conv, 32 channels, ReLU, 2x2 max pool -> 5x5 conv, 64, ReLU, max pool
                -> dense 128, ReLU (the features the Fréchet distance compares) -> the classes,

the shape of TensorFlow's own MNIST tutorials; TF-GAN's MNIST score and distance also use a
convolutional classifier, which reads G's in-between drawings more strictly than a perceptron
does (the one before this, 784-512-128-10, took many 9s with a closed top for 4s).

For MNIST it is trained TF1 style by train_classifier, on the 55,000 training images only, and
ships beside this file as plain arrays in a .npz (SHIPPED, checked by its md5; no pickle is
loaded), so that figures from every machine compare. Where that file is missing or damaged, the
same network is trained here and cached in the data folder: its figures compare only with runs
scored by it. For other labelled data (Fashion-MNIST, KMNIST, a folder of classes) a network of
the same shape is trained on that data's own training images on first use, with its channels
and classes, and kept in the data's folder with the md5 of what it learned from. The forward
pass runs in a graph and session of its own (Judge), beside a story's; other sizes than 28x28
are area-resized to it, and a color image is judged in gray by a gray judge.
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
EPOCHS = 20           # passes over the 55,000 training images (12: 99.35% of the test images)
SEED = 0
LR, LR_DECAY = 1e-3, 0.85  # Adam's learning rate, times LR_DECAY after each epoch
KEEP = 0.5            # dropout keeps half of the features while training
SHIFT = 2             # each training image moved by up to this many pixels in each direction
CHUNK = 1000  # images judged at once: the activations stay near 100 MB


def shapes(channels=1, classes=10):
    """The network's weights, by name, for images of `channels` and `classes` classes."""
    return {'conv1_kernel': (5, 5, channels, 32), 'conv1_bias': (32,),
            'conv2_kernel': (5, 5, 32, 64), 'conv2_bias': (64,),
            'dense_kernel': (7 * 7 * 64, 128), 'dense_bias': (128,),
            'out_kernel': (128, classes), 'out_bias': (classes,)}


SHAPES = shapes()  # the shipped one's: MNIST's gray digits


def version(channels=1, classes=10, learned_from=''):
    """What a cached classifier must have been trained with to be used; a change retrains it."""
    return json.dumps({'shapes': shapes(channels, classes), 'epochs': EPOCHS, 'seed': SEED,
                       'lr': [LR, LR_DECAY], 'keep': KEEP, 'shift': SHIFT, 'data': learned_from})


def network(images, weights, keep=None):
    """The features (N x 128) and the logits (N x classes) of square images in [-1, 1] (N x side x
    side x channels; other sides than 28 area-resized to it); weights by name (variables, or
    arrays); keep: dropout's keep probability while training (None: no dropout)."""
    h = images if images.get_shape()[1] == 28 else tf.image.resize_area(images, [28, 28])
    for conv in ('conv1', 'conv2'):
        h = tf.nn.relu(tf.nn.conv2d(h, weights[f'{conv}_kernel'], 1, 'SAME') + weights[f'{conv}_bias'])
        h = tf.nn.max_pool2d(h, 2, 2, 'VALID')
    h = tf.reshape(h, [-1, 7 * 7 * 64])
    features = tf.nn.relu(tf.matmul(h, weights['dense_kernel']) + weights['dense_bias'])
    dropped = features if keep is None else tf.nn.dropout(features, rate=1 - keep)
    return features, tf.matmul(dropped, weights['out_kernel']) + weights['out_bias']


def as_images(images, channels=None):
    """Images flat (N x side * side * channels) or not, as N x side x side x channels; flat ones
    are taken to have `channels` (by default: as many as 28 x 28 leaves)."""
    images = np.asarray(images)
    if images.ndim == 4:
        return images
    channels = channels or max(1, images.shape[1] // 784)
    side = round((images.shape[1] / channels) ** 0.5)
    return images.reshape(len(images), side, side, channels)


class Judge:
    """The classifier's forward pass: judge(images) gives the features (N x 128) and the class
    probabilities (N x classes) of images in [-1, 1], CHUNK at a time, in a graph and session of
    its own, so that a story's graph, its session and its precision are left alone. `name` says
    whose classifier it is, in the lines that print its figures."""

    def __init__(self, weights, name='the shipped MNIST classifier'):
        self.weights, self.name, self.graph = weights, name, tf.Graph()
        self.channels, self.classes = weights['conv1_kernel'].shape[2], weights['out_kernel'].shape[1]
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, (None, None, None, self.channels))
            self.features, logits = network(self.images, {name: tf.constant(weights[name]) for name in SHAPES})
            self.probs = tf.nn.softmax(logits)
        self.sess = tf.Session(graph=self.graph)

    def __call__(self, images, channels=None):
        images = as_images(images, channels)
        if images.shape[-1] != self.channels:  # a gray judge of color images: their luminance
            images = images @ np.array([[0.299], [0.587], [0.114]], np.float32) if self.channels == 1 \
                else np.repeat(images, self.channels, axis=-1)
        judged = [self.sess.run([self.features, self.probs], {self.images: images[i:i + CHUNK]})
                  for i in range(0, len(images), CHUNK)]
        return np.concatenate([f for f, _ in judged]), np.concatenate([p for _, p in judged])

    def accuracy(self, images, labels, channels=None):
        """The share of images (in [0, 1], as the data sets hold them) taken for their classes."""
        return float(np.mean(self((np.asarray(images) - 0.5) / 0.5, channels)[1].argmax(1) == digits_of(labels)))


def shifted(images, rng):
    """Each image (N x side x side x channels, in [-1, 1]) moved by up to SHIFT pixels down or up
    and left or right, at random, the background (-1) filling in: the augmentation that takes
    the network from about 99.2% to 99.4% of MNIST's test images."""
    n, side = len(images), images.shape[1]
    padded = np.pad(images, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), constant_values=-1)
    rows, columns = (rng.integers(0, 2 * SHIFT + 1, (n, 1)) + np.arange(side) for _ in range(2))
    return padded[np.arange(n)[:, None, None], rows[:, :, None], columns[:, None, :]]


def digits_of(labels):
    """The class indices of labels, one-hot (N x classes) or not."""
    return labels.argmax(1) if labels.ndim == 2 else labels


def train_classifier(data, epochs=None, seed=SEED, say=print):
    """Train the network on data.train (images in [0, 1], flat or N x side x side x channels;
    labels one-hot or indices, of len(data.classes) classes), batches of 100; return its weights
    as arrays, with its accuracy on data.test under 'test_accuracy'. `say` hears a line after
    each epoch. EPOCHS unless epochs is given."""
    epochs = epochs or EPOCHS
    images = (as_images(data.train.images) - 0.5) / 0.5
    one_hot = np.eye(len(data.classes), dtype=np.float32)[digits_of(data.train.labels)]
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, (None, *images.shape[1:]))
        y = tf.placeholder(tf.float32, (None, one_hot.shape[1]))
        lr = tf.placeholder(tf.float32, ())
        weights = {name: tf.get_variable(f'classifier/{name}', shape, initializer=tf.zeros_initializer()
                                         if name.endswith('bias') else tf.glorot_uniform_initializer())
                   for name, shape in shapes(images.shape[-1], one_hot.shape[1]).items()}
        _, logits = network(x, weights, keep=KEEP)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        optim = tf.train.AdamOptimizer(lr).minimize(loss)
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(images))
            for i in range(0, max(1, len(images) - 99), 100):
                batch = order[i:i + 100]
                sess.run(optim, {x: shifted(images[batch], rng), y: one_hot[batch], lr: LR * LR_DECAY ** epoch})
            say(f'classifier epoch {epoch + 1}/{epochs}')
        weights = sess.run(weights)
    accuracy = Judge(weights).accuracy(data.test.images, data.test.labels, images.shape[-1])
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


def load_judge(data):
    """The judge of data (read_data_sets' result): for MNIST the shipped classifier, or where it
    is missing or damaged one trained here; for other labelled data one trained on its own
    training images; each trained one cached in data.folder, and trained again when that is
    missing, damaged, or of another version or data. None for unlabelled images."""
    if data.classes is None:
        return None
    if data.source == 'MNIST':
        shipped = shipped_judge()
        if shipped is not None:
            return shipped
        cache, learned_from, name = 'mnist_classifier.npz', '', 'an MNIST classifier trained on this machine'
        training = 'an MNIST classifier on this machine'
    else:
        learned = hashlib.md5(np.ascontiguousarray(data.train.images)).hexdigest()
        cache, learned_from = 'classifier.npz', f'{data.source}: {learned}'
        name = f'the classifier trained on the images of {data.source}'
        training = f'a classifier on the images of {data.source}'
    path = os.path.join(data.folder, cache)
    wanted = version(as_images(data.train.images[:1]).shape[-1], len(data.classes), learned_from)
    try:
        with np.load(path, allow_pickle=False) as kept:
            weights = {key: kept[key] for key in kept.files}
        if 'version' in weights and str(weights['version']) == wanted:
            return Judge(weights, f'{name} ({path})')
        print(f'{path} holds a classifier trained otherwise or on other data; training a new one')
    except FileNotFoundError:
        print(f'training {training} for the quality figures (once, some minutes; kept in {path})')
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        print(f'{path} is damaged ({type(e).__name__}); training a new classifier')
    weights = dict(train_classifier(data, say=lambda line: None), version=np.array(wanted))
    print(f"classifier test accuracy: {weights['test_accuracy']:.4f}")
    try:
        os.makedirs(data.folder, exist_ok=True)
        tmp = path + '.part.npz'
        np.savez(tmp, **weights)
        os.replace(tmp, path)
    except OSError as e:
        print(f'could not keep the classifier in {path} ({e.strerror}); it is trained again next time')
    return Judge(weights, f'{name} ({path})')
