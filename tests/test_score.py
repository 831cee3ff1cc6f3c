"""mnist_score: the two figures on cases with known answers, the shipped classifier, and the
classifier trained and cached where it is missing or damaged."""
import hashlib

import numpy as np
import pytest

import input_data
from backstage import mnist_score
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
def tiny(tiny_mnist):
    return input_data.read_data_sets(tiny_mnist, one_hot=True)


@pytest.fixture
def shipped_at(monkeypatch):
    """Point the scorer at another shipped file for one test (and forget the one read)."""
    def point(path):
        monkeypatch.setattr(mnist_score, 'SHIPPED', str(path))
        mnist_score.shipped_classifier.cache_clear()
    yield point
    mnist_score.shipped_classifier.cache_clear()


@pytest.fixture
def no_shipped(tmp_path, shipped_at):
    shipped_at(tmp_path / 'not_shipped.npz')


def test_the_shipped_classifier_is_used_as_it_is(tiny, tmp_path, capsys, monkeypatch, shipped_at):
    shipped_at(mnist_score.SHIPPED)
    with open(mnist_score.SHIPPED, 'rb') as f:
        assert hashlib.md5(f.read()).hexdigest() == mnist_score.SHIPPED_MD5
    monkeypatch.setattr(mnist_score, 'train_classifier', lambda *a: pytest.fail('trained'))
    weights = mnist_score.load_classifier(tiny, str(tmp_path / 'cache.npz'))
    assert [weights[f'w{i}'].shape for i in range(3)] == [(784, 512), (512, 128), (128, 10)]
    assert weights['test_accuracy'] == pytest.approx(0.9823, abs=1e-4)  # on MNIST's test set
    assert capsys.readouterr().out == '' and not (tmp_path / 'cache.npz').exists()


@pytest.mark.parametrize('damage', [b'', b'PK\x03\x04 not the shipped file'])
def test_a_missing_or_damaged_shipped_classifier_is_said_once_and_replaced_here(
        tiny, tmp_path, capsys, shipped_at, damage):
    shipped = tmp_path / 'shipped.npz'
    if damage:
        shipped.write_bytes(damage)
    shipped_at(shipped)
    cache = tmp_path / 'cache.npz'
    mnist_score.load_classifier(tiny, str(cache))
    said = capsys.readouterr().out.splitlines()
    assert len([line for line in said if str(shipped) in line]) == 1
    assert ('is damaged (md5' if damage else 'cannot be read') in said[0]
    assert 'compare only with runs scored by that same file' in said[0]
    assert cache.exists()
    assert shipped.read_bytes() == damage if damage else not shipped.exists()  # left as it was
    mnist_score.load_classifier(tiny, str(cache))
    assert capsys.readouterr().out == ''  # said once; the cached one is used


def test_classifier_is_trained_once_then_reused(tiny, tmp_path, capsys, monkeypatch, no_shipped):
    cache = str(tmp_path / 'classifier.npz')
    weights = mnist_score.load_classifier(tiny, cache)
    assert 'training an MNIST classifier' in capsys.readouterr().out
    assert weights['test_accuracy'] > 0.9  # the tiny digits are easy
    monkeypatch.setattr(mnist_score, 'train_classifier', lambda *a: pytest.fail('retrained'))
    again = mnist_score.load_classifier(tiny, cache)
    assert all(np.array_equal(weights[k], again[k]) for k in weights)


def test_damaged_cache_is_rebuilt(tiny, tmp_path, capsys, no_shipped):
    cache = tmp_path / 'classifier.npz'
    cache.write_bytes(b'PK\x03\x04 not really a zip')
    mnist_score.load_classifier(tiny, str(cache))
    assert 'is damaged' in capsys.readouterr().out
    with np.load(cache) as rebuilt:
        assert rebuilt['w0'].shape == (784, 512)


def test_scores_rank_real_images_above_noise(tiny, tmp_path, no_shipped):
    noise = np.random.default_rng(0).uniform(-1, 1, (300, 784)).astype(np.float32)
    figures = mnist_score.score_images(noise, tiny, str(tmp_path / 'classifier.npz'))
    assert set(figures) == {'classifier_score', 'frechet_distance', 'digit_shares',
                            'real_classifier_score', 'real_frechet_distance'}
    assert len(figures['digit_shares']) == 10 and sum(figures['digit_shares']) == pytest.approx(1)
    assert figures['real_classifier_score'] > 5 > figures['classifier_score']
    assert figures['real_frechet_distance'] < figures['frechet_distance'] / 10


def test_a_cache_of_another_version_is_retrained(tiny, tmp_path, capsys, no_shipped):
    cache = str(tmp_path / 'classifier.npz')
    weights = mnist_score.load_classifier(tiny, cache)
    np.savez(cache, **dict(weights, version=np.array('{"layers": [784, 512, 128, 10], "epochs": 10}')))
    capsys.readouterr()
    mnist_score.load_classifier(tiny, cache)
    assert 'trained otherwise than' in capsys.readouterr().out
    with np.load(cache) as rebuilt:
        assert str(rebuilt['version']) == mnist_score.VERSION
