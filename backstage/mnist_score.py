"""Sample-quality figures for the story scripts that need no network, all read by one judge, the
convolutional MNIST classifier of classifier.py:

- classifier score: exp(mean KL(p(y|x) || p(y))) over generated images x; from 1 (all one
  class, or no class at all) to 10 (every image a confident digit, the ten in equal numbers).
  The Inception Score of Salimans et al. (2016), with an MNIST classifier in Inception's place.
- Fréchet distance: between Gaussians fitted to the classifier's 128 features of the generated
  images and of the 10,000 test images (FID, Heusel et al. 2017, likewise); 0 is best.
- digit shares: the share of images taken for each digit; no digit: the share the classifier
  gives no digit with CONFIDENCE (an in-between or broken drawing).

Real training images scored the same way give the ceiling a generator can reach. The judge's own
figures (its test accuracy, real images' figures):

    python -m backstage.mnist_score                    # about 10 s on 2 cores
    python -m backstage.mnist_score --train=new.npz    # train the judge anew (some minutes)
"""
import argparse
import hashlib
import os
import sys

import numpy as np

from backstage import classifier

CONFIDENCE = 0.9  # a sample is taken for a digit when the judge gives that digit at least this


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
    """The share of images the classifier takes for each digit (class): numbers summing to 1. A
    collapse onto a few digits shows as a smallest share near 0."""
    return (np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)).tolist()


def no_digit_share(probs):
    """The share of images no digit claims with CONFIDENCE."""
    return float(np.mean(probs.max(axis=1) < CONFIDENCE))


def label_accuracy(probs, digits):
    """The share of images the classifier takes for the digit they were drawn for, in all and
    for each digit (NaN for a digit none was drawn for)."""
    right = probs.argmax(axis=1) == digits
    drawn = np.bincount(digits, minlength=probs.shape[1])
    with np.errstate(invalid='ignore'):
        by_digit = np.bincount(digits, weights=right, minlength=probs.shape[1]) / drawn
    return float(right.mean()), by_digit.tolist()


def score_images(images, data, judge, digits=None, channels=1):
    """Figures for generated images (in [-1, 1]; flat ones of `channels`) by the judge of the
    data (read_data_sets' result), and the same for as many of its real training images: the
    ceiling. With the classes a conditional G was asked for, its label accuracy."""
    test_features, _ = judge((data.test.images - 0.5) / 0.5, channels)
    features, probs = judge(images, channels)
    real_features, real_probs = judge((data.train.images[:len(images)] - 0.5) / 0.5, channels)
    return {'classifier_score': classifier_score(probs),
            'frechet_distance': frechet_distance(features, test_features),
            'digit_shares': digit_shares(probs),
            'no_digit_share': no_digit_share(probs),
            'real_classifier_score': classifier_score(real_probs),
            'real_frechet_distance': frechet_distance(real_features, test_features),
            'real_no_digit_share': no_digit_share(real_probs),
            **({} if digits is None else dict(zip(('label_accuracy', 'label_accuracy_by_digit'),
                                                  label_accuracy(probs, digits))))}


def describe(figures, epoch, n, names=None):
    """The figures in a line; names: the classes' (MNIST's digits by default)."""
    shares = np.array(figures['digit_shares'])
    names = names or [str(digit) for digit in range(len(shares))]
    kind = 'digit' if all(name.isdigit() for name in names) else 'class'
    said = (f"epoch {epoch}, {n} samples: classifier score {figures['classifier_score']:.2f} "
            f"(real images: {figures['real_classifier_score']:.2f}, at most {len(shares)}), "
            f"Fréchet distance {figures['frechet_distance']:.2f} "
            f"(real images: {figures['real_frechet_distance']:.2f}, 0 is best), "
            f"{kind} shares from {shares.min():.1%} ({names[shares.argmin()]}) "
            f"to {shares.max():.1%} ({names[shares.argmax()]}), "
            f"no {kind} {figures['no_digit_share']:.1%} (real images: {figures['real_no_digit_share']:.1%})")
    if 'label_accuracy' in figures:
        by_digit = np.array(figures['label_accuracy_by_digit'])
        said += (f"; label accuracy {figures['label_accuracy']:.1%} (read as the {kind} asked for; "
                 f"lowest {np.nanmin(by_digit):.1%}, {kind} {names[np.nanargmin(by_digit)]})")
    return said


def main(args=None):
    """The judge's own figures: which file it is, its test accuracy, and real images' figures;
    with --train=PATH, a judge trained anew by this project's code, written to PATH."""
    import input_data  # the project's root module: imported here, for the command only
    parser = argparse.ArgumentParser(prog='python -m backstage.mnist_score', description=main.__doc__)
    parser.add_argument('--data_dir', default='MNIST_data', help='the four MNIST files (default: MNIST_data)')
    parser.add_argument('--n', type=int, default=10000, help='real training images scored (default: 10000)')
    parser.add_argument('--train', metavar='PATH', help='train the judge anew and write it to PATH (a new file)')
    options = parser.parse_args(args)
    mnist = input_data.read_data_sets(options.data_dir, one_hot=True)
    if not 2 <= options.n <= len(mnist.train.images):
        parser.error(f'--n={options.n}: it must be from 2 to the {len(mnist.train.images)} training images')
    if options.train:
        if os.path.exists(options.train):
            parser.error(f'--train={options.train}: the file exists; name a new one')
        weights = classifier.train_classifier(mnist, say=print)
        np.savez(options.train, **weights)
        with open(options.train, 'rb') as f:
            print(f'wrote {options.train}, md5 {hashlib.md5(f.read()).hexdigest()}')
        judge = classifier.Judge(weights)
    else:
        judge = classifier.load_judge(mnist)
        shipped = judge is classifier.shipped_judge()
        print(f'the judge: {classifier.SHIPPED} as shipped (md5 {classifier.SHIPPED_MD5})' if shipped else
              f'the judge: a classifier trained on this machine, cached in {options.data_dir}/')
    print(f'a convolutional classifier trained {classifier.EPOCHS} epochs on the training images, seed '
          f'{classifier.SEED}, each image shifted by up to {classifier.SHIFT} pixels')
    accuracy = judge.accuracy(mnist.test.images, mnist.test.labels)
    print(f'test accuracy: {accuracy:.2%} of the {len(mnist.test.images)} test images')
    real = (mnist.train.images[:options.n] - 0.5) / 0.5
    test_features, _ = judge((mnist.test.images - 0.5) / 0.5)
    features, probs = judge(real)
    shares = ', '.join(f'{digit}: {share:.1%}' for digit, share in enumerate(digit_shares(probs)))
    print(f'real images (the first {options.n} training images) against the test images: '
          f'classifier score {classifier_score(probs):.2f}, Fréchet distance '
          f'{frechet_distance(features, test_features):.2f}, taken for a digit with confidence '
          f'{CONFIDENCE} or more: {1 - no_digit_share(probs):.1%}')
    print(f'digit shares: {shares}')


if __name__ == '__main__':
    sys.exit(main())
