"""Speed of dcgan_mnist.py: its step against a tf.function model of the same networks, and its
whole run against the fully connected recipe's.

    python bench_dcgan.py config/dcgan_cpu.py     # about 4 minutes on 2 cores
    python bench_dcgan.py --img_size=64 --g_width=1024 --d_width=1024 --iterations=3   # the reference's size

Times, one after the other in this run: the script's own loop (one epoch of dcgan_mnist.py on
MNIST_data/ in this process, with its progress bar, summaries, noise and a scoring of 10,000
samples: ms per D step and G step; with --iterations=N, a bare loop of N iterations of its graph
instead, for sizes whose epoch takes an hour); the same networks written with Keras layers and
two tf.function steps (D, then G, each one GradientTape), in a process of its own (the script
turns eager execution off for its whole process); and, unless --iterations is given, one epoch
and one scoring of `python gan_mnist.py config/recipe.py`, in a process of its own; then bare
loops of the script's graph in float32 and in bfloat16, in short rounds taken in turn. Prints
the step ratio, each whole run as its epochs and scorings would take, `preset run / recipe run: R`,
and last `bfloat16 speed-up: X` (the median of the rounds' float32 ms / bfloat16 ms an iteration).
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from backstage.bfloat16 import cpu_bfloat16_flags

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, 'dcgan_mnist.py')
RECIPE = [os.path.join(HERE, 'gan_mnist.py'), os.path.join(HERE, 'config', 'recipe.py')]
SCORED = ['--train_epoch=1', '--eval_every=1', '--eval_samples=10000']  # an epoch and a scoring


def keras_ms_per_iteration(s):
    """The script's networks as Keras layers, D and G each stepped by a tf.function; s holds the
    script's settings and its layer plan (n_up stride-2 layers from a first x first side)."""
    import keras
    import tensorflow as tf
    from keras import layers

    from backstage.layers import with_minibatch_spread
    n_up, first, k = s['n_up'], s['first'], s['kernel_size']

    def normalized_lrelu():
        return [layers.BatchNormalization(momentum=0.99, epsilon=1e-3), layers.LeakyReLU(0.2)]

    def dropped():
        return [layers.Dropout(1 - s['keep_prob'])] if s['keep_prob'] < 1 else []
    G = [keras.Input((1, 1, 100))]
    for _ in range(s['g_dense_layers'] if s['g_dense_units'] else 0):
        G += [layers.Dense(s['g_dense_units']), *normalized_lrelu()]
    G += [layers.Conv2DTranspose(s['g_width'], first), *normalized_lrelu()]
    for i in range(2, n_up + 1):
        G += [layers.Conv2DTranspose(s['g_width'] // 2 ** (i - 1), k, 2, 'same'), *normalized_lrelu()]
    G = keras.Sequential(G + [layers.Conv2DTranspose(1, k, 2, 'same', activation='tanh')])
    D = [keras.Input((s['img_size'], s['img_size'], 1)),
         layers.Conv2D(s['d_width'] // 2 ** (n_up - 1), k, 2, 'same'), layers.LeakyReLU(0.2), *dropped()]
    for i in range(2, n_up + 1):
        D += [layers.Conv2D(s['d_width'] // 2 ** (n_up - i), k, 2, 'same'), *normalized_lrelu(), *dropped()]
    if s['d_dense_units']:
        D += [layers.Flatten(), layers.Dense(s['d_dense_units']), *normalized_lrelu(), *dropped()]
    D += [layers.Lambda(with_minibatch_spread)] if s['minibatch_stddev'] else []
    D += [layers.Dense(1), layers.Reshape((1, 1, 1))] if s['d_dense_units'] else [layers.Conv2D(1, first)]
    D = keras.Sequential(D)
    D_adam = keras.optimizers.Adam(s['lr'] * s['d_lr_ratio'], beta_1=s['adam_beta1'])
    G_adam = keras.optimizers.Adam(s['lr'], beta_1=s['adam_beta1'])

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

    batch_size, rng = s['batch_size'], np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, s['img_size'], s['img_size'], 1)).astype(np.float32)

    def iteration():
        d_step(x, rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)).numpy()
        g_step(x, rng.standard_normal((batch_size, 1, 1, 100), dtype=np.float32)).numpy()
    for _ in range(3):  # tracing and warming up
        iteration()
    began = time.perf_counter()
    for _ in range(s['iterations']):
        iteration()
    return (time.perf_counter() - began) / s['iterations'] * 1000


def run_script(script, args):
    """Run a story script in this process as `script args`; its globals where it stops (a
    --sample=1 in a new folder stops once its graph is built, finding no checkpoint: its
    refusal's line is the bench's to keep from stderr)."""
    from configurator import InputError
    sys.argv = [script, *args]
    namespace = {'__name__': '__main__', '__file__': script}
    try:
        with open(script, encoding='utf-8') as f, contextlib.redirect_stderr(io.StringIO()) as said:
            exec(compile(f.read(), script, 'exec'), namespace)  # noqa: S102 (exec, not runpy: its globals stay where it stops)
    except InputError as e:
        if 'no checkpoint' not in str(e):
            sys.stderr.write(said.getvalue())
            raise
    return namespace


def whole_run(namespace, args):
    """The epochs and scorings the run asked for by `args` would take, in seconds, from the one
    epoch and one scoring the script just timed (its train_hist), and a line saying how."""
    import configurator
    planned = configurator.configure(args, namespace['defaults'])
    every, epochs = planned['eval_every'], planned['train_epoch']
    scorings = 0 if not planned['eval_samples'] else \
        (epochs // every if every else 0) + (0 if every and epochs % every == 0 else 1)
    hist = namespace['train_hist']
    epoch_s = hist['per_epoch_ptimes'][0]
    scoring_s = hist['total_ptime'][0] - epoch_s  # the scoring and the epoch's outputs
    seconds = epochs * epoch_s + scorings * scoring_s
    return seconds, (f'{epochs} epochs x {epoch_s:.1f} s + {scorings} scorings x {scoring_s:.1f} s '
                     f'= {seconds / 60:.1f} min')


def child(args):
    """python bench_dcgan.py --keras SETTINGS | --recipe: what runs in a process of its own."""
    if args[0] == '--keras':
        print(keras_ms_per_iteration(json.loads(args[1])))
        return
    results = tempfile.mkdtemp(prefix='recipe_benchmark_')
    namespace = run_script(RECIPE[0], [RECIPE[1], *SCORED, f'--results_dir={results}'])
    print(json.dumps(whole_run(namespace, [RECIPE[1]])))


def main():
    if sys.argv[1:2] in (['--keras'], ['--recipe']):
        child(sys.argv[1:])
        return
    args = [a for a in sys.argv[1:] if not a.startswith('--iterations=')]
    iterations = int(next((a.split('=')[1] for a in sys.argv[1:] if a.startswith('--iterations=')), 0))
    results = tempfile.mkdtemp(prefix='dcgan_benchmark_')
    instead = ['--sample=1'] if iterations else SCORED  # --sample=1 in a new folder: the graph only
    ns = run_script(SCRIPT, [*args, f'--results_dir={results}', *instead])
    s = {name: ns[name] for name in ('img_size', 'g_width', 'd_width', 'kernel_size', 'g_dense_units', 'g_dense_layers', 'd_dense_units', 'keep_prob',
                                     'minibatch_stddev', 'lr', 'd_lr_ratio', 'adam_beta1',
                                     'batch_size', 'n_up', 'first')}
    if iterations:
        bare_ms_per_iteration(ns, min(iterations, 3))  # warming up
        script_ms = bare_ms_per_iteration(ns, iterations)
    else:
        script_ms = ns['train_hist']['per_epoch_ptimes'][0] / (len(ns['train_set']) // s['batch_size']) * 1000
    keras = subprocess.run([sys.executable, __file__, '--keras', json.dumps(dict(s, iterations=iterations or 50))],
                           capture_output=True, text=True, check=True)
    keras_ms = float(keras.stdout.split()[-1])
    where = f'bare loop, {iterations} iterations' if iterations else 'its loop, one epoch'
    print(f"img_size {s['img_size']}, g_width {s['g_width']}, d_width {s['d_width']}, "
          f"batch {s['batch_size']}")
    print(f'dcgan_mnist.py ({where}): {script_ms:.1f} ms/iteration')
    print(f'tf.function model of the same shapes: {keras_ms:.1f} ms/iteration')
    print(f'ratio (script / tf.function): {script_ms / keras_ms:.3f}')
    if not iterations:
        preset_s, preset_said = whole_run(ns, args)
        recipe = subprocess.run([sys.executable, __file__, '--recipe'], capture_output=True, text=True, check=True)
        recipe_s, recipe_said = json.loads(recipe.stdout.splitlines()[-1])
        print(f'preset run ({" ".join(args) or "the defaults"}): {preset_said}')
        print(f'recipe run (config/recipe.py): {recipe_said}')
        print(f'preset run / recipe run: {preset_s / recipe_s:.2f}')
    print_bfloat16_speed_up(SCRIPT, args, bare_ms_per_iteration, iterations or 10, rounds=3 if iterations else 10)


def print_bfloat16_speed_up(script, args, bare_ms, iterations, rounds=10):
    """Build the script's graph (with `args`) in float32 and in bfloat16, each in a graph of its
    own in this process (the script makes a new one each run), time bare_ms(namespace,
    iterations) of one then the other, `rounds` times, and print the median of each and of the rounds' ratios: short rounds taken in turn,
    because a VM's speed drifts within minutes (the same loop measured 133 to 224 ms in a day)."""
    built = {precision: run_script(script, [*args, f'--precision={precision}', '--sample=1',  # a graph each
                                            f'--results_dir={tempfile.mkdtemp(prefix="bfloat16_")}'])
             for precision in ('float32', 'bfloat16')}
    for namespace in built.values():
        bare_ms(namespace, 3)  # warming up: grappler's rewrite, oneDNN's kernels
    rounds_ms = {precision: [] for precision in built}
    for _ in range(rounds):
        for precision, namespace in built.items():
            rounds_ms[precision].append(bare_ms(namespace, iterations))
    ms = {precision: np.median(times) for precision, times in rounds_ms.items()}
    speed_up = np.median(np.divide(rounds_ms['float32'], rounds_ms['bfloat16']))
    flags = ' '.join(cpu_bfloat16_flags() or []) or 'none'
    print(f"bare loop, median of {rounds} rounds of {iterations} iterations taken in turn: float32 "
          f"{ms['float32']:.1f} ms/iteration, bfloat16 {ms['bfloat16']:.1f} (bfloat16 flags of this CPU: {flags})")
    print(f"bfloat16 speed-up: {speed_up:.2f}")


def bare_ms_per_iteration(ns, iterations):
    """ms per iteration of a bare loop of the script's graph: the two sess.run calls only."""
    sess, x, z, isTrain, batch = ns['sess'], ns['x'], ns['z'], ns['isTrain'], ns['batch_size']
    rng = np.random.default_rng(0)
    x_ = rng.uniform(-1, 1, (batch, ns['img_size'], ns['img_size'], 1)).astype(np.float32)

    def iteration():
        sess.run([ns['D_loss'], ns['D_optim']], {x: x_, z: rng.standard_normal((batch, 1, 1, 100)), isTrain: True})
        sess.run([ns['G_loss'], ns['G_optim']], {z: rng.standard_normal((batch, 1, 1, 100)), x: x_, isTrain: True})
    began = time.perf_counter()
    for _ in range(iterations):
        iteration()
    return (time.perf_counter() - began) / iterations * 1000


if __name__ == '__main__':
    main()
