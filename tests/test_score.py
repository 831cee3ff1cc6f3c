"""mnist_score and classifier: the figures on cases with known answers, the shipped judge (its
file, its accuracy, its forward pass against the training graph), the judge's own command, and
the same network trained and cached where the shipped one is missing or damaged."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import ROOT

import input_data
from backstage import classifier, mnist_score
from backstage.mnist_score import classifier_score, frechet_distance


def test_frechet_distance_of_a_set_to_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(2000, 16))
    assert frechet_distance(features, features) == pytest.approx(0, abs=1e-6)


def test_frechet_distance_of_a_shifted_set_is_the_squared_shift():
    features = np.random.default_rng(0).normal(size=(2000, 16))
    shift = np.arange(16) / 4
    assert frechet_distance(features, features + shift) == pytest.approx(np.sum(shift ** 2))


def test_frechet_distance_of_scaled_gaussians():
    # N(0, I) and N(0, 4I) in d dimensions: d (1 + 4 - 2 * 2) = d
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200000, 4)), 2 * rng.normal(size=(200000, 4))
    assert frechet_distance(a, b) == pytest.approx(4, rel=0.02)


def confident(classes):
    probs = np.full((len(classes), 10), 1e-6)
    probs[np.arange(len(classes)), classes] = 1 - 9e-6
    return probs


def test_classifier_score_of_one_class_is_1():
    assert classifier_score(confident(np.full(1000, 3))) == pytest.approx(1, abs=1e-3)


def test_classifier_score_of_a_uniform_mix_of_confident_classes_is_10():
    assert classifier_score(confident(np.arange(1000) % 10)) == pytest.approx(10, rel=1e-3)


def test_classifier_score_of_unsure_predictions_is_1():
    assert classifier_score(np.full((1000, 10), 0.1)) == pytest.approx(1)


@pytest.fixture
def tiny(tiny_mnist, tmp_path):
    """The tiny digits, with a folder of this test's own for what is learned from them."""
    return input_data.read_data_sets(tiny_mnist, one_hot=True)._replace(folder=str(tmp_path))


@pytest.fixture
def shipped_at(monkeypatch):
    """Point the scorer at another shipped file for one test (and forget the judge read)."""
    def point(path):
        monkeypatch.setattr(classifier, 'SHIPPED', str(path))
        classifier.shipped_judge.cache_clear()
    yield point
    classifier.shipped_judge.cache_clear()


@pytest.fixture
def no_shipped(tmp_path, shipped_at, monkeypatch):
    """No shipped classifier: one is trained on the data, in 2 epochs (the tiny digits are easy),
    without shifts (they would move the tiny digits' bars onto their neighbours' rows)."""
    shipped_at(tmp_path / 'not_shipped.npz')
    monkeypatch.setattr(classifier, 'EPOCHS', 2)
    monkeypatch.setattr(classifier, 'SHIFT', 0)


def test_the_shipped_classifier_is_plain_arrays_of_the_networks_shapes(shipped_at):
    shipped_at(classifier.SHIPPED)
    with open(classifier.SHIPPED, 'rb') as f:
        assert hashlib.md5(f.read()).hexdigest() == classifier.SHIPPED_MD5
    with np.load(classifier.SHIPPED, allow_pickle=False) as shipped:
        assert {name: shipped[name].shape for name in shipped.files} == dict(classifier.SHAPES, test_accuracy=())
        assert shipped['test_accuracy'] >= 0.993  # on MNIST's 10,000 test images


def test_the_shipped_classifier_reads_mnist_test_digits(tiny, tmp_path, capsys, monkeypatch, shipped_at):
    shipped_at(classifier.SHIPPED)
    monkeypatch.setattr(classifier, 'train_classifier', lambda *a, **k: pytest.fail('trained'))
    judge = classifier.load_judge(tiny)
    assert judge is classifier.shipped_judge()  # built once a process
    mnist = input_data.read_data_sets(os.path.join(ROOT, 'MNIST_data'))
    assert judge.accuracy(mnist.test.images[:2000], mnist.test.labels[:2000]) >= 0.99
    assert capsys.readouterr().out == '' and os.listdir(tmp_path) == []


