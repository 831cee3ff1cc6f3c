"""Speed figures for this machine.

    python bench.py                     # the reference's settings; about 1.5 minutes on 2 cores
    python bench.py config/recipe.py    # any settings of gan_mnist.py, as the script takes them

Runs gan_mnist.py for 2 epochs in this process, then times a bare loop on its graph. Prints:
seconds from start to the first training step; ms per iteration of the script's loop (one D step
and one G step, with its progress bar, summaries and noise; its second epoch, once TensorFlow has
warmed up) and of a bare loop of the same graph with no outputs, and their ratio; seconds of
per-epoch output work; ms per bare iteration for 1 and 2 intra-op and inter-op threads; peak
memory; last, the bare loop in float32 and in bfloat16, in short rounds taken in turn, and
`bfloat16 speed-up: X` (the median of the rounds' float32 ms / bfloat16 ms).
"""
import os
import pickle
import runpy
import sys
import tempfile
import time

start = time.perf_counter()  # before the imports: they are part of the start-up being timed
import numpy as np
import tensorflow.compat.v1 as tf

from bench_dcgan import print_bfloat16_speed_up

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gan_mnist.py')


def bare_loop(sess, script, iterations, rng):
    """The two sess.run calls per batch and nothing else: inputs made beforehand."""
    batch_size, keep_prob = script['batch_size'], script['keep_prob']
    x, z, drop_out = script['x'], script['z'], script['drop_out']
    batches = [script['train_set'][i * batch_size:(i + 1) * batch_size] for i in range(iterations)]
    noise = rng.standard_normal((2 * iterations, batch_size, 100), dtype=np.float32)
    began = time.perf_counter()
    for i, x_ in enumerate(batches):
        sess.run([script['D_loss'], script['D_optim']], {x: x_, z: noise[2 * i], drop_out: keep_prob})
        sess.run([script['G_loss'], script['G_optim']], {z: noise[2 * i + 1], drop_out: keep_prob})
    return (time.perf_counter() - began) / len(batches) * 1000


def peak_memory():
    """'peak memory: N MiB', the process's peak resident memory, from the POSIX-only resource
    module (ru_maxrss: KiB on Linux, bytes on macOS); where it is missing (Windows), says so."""
    try:
        import resource
    except ImportError:
        return 'peak memory: not measured here (no resource module, as on Windows)'
    unit = 1 if sys.platform == 'darwin' else 1024
    return f'peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2 ** 20:.0f} MiB'


def session(intra=0, inter=0):
    config = tf.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)
    return tf.Session(config=config)


def main():
    args = sys.argv[1:]
    results = tempfile.mkdtemp(prefix='gan_benchmark_')
    sys.argv = [SCRIPT, *args, f'--results_dir={results}', '--train_epoch=2', '--eval_samples=0',
                '--eval_every=0']
    script = runpy.run_path(SCRIPT, run_name='__main__')  # two epochs of the script's own loop
    finished = time.perf_counter()
    rng = np.random.default_rng(0)
    init = tf.global_variables_initializer()
    with session() as sess:
        sess.run(init)
        bare_before = bare_loop(sess, script, 550, rng)
        bare_after = bare_loop(sess, script, 550, rng)
    with open(os.path.join(results, 'train_hist.pkl'), 'rb') as f:
        hist = pickle.load(f)
    # all but the training loop: start-up, and the few files written after the loop
    first_step = finished - start - hist['total_ptime'][0]
    epoch_seconds = hist['per_epoch_ptimes'][1]  # the second: the first one also warms up
    loop_ms = epoch_seconds / (len(script['train_set']) // script['batch_size']) * 1000
    output_seconds = (hist['total_ptime'][0] - sum(hist['per_epoch_ptimes'])) / 2
    bare_ms = (bare_before + bare_after) / 2
    print(f'start to first training step: {first_step:.2f} s (at most: it includes the final GIF)')
    print(f"script's loop: {loop_ms:.2f} ms/iteration ({epoch_seconds:.2f} s/epoch)")
    print(f'bare loop:     {bare_ms:.2f} ms/iteration (two runs: {bare_before:.2f}, {bare_after:.2f})')
    print(f'loop-to-bare ratio (bare / loop): {bare_ms / loop_ms:.3f}')
    print(f'per-epoch output work: {output_seconds:.3f} s '
          f'({output_seconds / (epoch_seconds + output_seconds):.1%} of an epoch)')
    for intra, inter in ((1, 1), (1, 2), (2, 1), (2, 2), (0, 0)):
        with session(intra, inter) as sess:
            sess.run(init)
            bare_loop(sess, script, 5, rng)
            ms = bare_loop(sess, script, 200, rng)
        label = 'default' if intra == 0 else f'intra {intra}, inter {inter}'
        print(f'threads {label}: {ms:.2f} ms/iteration')
    print(peak_memory())
    print_bfloat16_speed_up(SCRIPT, args, lambda namespace, n: bare_loop(namespace['sess'], namespace, n, rng), 60)


if __name__ == '__main__':
    main()
