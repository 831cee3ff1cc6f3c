"""Shared helpers: small MNIST-format data sets written on the fly, and the script's settings
restored after every test."""
import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import gan_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
gan_mnist.tf.disable_eager_execution()


def write_idx(path, array, magic=None):
    """Write a uint8 array as a gzipped IDX file (magic 2051 for images, 2049 for labels)."""
    array = np.asarray(array, np.uint8)
    magic = magic if magic is not None else (2051 if array.ndim == 3 else 2049)
    with gzip.open(path, 'wb', compresslevel=1) as f:
        f.write(struct.pack('>I', magic) + struct.pack(f'>{array.ndim}I', *array.shape))
        f.write(array.tobytes())


def write_mnist(folder, n_train, n_test, seed=0):
    """Four IDX files shaped like MNIST: digit d is a bright bar at row 2d plus noise, so that
    a classifier can learn it. Returns the images and labels written."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    written = {}
    for kind, n in (('train', n_train), ('t10k', n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, d in enumerate(labels):
            images[i, 2 * d + 2:2 * d + 5, 4:24] = 255
        write_idx(os.path.join(folder, f'{kind}-images-idx3-ubyte.gz'), images)
        write_idx(os.path.join(folder, f'{kind}-labels-idx1-ubyte.gz'), labels)
        written[kind] = (images, labels)
    return written


@pytest.fixture(scope='session')
def tiny_mnist(tmp_path_factory):
    """5,000 validation + 2,000 training images and 500 test images."""
    folder = str(tmp_path_factory.mktemp('tiny_mnist'))
    write_mnist(folder, 7000, 500)
    return folder


@pytest.fixture(autouse=True)
def default_settings():
    yield
    for name, value in gan_mnist.SETTINGS.items():
        setattr(gan_mnist, name, value)


def run_script(*args):
    """gan_mnist.py as a user runs it, in a subprocess; returns the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, 'gan_mnist.py'), *args],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=180)
