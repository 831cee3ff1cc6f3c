"""Sample-quality figures for the story scripts that need no network: a classifier score and a
Fréchet distance, both measured with a small MNIST classifier trained here.

- classifier score: exp(mean KL(p(y|x) || p(y))) over generated images x; from 1 (all one
  class, or no class at all) to 10 (every image a confident digit, the ten in equal numbers).
  The Inception Score of Salimans et al. (2016), with an MNIST classifier in Inception's place.
- Fréchet distance: between Gaussians fitted to the classifier's hidden features of the
  generated images and of the 10,000 test images (FID, Heusel et al. 2017, likewise); 0 is best.

The classifier (784 -> 512 -> 128 -> 10, ReLU) was trained TF1 style on the training images only,
once, and ships beside this file as a .npz of its weights (SHIPPED, checked by its md5), so that
figures from every machine compare; scoring itself runs in numpy. Where that file is missing or
damaged, one is trained here and cached in the data folder, and its figures compare only with
runs scored by it. Real training images scored the same way give the ceiling a generator can reach.
"""
import functools
import hashlib
import io
import itertools
import json
import os
import zipfile

import numpy as np
import tensorflow.compat.v1 as tf

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mnist_classifier.npz')
SHIPPED_MD5 = '2b696077e46951ab3cd3e01d5d9fc52c'  # 98.23% test accuracy; ceiling 9.82 / 8.48
LAYERS = [784, 512, 128, 10]
CLASSIFIER_EPOCHS = 30  # 98.2% test accuracy on MNIST (10 epochs: 97.7%)
CLASSIFIER_SEED = 0
# what a cached classifier must have been trained with to be used; a change retrains it
VERSION = json.dumps({'layers': LAYERS, 'epochs': CLASSIFIER_EPOCHS, 'seed': CLASSIFIER_SEED})


def forward(weights, images):
    """Hidden features (N x 128) and class probabilities (N x 10) of 28 x 28 images in [-1, 1],
    flat (N x 784) or not (N x 28 x 28 x 1, as the DCGAN loads them)."""
    h = np.maximum(images.reshape(len(images), 784) @ weights['w0'] + weights['b0'], 0)
    features = np.maximum(h @ weights['w1'] + weights['b1'], 0)
    logits = features @ weights['w2'] + weights['b2']
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return features, e / e.sum(axis=1, keepdims=True)


def train_classifier(mnist, epochs=CLASSIFIER_EPOCHS, seed=CLASSIFIER_SEED):
    """Train the classifier on mnist.train (images in [0, 1], one-hot labels); return its weights
    as numpy arrays, with its accuracy on mnist.test under 'test_accuracy'."""
    images = (mnist.train.images.reshape(-1, 784) - 0.5) / 0.5
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, (None, 784))
        y = tf.placeholder(tf.float32, (None, 10))
        keep = tf.placeholder_with_default(1.0, ())
        params, h = {}, x
        with tf.variable_scope('C'):
            for i, (n_in, n_out) in enumerate(itertools.pairwise(LAYERS)):
                params[f'w{i}'] = tf.get_variable(f'C_w{i}', [n_in, n_out],
                                                  initializer=tf.glorot_uniform_initializer())
                params[f'b{i}'] = tf.get_variable(f'C_b{i}', [n_out],
                                                  initializer=tf.zeros_initializer())
                h = tf.matmul(h, params[f'w{i}']) + params[f'b{i}']
                if i < len(LAYERS) - 2:
                    h = tf.nn.dropout(tf.nn.relu(h), rate=1 - keep)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        optim = tf.train.AdamOptimizer(1e-3).minimize(loss)
        sess.run(tf.global_variables_initializer())
        for _ in range(epochs):
            order = rng.permutation(len(images))
            for i in range(0, len(images) - 99, 100):
                batch = order[i:i + 100]
                sess.run(optim, {x: images[batch], y: mnist.train.labels[batch], keep: 0.8})
        weights = sess.run(params)
    _, probs = forward(weights, (mnist.test.images - 0.5) / 0.5)
    weights['test_accuracy'] = np.float32(np.mean(probs.argmax(1) == mnist.test.labels.argmax(1)))
    return weights


