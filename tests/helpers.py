"""What the tests share: small MNIST-format data sets written on the fly, the script's own
defaults, and the script run as a user runs it (a subprocess) or in this process (to look at its
graph). The fixtures are in conftest.py."""
import ast
import contextlib
import functools
import gzip
import http.server
import io
import os
import runpy
import struct
import subprocess
import sys
import threading

import numpy as np
import tensorflow.compat.v1 as tf

import input_data
from configurator import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'gan_mnist.py')
DCGAN = os.path.join(ROOT, 'dcgan_mnist.py')
CGAN = os.path.join(ROOT, 'cgan_mnist.py')
CDCGAN = os.path.join(ROOT, 'cdcgan_mnist.py')
STORIES = {SCRIPT: 'MNIST_GAN_', DCGAN: 'MNIST_DCGAN_', CGAN: 'MNIST_cGAN_', CDCGAN: 'MNIST_cDCGAN_'}  # and their files' prefix


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


def script_defaults(script=SCRIPT):
    """The settings at the top of a story script, name: value, in their order, read from its
    source (importing the script would run it)."""
    with open(script, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    defaults = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue  # settings are plain names (not, e.g., sys.dont_write_bytecode)
        if node.targets[0].id == 'defaults':
            return defaults
        expression = ast.Expression(node.value)
        defaults[node.targets[0].id] = eval(compile(expression, script, 'eval'),
                                            {'input_data': input_data})
    raise AssertionError(f'{script} has no defaults = {{...}} line after its settings')


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass  # no line per request in the tests' output


@contextlib.contextmanager
def http_server(folder):
    """A local HTTP server on 127.0.0.1 serving folder's files (no internet in the tests); yields
    its address."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f'http://127.0.0.1:{server.server_port}/'
    finally:
        server.shutdown()
        server.server_close()


def run_script(*args, script=SCRIPT):
    """A story script (gan_mnist.py unless given) as a user runs it, in a subprocess; returns the
    CompletedProcess."""
    return subprocess.run([sys.executable, script, *args],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=180)


def run_in_process(*args, script=SCRIPT):
    """A story script (gan_mnist.py unless given) run in this process as a notebook's %run runs
    it; returns its globals when it ends (graph, tensors, train_hist, ...) and its graph, which
    the script made the default one."""
    argv = sys.argv
    sys.argv = [script, *args]
    try:
        return runpy.run_path(script, run_name='__main__'), tf.get_default_graph()
    finally:
        sys.argv = argv


def built_graph(results_dir, *args, script=DCGAN):
    """A story script's globals once its graph is built and initialized, without training: run
    with --sample=1 on an empty results_dir, it stops where it finds no checkpoint to sample
    (its one-line refusal, printed as it is raised, kept from stderr)."""
    argv = sys.argv
    sys.argv = [script, f'--results_dir={results_dir}', '--sample=1', *args]
    namespace = {'__name__': '__main__', '__file__': script}
    try:
        with open(script, encoding='utf-8') as f, contextlib.redirect_stderr(io.StringIO()):
            exec(compile(f.read(), script, 'exec'), namespace)  # noqa: S102 (runpy keeps no globals on an error)
    except InputError as e:
        assert 'no checkpoint' in str(e), e
        return namespace, tf.get_default_graph()
    finally:
        sys.argv = argv
    raise AssertionError(f'{script} --sample=1 found a checkpoint in {results_dir}')


def variables_read_by(tensor):
    """Names of the variables whose values flow into `tensor`."""
    seen, todo, found = set(), [tensor.op], set()
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        if op.type in ('VarHandleOp', 'VariableV2'):
            found.add(op.name + ':0')
        todo.extend(t.op for t in op.inputs)
    return found


def adam_lrs(graph, sess, feed_dict, networks):
    """{network: the learning rate its Adam applies}, input 5 of its update ops (G's may wait
    for batch norm's updates, which need a batch: feed_dict), the networks named by the first
    part of their variables' names."""
    return {network: sess.run({op.inputs[5] for op in graph.get_operations()
                               if op.type == 'ResourceApplyAdam'
                               and op.inputs[0].op.name.startswith(f'{network}/')}.pop(), feed_dict)
            for network in networks}
