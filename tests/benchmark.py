"""Speed figures for this machine (not a test: pytest does not collect it).

    python tests/benchmark.py            # about 1 minute on 2 cores

Prints: seconds from start to the first training step; ms per iteration of the script's loop
(one D step and one G step, with its progress bar, summaries and noise; its second epoch, once
TensorFlow has warmed up) and of a bare loop of
the same graph with no outputs, and their ratio; seconds of per-epoch output work; ms per bare
iteration for 1 and 2 intra-op and inter-op threads; peak memory.
"""
import os
import pickle
import resource
import sys
import tempfile
import time

start = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import gan_mnist  # after the clock starts: the import is part of the start-up being timed

tf = gan_mnist.tf
np = gan_mnist.np


def bare_loop(sess, g, train_set, iterations, rng):
    """The two sess.run calls per batch and nothing else: inputs made beforehand."""
    batches = gan_mnist.epoch_batches(train_set, rng)[:iterations]
    noise = rng.standard_normal((2 * iterations, gan_mnist.batch_size, 100), dtype=np.float32)
    began = time.perf_counter()
    for i, x_ in enumerate(batches):
        sess.run([g.D_loss, g.D_optim], {g.x: x_, g.z: noise[2 * i], g.drop_out: gan_mnist.keep_prob})
        sess.run([g.G_loss, g.G_optim], {g.z: noise[2 * i + 1], g.drop_out: gan_mnist.keep_prob})
    return (time.perf_counter() - began) / len(batches) * 1000


def session(intra=0, inter=0):
    config = tf.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)
    return tf.Session(config=config)


def main():
    tf.disable_eager_execution()
    tf.logging.set_verbosity(tf.logging.ERROR)
    results = tempfile.mkdtemp(prefix='gan_benchmark_')
    gan_mnist.apply_overrides([f'--results_dir={results}', '--train_epoch=2', '--eval_samples=0'])
    mnist = gan_mnist.read_data_sets(gan_mnist.data_dir, one_hot=True)
    train_set = (mnist.train.images - 0.5) / 0.5
    gan_mnist.prepare_results_dir()
    rng = np.random.default_rng(0)
    with tf.Graph().as_default(), session() as sess:
        g = gan_mnist.build_graph()
        gan_mnist.train(sess, g, mnist, train_set)  # two epochs of the script's own loop
        finished = time.perf_counter()
        bare_before = bare_loop(sess, g, train_set, 550, rng)
        bare_after = bare_loop(sess, g, train_set, 550, rng)
    with open(os.path.join(results, 'train_hist.pkl'), 'rb') as f:
        hist = pickle.load(f)
    # all but the training loop: start-up, and the few files written after the loop
    first_step = finished - start - hist['total_ptime'][0]
    epoch_seconds = hist['per_epoch_ptimes'][1]  # the second: the first one also warms up
    loop_ms = epoch_seconds / (len(train_set) // gan_mnist.batch_size) * 1000
    output_seconds = (hist['total_ptime'][0] - sum(hist['per_epoch_ptimes'])) / 2
    bare_ms = (bare_before + bare_after) / 2
    print(f'start to first training step: {first_step:.2f} s (at most: it includes the final GIF)')
    print(f"script's loop: {loop_ms:.2f} ms/iteration ({epoch_seconds:.2f} s/epoch)")
    print(f'bare loop:     {bare_ms:.2f} ms/iteration (two runs: {bare_before:.2f}, {bare_after:.2f})')
    print(f'loop-to-bare ratio (bare / loop): {bare_ms / loop_ms:.3f}')
    print(f'per-epoch output work: {output_seconds:.3f} s '
          f'({output_seconds / (epoch_seconds + output_seconds):.1%} of an epoch)')
    for intra, inter in ((1, 1), (1, 2), (2, 1), (2, 2), (0, 0)):
        with tf.Graph().as_default(), session(intra, inter) as sess:
            g = gan_mnist.build_graph()
            sess.run(tf.global_variables_initializer())
            bare_loop(sess, g, train_set, 5, rng)
            ms = bare_loop(sess, g, train_set, 200, rng)
        label = 'default' if intra == 0 else f'intra {intra}, inter {inter}'
        print(f'threads {label}: {ms:.2f} ms/iteration')
    print(f'peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB')


if __name__ == '__main__':
    main()