@functools.cache
def shipped_classifier():
    """The weights of the classifier that ships with the project, or None (said once) when its
    file is missing or not the one shipped. Read as plain arrays: no pickle is loaded."""
    try:
        with open(SHIPPED, 'rb') as f:
            data = f.read()
        md5 = hashlib.md5(data).hexdigest()
        if md5 == SHIPPED_MD5:
            with np.load(io.BytesIO(data), allow_pickle=False) as shipped:
                return {name: shipped[name] for name in shipped.files}
        problem = f'is damaged (md5 {md5}, not {SHIPPED_MD5})'
    except OSError as e:
        problem = f'cannot be read ({e.strerror})'
    print(f'the scorer\'s classifier {SHIPPED} {problem}: scoring with one trained on this '
          f'machine instead, whose figures compare only with runs scored by that same file')
    return None


def load_classifier(mnist, cache_path):
    """The shipped classifier; where it is missing or damaged, the one cached in cache_path, or a
    new one trained (and cached) when that is missing, damaged, or of another VERSION."""
    shipped = shipped_classifier()
    if shipped is not None:
        return shipped
    try:
        with np.load(cache_path) as cache:
            weights = {name: cache[name] for name in cache.files}
        if 'version' in weights and str(weights['version']) == VERSION:
            return weights
        print(f'{cache_path} holds a classifier trained otherwise than {VERSION}; '
              f'training a new one')
    except FileNotFoundError:
        print(f'training an MNIST classifier for the quality figures (once; cached in {cache_path})')
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        print(f'{cache_path} is damaged ({type(e).__name__}); training a new classifier')
    weights = dict(train_classifier(mnist), version=np.array(VERSION))
    print(f"classifier test accuracy: {weights['test_accuracy']:.4f}")
    try:
        tmp = cache_path + '.part.npz'
        np.savez(tmp, **weights)
        os.replace(tmp, cache_path)
    except OSError as e:
        print(f'could not cache the classifier in {cache_path} ({e.strerror}); it is retrained next time')
    return weights


def classifier_score(probs):
    """exp of the mean KL divergence between p(y|x) and p(y)."""
    p_y = probs.mean(axis=0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + 1e-12) - np.log(p_y + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two sets of features (rows are samples):
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^1/2)."""
    mu_a, mu_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    # tr (S_a S_b)^1/2 = sum of the square roots of the eigenvalues of S_a^1/2 S_b S_a^1/2,
    # a symmetric matrix, so numpy's eigh suffices and scipy is not needed
    values, vectors = np.linalg.eigh(cov_a)
    sqrt_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a), 0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def digit_shares(probs):
    """The share of images the classifier takes for each digit: ten numbers summing to 1. A
    collapse onto a few digits shows as a smallest share near 0."""
    return (np.bincount(probs.argmax(axis=1), minlength=10) / len(probs)).tolist()


def score_images(images, mnist, cache_path):
    """Figures for generated images (N x 784 in [-1, 1]), and the same for N real training
    images: the ceiling."""
    weights = load_classifier(mnist, cache_path)
    test_features, _ = forward(weights, (mnist.test.images - 0.5) / 0.5)
    features, probs = forward(weights, images)
    real_features, real_probs = forward(weights, (mnist.train.images[:len(images)] - 0.5) / 0.5)
    return {'classifier_score': classifier_score(probs),
            'frechet_distance': frechet_distance(features, test_features),
            'digit_shares': digit_shares(probs),
            'real_classifier_score': classifier_score(real_probs),
            'real_frechet_distance': frechet_distance(real_features, test_features)}


def describe(figures, epoch, n):
    shares = np.array(figures['digit_shares'])
    return (f"epoch {epoch}, {n} samples: classifier score {figures['classifier_score']:.2f} "
            f"(real images: {figures['real_classifier_score']:.2f}, at most 10), "
            f"Fréchet distance {figures['frechet_distance']:.2f} "
            f"(real images: {figures['real_frechet_distance']:.2f}, 0 is best), "
            f"digit shares from {shares.min():.1%} ({shares.argmin()}) "
            f"to {shares.max():.1%} ({shares.argmax()})")
