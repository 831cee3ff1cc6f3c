"""Instead of training: --sample=N writes N samples of a checkpoint, --evaluate=N prints the
quality figures of N samples; and the quality figures a training run records."""
import os

import numpy as np

from backstage.checkpoints import Checkpoints, differing
from backstage.files import replaced_atomically
from backstage.pictures import GridFigure
from configurator import NETWORK_SETTINGS, InputError


def with_saved_network(settings, given):
    """The settings, with those that shape the network (NETWORK_SETTINGS) taken from the run
    whose checkpoint --sample or --evaluate will load. One the user gave (`given`: the names set
    by a settings file or --name=value) with another value is refused."""
    checkpoint_dir = os.path.join(settings['results_dir'], 'checkpoints')
    saved = Checkpoints(checkpoint_dir).saved_settings(settings['checkpoint']) \
        if os.path.isdir(checkpoint_dir) else None
    if saved is None:
        return settings  # sample_or_evaluate says there is nothing to load
    differ, said = differing([n for n in NETWORK_SETTINGS if n in given], saved, settings,
                             'this command')
    if differ:
        raise InputError(f"{said}. Sampling and evaluating build the network the run was trained "
                         f"with: leave {', '.join(f'--{n}' for n in differ)} out.")
    return dict(settings, **{name: saved[name] for name in NETWORK_SETTINGS})


def sample_or_evaluate(sess, G_sample, z, mnist, settings):
    """--sample=N: N samples to samples.npy and samples.png; --evaluate=N: the quality figures
    of N samples, printed."""
    results_dir = settings['results_dir']
    checkpoint_dir = os.path.join(results_dir, 'checkpoints')
    run_state = Checkpoints(checkpoint_dir).restore(sess, settings['checkpoint']) \
        if os.path.isdir(checkpoint_dir) else None
    if run_state is None:
        raise InputError(f"no checkpoint in {checkpoint_dir}/: nothing trained to "
                         f"{'sample from' if settings['sample'] else 'evaluate'}. Train first, or "
                         f"point --results_dir at a folder holding a trained run.")
    epoch, n = run_state['epoch'], settings['sample'] or settings['evaluate']
    if settings['evaluate']:
        quality_figures(sess, G_sample, z, mnist, n, epoch, settings)
        return
    images = generate(sess, G_sample, z, n, np.random.default_rng(settings['seed']))
    np.save(os.path.join(results_dir, 'samples.npy'), images)
    with replaced_atomically(os.path.join(results_dir, 'samples.png')) as tmp:
        GridFigure().save(images, f'{n} samples, epoch {epoch}', tmp)
    print(f'wrote {n} samples of epoch {epoch} to {results_dir}/samples.npy and samples.png')


def generate(sess, G_sample, z, n, rng):
    """n generated images (n x 784, float32 in [-1, 1]), made in chunks to bound memory."""
    chunks = [sess.run(G_sample, {z: rng.standard_normal((min(10000, n - i), 100), dtype=np.float32)})
              for i in range(0, n, 10000)]
    return np.concatenate(chunks).astype(np.float32)


def quality_figures(sess, G_sample, z, mnist, n, epoch, settings):
    """Classifier score and Fréchet distance of n samples, with the real-data ceiling, printed."""
    from backstage import mnist_score  # only runs that score need it
    images = generate(sess, G_sample, z, n, np.random.default_rng(settings['seed'] + epoch))
    cache_path = os.path.join(settings['data_dir'], 'mnist_classifier.npz')
    figures = mnist_score.score_images(images, mnist, cache_path)
    print(mnist_score.describe(figures, epoch, n))
    return figures
