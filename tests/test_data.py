"""The stand-in for input_data.read_data_sets: parsing, split, scaling, one-hot, the checks on
damaged files, and the download from a mirror (a local HTTP server here)."""
import gzip
import hashlib
import os
import re
import shutil

import numpy as np
import pytest
from helpers import ROOT, http_server, write_idx, write_mnist

import input_data
from input_data import DataError, read_data_sets


def test_split_scaling_and_one_hot(tmp_path):
    written = write_mnist(tmp_path, 120, 30)
    mnist = read_data_sets(str(tmp_path), one_hot=True, validation_size=20)
    train_images, train_labels = written['train']
    assert mnist.train.images.shape == (100, 784) and mnist.train.images.dtype == np.float32
    assert mnist.validation.images.shape == (20, 784) and mnist.test.images.shape == (30, 784)
    # the validation set is the first images, the training set the rest, in file order
    np.testing.assert_allclose(mnist.validation.images * 255, train_images[:20].reshape(20, 784))
    np.testing.assert_allclose(mnist.train.images * 255, train_images[20:].reshape(100, 784))
    assert mnist.train.images.min() >= 0 and mnist.train.images.max() == 1.0
    assert mnist.train.labels.shape == (100, 10) and np.all(mnist.train.labels.sum(axis=1) == 1)
    np.testing.assert_array_equal(mnist.train.labels.argmax(axis=1), train_labels[20:])
    digits = read_data_sets(str(tmp_path), one_hot=False, validation_size=20)
    np.testing.assert_array_equal(digits.test.labels, written['t10k'][1])


def test_default_split_is_the_references(tmp_path):
    write_mnist(tmp_path, 5100, 10)
    mnist = read_data_sets(str(tmp_path), one_hot=True)
    assert len(mnist.validation.images) == 5000 and len(mnist.train.images) == 100


def test_shipped_mnist_is_the_original():
    for name, md5 in input_data.MNIST_FILES.items():
        with open(os.path.join(ROOT, 'MNIST_data', name), 'rb') as f:
            assert hashlib.md5(f.read()).hexdigest() == md5, name


def corrupt(folder, name, how):
    path = os.path.join(folder, name)
    if how == 'not gzip':
        with open(path, 'wb') as f:
            f.write(b'this is not a gzip file at all')
    elif how == 'truncated gzip':
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
    elif how == 'wrong magic':  # each file carries the other kind's magic number
        write_idx(path, np.zeros((120, 28, 28)), magic=2049 if 'images' in name else 2051)
    elif how == 'wrong item shape':
        write_idx(path, np.zeros((120, 27, 28)))
    elif how == 'fewer bytes than the header says':
        with gzip.open(path, 'rb') as f:
            data = f.read()
        with gzip.open(path, 'wb') as f:
            f.write(data[:-784])
    elif how == 'labels do not pair with images':
        write_idx(path, np.zeros(119))
    elif how == 'label out of range':
        write_idx(path, np.full(120, 11))


@pytest.mark.parametrize('name, how, says', [
    ('train-images-idx3-ubyte.gz', 'not gzip', 'cannot be read as gzip'),
    ('train-images-idx3-ubyte.gz', 'truncated gzip', 'cannot be read as gzip'),
    ('t10k-labels-idx1-ubyte.gz', 'truncated gzip', 'cannot be read as gzip'),
    ('train-labels-idx1-ubyte.gz', 'wrong magic', 'magic number 2049'),
    ('train-images-idx3-ubyte.gz', 'wrong magic', 'magic number 2051'),
    ('train-images-idx3-ubyte.gz', 'wrong item shape', 'shape (27, 28)'),
    ('train-images-idx3-ubyte.gz', 'fewer bytes than the header says', 'truncated'),
    ('train-labels-idx1-ubyte.gz', 'labels do not pair with images', 'not a pair'),
    ('train-labels-idx1-ubyte.gz', 'label out of range', 'label 11'),
])
def test_each_kind_of_damaged_file_is_named(tmp_path, name, how, says):
    write_mnist(tmp_path, 120, 30)
    corrupt(str(tmp_path), name, how)
    with pytest.raises(DataError, match=re.escape(says)) as error:
        read_data_sets(str(tmp_path), validation_size=20)
    assert name in str(error.value)


def test_data_dir_that_is_a_file(tmp_path):
    (tmp_path / 'data').write_text('')
    with pytest.raises(DataError, match='is a file, not a folder'):
        read_data_sets(str(tmp_path / 'data'))


def test_validation_larger_than_the_training_set(tmp_path):
    write_mnist(tmp_path, 120, 30)
    with pytest.raises(DataError, match='validation_size 5000 is not within the 120'):
        read_data_sets(str(tmp_path))


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving the shipped MNIST files; yields (url, folder)."""
    served = tmp_path / 'mirror'
    shutil.copytree(os.path.join(ROOT, 'MNIST_data'), served,
                    ignore=shutil.ignore_patterns('mnist_classifier*'))
    with http_server(served) as url:
        yield url, served


def test_download_fetches_verifies_and_writes_only_the_missing_files(tmp_path, mirror):
    url, served = mirror
    data = tmp_path / 'data'
    data.mkdir()
    shutil.copy(served / 't10k-labels-idx1-ubyte.gz', data)
    input_data.maybe_download(str(data), url)
    assert sorted(os.listdir(data)) == sorted(input_data.MNIST_FILES)  # no .part files left
    for name in input_data.MNIST_FILES:
        assert (data / name).read_bytes() == (served / name).read_bytes()
    mnist = read_data_sets(str(data), one_hot=True)
    assert mnist.train.images.shape == (55000, 784) and mnist.test.labels.shape == (10000, 10)


def test_download_with_the_wrong_md5_saves_nothing(tmp_path, mirror):
    url, served = mirror
    with open(served / 'train-labels-idx1-ubyte.gz', 'ab') as f:
        f.write(b'tampered')
    data = tmp_path / 'data'
    with pytest.raises(DataError, match='not the published d53e105ee54ea40749a09fcbcd1e9432'):
        input_data.maybe_download(str(data), url)
    assert os.listdir(data) == ['train-images-idx3-ubyte.gz']  # fetched before the bad one


def test_offline_names_the_files_and_the_folder(tmp_path):
    data = tmp_path / 'data'
    with pytest.raises(DataError) as error:
        input_data.maybe_download(str(data), 'http://127.0.0.1:9/')  # nothing listens on port 9
    message = str(error.value)
    assert all(name in message for name in input_data.MNIST_FILES)
    assert str(data) in message and 'Copy the four original files' in message
    assert not data.exists()  # nothing is created when nothing could be fetched