def test_the_judge_computes_what_the_training_graph_computes(shipped_at):
    """The judge's graph (the weights as constants, in a session of its own) against the network
    as train_classifier builds it (variables, dropout's keep fed 1), on the same images."""
    shipped_at(classifier.SHIPPED)
    judge = classifier.shipped_judge()
    images = np.random.default_rng(0).uniform(-1, 1, (50, 784)).astype(np.float32)
    images[:25] = (input_data.read_data_sets(os.path.join(ROOT, 'MNIST_data')).test.images[:25] - 0.5) / 0.5
    with tf.Graph().as_default(), tf.Session() as sess:
        weights = {name: tf.get_variable(name, shape) for name, shape in classifier.SHAPES.items()}
        keep = tf.placeholder_with_default(0.5, ())
        x = tf.placeholder(tf.float32, (None, 28, 28, 1))
        features, logits = classifier.network(x, weights, keep)
        sess.run([weights[name].assign(judge.weights[name]) for name in classifier.SHAPES])
        trained = sess.run([features, tf.nn.softmax(logits)], {x: images.reshape(-1, 28, 28, 1), keep: 1.0})
    for theirs, ours in zip(trained, judge(images)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('damage', [b'', b'PK\x03\x04 not the shipped file'])
def test_a_missing_or_damaged_shipped_classifier_is_said_once_and_replaced_here(
        tiny, tmp_path, capsys, no_shipped, shipped_at, damage):
    shipped = tmp_path / 'shipped.npz'
    if damage:
        shipped.write_bytes(damage)
    shipped_at(shipped)
    cache = tmp_path / 'mnist_classifier.npz'
    classifier.load_judge(tiny)
    said = capsys.readouterr().out.splitlines()
    assert len([line for line in said if str(shipped) in line]) == 1
    assert ('is damaged (md5' if damage else 'cannot be read') in said[0]
    assert 'compare only with runs scored by that same file' in said[0]
    assert cache.exists()
    assert shipped.read_bytes() == damage if damage else not shipped.exists()  # left as it was
    classifier.load_judge(tiny)
    assert capsys.readouterr().out == ''  # said once; the cached one is used


def test_the_fallback_trains_the_same_network_once_then_reuses_it(tiny, tmp_path, capsys, monkeypatch, no_shipped):
    judge = classifier.load_judge(tiny)
    assert 'training an MNIST classifier' in capsys.readouterr().out
    assert {name: judge.weights[name].shape for name in classifier.SHAPES} == classifier.SHAPES
    assert judge.weights['test_accuracy'] > 0.9  # the tiny digits are easy
    monkeypatch.setattr(classifier, 'train_classifier', lambda *a, **k: pytest.fail('retrained'))
    again = classifier.load_judge(tiny)
    assert all(np.array_equal(judge.weights[k], again.weights[k]) for k in judge.weights)


def test_training_images_are_shifted_by_at_most_SHIFT_with_the_background_filling_in():
    image = np.full((1, 28, 28, 1), -1, np.float32)
    image[0, 10:18, 10:18] = 1
    moved = classifier.shifted(np.repeat(image, 200, axis=0), np.random.default_rng(0))
    assert moved.shape == (200, 28, 28, 1) and (moved.sum(axis=(1, 2, 3)) == image.sum()).all()  # nothing lost
    rows = [np.nonzero(m[..., 0].max(axis=1) > 0)[0][0] for m in moved]
    assert sorted(set(rows)) == list(range(10 - classifier.SHIFT, 10 + classifier.SHIFT + 1))


def test_damaged_cache_is_rebuilt(tiny, tmp_path, capsys, no_shipped):
    cache = tmp_path / 'mnist_classifier.npz'
    cache.write_bytes(b'PK\x03\x04 not really a zip')
    classifier.load_judge(tiny)
    assert 'is damaged' in capsys.readouterr().out
    with np.load(cache) as rebuilt:
        assert rebuilt['conv1_kernel'].shape == (5, 5, 1, 32)


def test_scores_rank_real_images_above_noise(tiny, tmp_path, no_shipped):
    noise = np.random.default_rng(0).uniform(-1, 1, (300, 784)).astype(np.float32)
    figures = mnist_score.score_images(noise, tiny, classifier.load_judge(tiny))
    assert set(figures) == {'classifier_score', 'frechet_distance', 'digit_shares', 'no_digit_share',
                            'real_classifier_score', 'real_frechet_distance', 'real_no_digit_share'}
    assert len(figures['digit_shares']) == 10 and sum(figures['digit_shares']) == pytest.approx(1)
    assert figures['real_classifier_score'] > 5 > figures['classifier_score']
    assert figures['real_frechet_distance'] < figures['frechet_distance'] / 10
    assert figures['real_no_digit_share'] < 0.5 < figures['no_digit_share']


def test_label_accuracy_in_all_and_by_digit():
    digits = np.array([0, 0, 1, 1, 1, 9])
    probs = confident(np.array([0, 5, 1, 1, 1, 9]))
    overall, by_digit = mnist_score.label_accuracy(probs, digits)
    assert overall == pytest.approx(5 / 6)
    assert by_digit[0] == 0.5 and by_digit[1] == 1 and by_digit[9] == 1 and np.isnan(by_digit[4])
    figures = {'classifier_score': 9.5, 'real_classifier_score': 9.9, 'frechet_distance': 2.0,
               'real_frechet_distance': 1.3, 'digit_shares': [0.1] * 10, 'no_digit_share': 0.03,
               'real_no_digit_share': 0.008, 'label_accuracy': overall, 'label_accuracy_by_digit': by_digit}
    assert mnist_score.describe(figures, 3, 6).endswith('no digit 3.0% (real images: 0.8%); label accuracy 83.3% '
                                                        '(read as the digit asked for; lowest 50.0%, digit 0)')


def test_a_cache_of_another_version_is_retrained(tiny, tmp_path, capsys, no_shipped):
    cache = str(tmp_path / 'mnist_classifier.npz')
    judge = classifier.load_judge(tiny)
    np.savez(cache, **dict(judge.weights, version=np.array('{"layers": [784, 512, 128, 10], "epochs": 30}')))
    capsys.readouterr()
    classifier.load_judge(tiny)
    assert 'holds a classifier trained otherwise or on other data' in capsys.readouterr().out
    with np.load(cache) as rebuilt:
        assert str(rebuilt['version']) == classifier.version()


def test_the_judges_own_command_prints_its_figures():
    said = subprocess.run([sys.executable, '-m', 'backstage.mnist_score', '--n=2000'], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=300)
    assert said.returncode == 0, said.stderr[-2000:]
    lines = said.stdout.splitlines()
    assert lines[0] == f'the judge: {classifier.SHIPPED} as shipped (md5 {classifier.SHIPPED_MD5})'
    assert lines[2].startswith('test accuracy: 99.') and lines[2].endswith('% of the 10000 test images')
    assert 'real images (the first 2000 training images) against the test images: classifier score 9.' in lines[3]
    assert lines[4].startswith('digit shares: 0: ') and lines[4].count('%') == 10
