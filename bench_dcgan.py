"""Speed of dcgan_mnist.py's step against a tf.function model of the same shapes and losses.

    python bench_dcgan.py config/dcgan_cpu.py     # about 3 minutes on 2 cores
    python bench_dcgan.py --img_size=64 --width=1024 --iterations=3   # the reference's size

Times, one after the other in this run: the script's own loop (one epoch of dcgan_mnist.py on
MNIST_data/ in this process, with its progress bar, summaries and noise: ms per D step and G
step; with --iterations=N, a bare loop of N iterations of its graph instead, for sizes whose
epoch takes an hour), then the same networks written with Keras layers and two tf.function
steps (D, then G, each one GradientTape), in a process of its own (the script turns eager
execution off for its whole process). Prints both and their ratio.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, 'dcgan_mnist.py')


def keras_ms_per_iteration(img_size, width, batch_size, iterations):
    """The reference's networks as Keras layers, D and G each stepped by a tf.function."""
    import keras
    import tensorflow as tf
    from keras import layers

    n_up = 1  # as dcgan_mnist.py: the stride-2 layers, and the side they start from
    while img_size % 2 ** (n_up + 1) == 0 and img_size // 2 ** (n_up + 1) >= 4:
        n_up += 1
    first = img_size // 2 ** n_up

    def normalized_lrelu():
        return [layers.BatchNormalization(momentum=0.99, epsilon=1e-3), layers.LeakyReLU(0.2)]
    G = [keras.Input((1, 1, 100)), layers.Conv2DTranspose(width, first), *normalized_lrelu()]
    for i in range(2, n_up + 1):
        G += [layers.Conv2DTranspose(width // 2 ** (i - 1), 4, 2, 'same'), *normalized_lrelu()]
    G = keras.Sequential(G + [layers.Conv2DTranspose(1, 4, 2, 'same', activation='tanh')])
    D = [keras.Input((img_size, img_size, 1)), layers.Conv2D(width // 2 ** (n_up - 1), 4, 2, 'same'),
         layers.LeakyReLU(0.2)]
    for i in range(2, n_up + 1):
        D += [layers.Conv2D(width // 2 ** (n_up - i), 4, 2, 'same'), *normalized_lrelu()]
    D = keras.Sequential(D + [layers.Conv2D(1, first)])
    D_adam, G_adam = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)

    def cross_entropy(logits, label):
        labels = tf.fill(tf.shape(logits), label)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=labels))

    @tf.function
    def d_step(x, z):
        with tf.GradientTape() as tape:
            loss = cross_entropy(D(x, training=True), 1.0) \
                + cross_entropy(D(G(z, training=True), training=True), 0.0)
        D_adam.apply_gradients(zip(tape.gradient(loss, D.trainable_variables), D.trainable_variables))
        return loss

    @tf.function
    def g_step(x, z):
        with tf.GradientTape() as tape:
            D(x, training=True)  # as the script's G step, which also updates D_real's statistics
            loss = cross_entropy(D(G(z, training=True), training=True), 1.0)
        G_adam.apply_gradients(zip(tape.gradient(loss, G.trainable_variables), G.trainable_variables))
        return loss

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, img_size, img_size, 1)).astype(np.float32)

    def iteration():
        d_step(x, rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)).numpy()
        g_step(x, rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)).numpy()
    for _ in range(3):  # tracing and warming up
        iteration()
    began = time.perf_counter()
    for _ in range(iterations):
        iteration()
    return (time.perf_counter() - began) / iterations * 1000


def script_ms_per_iteration(args, iterations):
    """ms per iteration of dcgan_mnist.py: its loop over one epoch, or a bare loop of its graph;
    and its image size, width and batch size."""
    from configurator import InputError
    results = tempfile.mkdtemp(prefix='dcgan_benchmark_')
    instead = '--sample=1' if iterations else '--train_epoch=1'  # --sample=1 in a new folder
    sys.argv = [SCRIPT, *args, f'--results_dir={results}', '--eval_samples=0', '--eval_every=0', instead]
    script = {'__name__': '__main__', '__file__': SCRIPT}
    try:
        with open(SCRIPT) as f:  # exec, not runpy: its globals stay where it stops
            exec(compile(f.read(), SCRIPT, 'exec'), script)  # noqa: S102
    except InputError as e:  # builds the graph, then finds no checkpoint to sample
        if 'no checkpoint' not in str(e):
            raise
    s = {name: script[name] for name in ('img_size', 'width', 'batch_size')}
    if not iterations:
        n_batches = len(script['train_set']) // s['batch_size']
        return s, script['train_hist']['per_epoch_ptimes'][0] / n_batches * 1000
    sess, x, z, isTrain, batch = script['sess'], script['x'], script['z'], script['isTrain'], s['batch_size']
    rng = np.random.default_rng(0)
    x_ = rng.uniform(-1, 1, (batch, s['img_size'], s['img_size'], 1)).astype(np.float32)

    def iteration():
        sess.run([script['D_loss'], script['D_optim']],
                 {x: x_, z: rng.standard_normal((batch, 1, 1, 100)), isTrain: True})
        sess.run([script['G_loss'], script['G_optim']],
                 {z: rng.standard_normal((batch, 1, 1, 100)), x: x_, isTrain: True})
    iteration()
    began = time.perf_counter()
    for _ in range(iterations):
        iteration()
    return s, (time.perf_counter() - began) / iterations * 1000


def main():
    if sys.argv[1:2] == ['--keras']:  # the child process: eager execution, tf.function
        s = json.loads(sys.argv[2])
        print(keras_ms_per_iteration(s['img_size'], s['width'], s['batch_size'], s['iterations']))
        return
    args = [a for a in sys.argv[1:] if not a.startswith('--iterations=')]
    iterations = int(next((a.split('=')[1] for a in sys.argv[1:] if a.startswith('--iterations=')), 0))
    s, script_ms = script_ms_per_iteration(args, iterations)
    child = subprocess.run([sys.executable, __file__, '--keras',
                            json.dumps(dict(s, iterations=iterations or 50))],
                           capture_output=True, text=True, check=True)
    keras_ms = float(child.stdout.split()[-1])
    where = f'bare loop, {iterations} iterations' if iterations else 'its loop, one epoch'
    print(f"img_size {s['img_size']}, width {s['width']}, batch {s['batch_size']}")
    print(f'dcgan_mnist.py ({where}): {script_ms:.1f} ms/iteration')
    print(f'tf.function model of the same shapes: {keras_ms:.1f} ms/iteration')
    print(f'ratio (script / tf.function): {script_ms / keras_ms:.3f}')


if __name__ == '__main__':
    main()
