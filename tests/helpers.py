"""What the tests share: small MNIST-format data sets written on the fly, the script's own
defaults, and the script run as a user runs it (a subprocess) or in this process (to look at its
graph). The fixtures are in conftest.py."""
import ast
import gzip
import os
import runpy
import struct
import subprocess
import sys

import numpy as np
import tensorflow.compat.v1 as tf

import input_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'gan_mnist.py')


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


def script_defaults():
    """The settings at the top of gan_mnist.py, name: value, in their order, read from its
    source (importing the script would run it)."""
    with open(SCRIPT) as f:
        tree = ast.parse(f.read())
    defaults = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue  # settings are plain names (not, e.g., sys.dont_write_bytecode)
        if node.targets[0].id == 'defaults':
            return defaults
        expression = ast.Expression(node.value)
        defaults[node.targets[0].id] = eval(compile(expression, SCRIPT, 'eval'),
                                            {'input_data': input_data})
    raise AssertionError('gan_mnist.py has no defaults = {...} line after its settings')


def run_script(*args):
    """gan_mnist.py as a user runs it, in a subprocess; returns the CompletedProcess."""
    return subprocess.run([sys.executable, SCRIPT, *args],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=180)


def run_in_process(*args):
    """gan_mnist.py run in this process in a graph of its own; returns its globals when it ends
    (graph, tensors, train_hist, ...) and the graph."""
    argv, hook = sys.argv, sys.excepthook
    sys.argv = [SCRIPT, *args]
    try:
        with tf.Graph().as_default() as graph:
            return runpy.run_path(SCRIPT, run_name='__main__'), graph
    finally:
        sys.argv, sys.excepthook = argv, hook
