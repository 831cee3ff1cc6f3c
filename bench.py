"""Speed figures of a story on this machine, one command for every story:

    python bench.py                                     # gan_mnist.py, the reference's settings
    python bench.py dcgan_mnist.py config/dcgan_cpu.py  # any story, then its settings as it takes them
    python bench.py cdcgan config/cdcgan_cpu.py         # a story's short name does too
    python bench.py cdcgan --iterations=20              # the reference's cDCGAN: bare loops only

Runs the story in this process for 2 epochs on MNIST_data/ and a scoring of 10,000 samples (its
own loop, with its progress bar, summaries and noise), then times, one after the other: a bare
loop of its graph (the two sess.run calls only, inputs made beforehand); its networks' tf.function
twin (experiments/twins.py), in a process of its own (the story turns eager execution off for its
whole process); one epoch and one scoring of `gan_mnist.py config/recipe.py`, in a process of its
own; and bare loops in float32 and in bfloat16, in short rounds taken in turn. With
--iterations=N, bare loops of N iterations stand in for the story's loop and the recipe's run is
skipped (for sizes whose epoch takes many minutes). Prints ms per iteration of each, `ratio
(script / tf.function): R`, the whole run as its epochs and scorings would take, `preset run /
recipe run: R` (but for gan_mnist.py's defaults), peak memory, and last `bfloat16 speed-up: X`
(the median of the rounds' float32 ms / bfloat16 ms an iteration).
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

start = time.perf_counter()  # before the imports: they are part of the start-up being timed
import numpy as np

from backstage.bfloat16 import cpu_bfloat16_flags

HERE = os.path.dirname(os.path.abspath(__file__))
STORIES = ('gan_mnist.py', 'dcgan_mnist.py', 'cgan_mnist.py', 'cdcgan_mnist.py')
RECIPE = [os.path.join(HERE, 'gan_mnist.py'), os.path.join(HERE, 'config', 'recipe.py')]
SCORED = ['--train_epoch=2', '--eval_every=0', '--eval_samples=10000']  # two epochs and a scoring
# what the twins read of a story, where the story has it
TWIN_SETTINGS = ('batch_size', 'lr', 'd_lr_ratio', 'keep_prob', 'leaky_slope', 'batch_norm', 'minibatch_stddev',
                 'eps', 'img_size', 'g_width', 'd_width', 'kernel_size', 'g_dense_units', 'g_dense_layers',
                 'd_dense_units', 'n_up', 'first')
FEEDS = ('x', 'y', 'z', 'y_label', 'y_fill')  # the placeholders a story's steps may take


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


def open_session(ns):
    """The story's session; after its last line (`sess.close()`), a new one on its graph with its
    config (bfloat16's rewrite included), its variables initialized afresh: a step takes as long
    whatever the weights. (tf.Session keeps whether it is closed, and its config, to itself.)"""
    import tensorflow.compat.v1 as tf
    closed = ns['sess']
    if not closed._closed:
        return closed
    ns['sess'] = tf.Session(graph=closed.graph, config=closed._config)
    with closed.graph.as_default():
        ns['sess'].run(tf.global_variables_initializer())
    return ns['sess']


def bare_ms_per_iteration(ns, iterations, rng=None):
    """ms per iteration of a bare loop of a story's graph: its D step and its G step, fed random
    inputs of its placeholders' shapes (made beforehand), dropout's keep_prob, isTrain True."""
    rng = rng or np.random.default_rng(0)
    batch, sess = ns['batch_size'], open_session(ns)
    feeds = []
    for _ in range(2 * iterations):
        feed = {ns[name]: rng.uniform(-1, 1, (batch, *ns[name].shape[1:])).astype(np.float32)
                for name in FEEDS if name in ns and hasattr(ns[name], 'op') and ns[name].op.type == 'Placeholder'}
        feed.update({ns['drop_out']: ns['keep_prob']} if 'drop_out' in ns else {ns['isTrain']: True})
        feeds.append(feed)
    began = time.perf_counter()
    for i in range(iterations):
        sess.run([ns['D_loss'], ns['D_optim']], feeds[2 * i])
        sess.run([ns['G_loss'], ns['G_optim']], feeds[2 * i + 1])
    return (time.perf_counter() - began) / iterations * 1000


def twin_settings(ns):
    """What the tf.function twin reads of a story that ran: its settings as configured (the
    cDCGAN rebinds lr to its decay), else what the story derived from them (the DCGAN's n_up)."""
    return {name: ns['settings'].get(name, ns.get(name)) for name in TWIN_SETTINGS if name in ns}


def whole_run(namespace, args):
    """The epochs and scorings the run asked for by `args` would take, in seconds, from the
    second epoch and the scoring the script just timed (its train_hist), and a line saying how."""
    import configurator
    planned = configurator.configure(args, namespace['defaults'])
    every, epochs = planned['eval_every'], planned['train_epoch']
    scorings = 0 if not planned['eval_samples'] else \
        (epochs // every if every else 0) + (0 if every and epochs % every == 0 else 1)
    hist = namespace['train_hist']
    epoch_s = hist['per_epoch_ptimes'][-1]
    scoring_s = hist['total_ptime'][0] - sum(hist['per_epoch_ptimes'])  # the scoring and the epochs' outputs
    seconds = epochs * epoch_s + scorings * scoring_s
    return seconds, (f'{epochs} epochs x {epoch_s:.1f} s + {scorings} scorings x {scoring_s:.1f} s '
                     f'= {seconds / 60:.1f} min')


def peak_memory():
    """'peak memory: N MiB', the process's peak resident memory, from the POSIX-only resource
    module (ru_maxrss: KiB on Linux, bytes on macOS); where it is missing (Windows), says so."""
    try:
        import resource
    except ImportError:
        return 'peak memory: not measured here (no resource module, as on Windows)'
    unit = 1 if sys.platform == 'darwin' else 1024
    return f'peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2 ** 20:.0f} MiB'


def recipe_run():
    """python bench.py --recipe: one epoch and one scoring of the recipe, in a process of its own."""
    results = tempfile.mkdtemp(prefix='recipe_benchmark_')
    namespace = run_script(RECIPE[0], [RECIPE[1], '--train_epoch=1', '--eval_every=1',
                                       '--eval_samples=10000', f'--results_dir={results}'])
    print(json.dumps(whole_run(namespace, [RECIPE[1]])))


def print_bfloat16_speed_up(script, args, iterations, rounds=10):
    """Build the script's graph (with `args`) in float32 and in bfloat16, each in a graph of its
    own in this process (the script makes a new one each run), time bare loops of `iterations`
    of one then the other, `rounds` times, and print the median of each and of the rounds'
    ratios: short rounds taken in turn, because a VM's speed drifts within minutes (the same loop
    measured 133 to 224 ms in a day)."""
    built = {precision: run_script(script, [*args, f'--precision={precision}', '--sample=1',  # a graph each
                                            f'--results_dir={tempfile.mkdtemp(prefix="bfloat16_")}'])
             for precision in ('float32', 'bfloat16')}
    for namespace in built.values():
        bare_ms_per_iteration(namespace, 3)  # warming up: grappler's rewrite, oneDNN's kernels
    rounds_ms = {precision: [] for precision in built}
    for _ in range(rounds):
        for precision, namespace in built.items():
            rounds_ms[precision].append(bare_ms_per_iteration(namespace, iterations))
    ms = {precision: np.median(times) for precision, times in rounds_ms.items()}
    speed_up = np.median(np.divide(rounds_ms['float32'], rounds_ms['bfloat16']))
    flags = ' '.join(cpu_bfloat16_flags() or []) or 'none'
    print(f"bare loop, median of {rounds} rounds of {iterations} iterations taken in turn: float32 "
          f"{ms['float32']:.1f} ms/iteration, bfloat16 {ms['bfloat16']:.1f} (bfloat16 flags of this CPU: {flags})")
    print(f"bfloat16 speed-up: {speed_up:.2f}")


def main(argv):
    if argv[:1] == ['--recipe']:
        recipe_run()
        return
    named = argv[0] if argv and not argv[0].startswith('--') and not argv[0].startswith('config') else ''
    story = next((s for s in STORIES if named in (s, s[:-len('_mnist.py')])), None) if named else STORIES[0]
    if story is None:
        sys.exit(f"bench.py: error: {named!r} is not a story: give one of {', '.join(STORIES)} (or its short name).")
    script, args = os.path.join(HERE, story), argv[1:] if named else argv
    iterations = int(next((a.split('=')[1] for a in args if a.startswith('--iterations=')), 0))
    args = [a for a in args if not a.startswith('--iterations=')]
    instead = ['--sample=1'] if iterations else SCORED  # --sample=1 in a new folder: the graph only
    ns = run_script(script, [*args, f'--results_dir={tempfile.mkdtemp(prefix="bench_")}', *instead])
    finished = time.perf_counter()
    bare_ms_per_iteration(ns, 3)  # warming up
    bare_ms = bare_ms_per_iteration(ns, iterations or 50)
    twin = dict(twin_settings(ns), story=story, iterations=iterations or 50)
    twin_ms = float(subprocess.run([sys.executable, os.path.join(HERE, 'experiments', 'twins.py'), json.dumps(twin)],
                                   capture_output=True, text=True, check=True).stdout.split()[-1])
    print(f"{story} {' '.join(args) or '(its defaults)'}: batch {ns['batch_size']}")
    if iterations:
        print(f'bare loop: {bare_ms:.1f} ms/iteration ({iterations} iterations)')
        print(f'tf.function twin of the same networks: {twin_ms:.1f} ms/iteration')
        print(f'ratio (script / tf.function): {bare_ms / twin_ms:.3f} (its bare loop)')
    else:
        hist = ns['train_hist']
        loop_ms = hist['per_epoch_ptimes'][-1] / (len(ns['train_set']) // ns['batch_size']) * 1000
        print(f'start to first training step: {finished - start - hist["total_ptime"][0]:.1f} s')
        print(f"{story}'s loop (its second epoch): {loop_ms:.1f} ms/iteration; bare loop: {bare_ms:.1f} "
              f"(loop-to-bare ratio, bare / loop: {bare_ms / loop_ms:.3f})")
        print(f'tf.function twin of the same networks: {twin_ms:.1f} ms/iteration')
        print(f'ratio (script / tf.function): {loop_ms / twin_ms:.3f}')
        preset_s, preset_said = whole_run(ns, args)
        print(f'the run ({" ".join(args) or "the defaults"}): {preset_said}')
        if story != STORIES[0] or args:
            recipe = subprocess.run([sys.executable, __file__, '--recipe'], capture_output=True, text=True, check=True)
            recipe_s, recipe_said = json.loads(recipe.stdout.splitlines()[-1])
            print(f'recipe run (config/recipe.py): {recipe_said}')
            print(f'preset run / recipe run: {preset_s / recipe_s:.2f}')
    print(peak_memory())
    print_bfloat16_speed_up(script, args, iterations or 10, rounds=3 if iterations else 10)


if __name__ == '__main__':
    main(sys.argv[1:])
