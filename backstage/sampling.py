"""Instead of training, from a checkpoint: --sample=N writes N samples (with --digit=D, only
samples the classifier takes for D), grouped by digit in its picture; --evaluate=N prints the
quality figures of N samples; --interpolate=K draws K walks through the noise. And the quality
figures a training run records."""
import os
import shutil

import numpy as np
import tensorflow.compat.v1 as tf

from backstage import by_digit, mnist_score, walks
from backstage.checkpoints import Checkpoints, check_same_script, differing
from backstage.files import replaced_atomically, write_failure
from backstage.pictures import GridFigure
from configurator import (
    INSTEAD_OF_TRAINING,
    InputError,
    check_against_data,
    network_settings,
)

CHUNK = 10000  # samples made at once: 31 MB, so memory stays bounded however many are asked for


def with_saved_network(settings, given):
    """The settings, with those that shape the network (network_settings) taken from the run
    whose checkpoint --sample, --evaluate or --interpolate will load. One the user gave (`given`:
    the names set by a settings file or --name=value) with another value is refused."""
    checkpoint_dir = os.path.join(settings['results_dir'], 'checkpoints')
    saved = Checkpoints(checkpoint_dir).saved_settings(settings['checkpoint']) \
        if os.path.isdir(checkpoint_dir) else None
    if saved is None:
        return settings  # instead_of_training says there is nothing to load
    check_same_script(saved, settings)
    shaping = network_settings(settings)
    differ, said = differing([n for n in shaping if n in given], saved, settings, 'this command')
    if differ:
        raise InputError(f"{said}. Sampling and evaluating build the network the run was trained "
                         f"with: leave {', '.join(f'--{n}' for n in differ)} out.")
    return dict(settings, **{name: saved[name] for name in shaping})


def check_disk_room(settings, G_sample):
    """Refuse a --sample=N whose samples (float32 images of G_sample's shape) would not fit on
    the disk, before any is made; the old samples stay until the new ones are whole."""
    image_bytes = int(np.prod(G_sample.shape[1:])) * 4
    needed = settings['sample'] * image_bytes + 2 ** 20  # the array, its header and the picture
    free = shutil.disk_usage(settings['results_dir']).free
    if needed > free:
        raise InputError(f"--sample={settings['sample']} needs {needed / 1e9:.1f} GB for "
                         f"samples.npy, and {settings['results_dir']}/ has {free / 1e9:.1f} GB "
                         f"free. Ask for fewer samples, or make room first.")


def instead_of_training(sess, G_sample, z, mnist, settings):
    """--sample=N: N samples to samples.npy, and samples.png (by digit; with --digit, a grid of
    the first 25); --evaluate=N: the quality figures of N samples, printed; --interpolate=K: K
    walks through the noise to interpolation.png and .gif. From the checkpoint --checkpoint names."""
    results_dir = settings['results_dir']
    checkpoint_dir = os.path.join(results_dir, 'checkpoints')
    check_against_data(settings, len(mnist.train.images))
    run_state = Checkpoints(checkpoint_dir).restore(sess, settings['checkpoint']) \
        if os.path.isdir(checkpoint_dir) else None
    if run_state is None:
        asked = next(f'--{name}' for name in INSTEAD_OF_TRAINING if settings[name])
        raise InputError(f"no checkpoint in {checkpoint_dir}/: nothing trained for {asked}. Train "
                         f"first, or point --results_dir at a folder holding a trained run.")
    epoch, n = run_state['epoch'], settings['sample'] or settings['evaluate']
    if settings['evaluate']:
        quality_figures(sess, scorable(G_sample), z, mnist, n, epoch, settings)
        return
    if settings['interpolate']:
        try:
            png, gif = walks.save_walks(sess, G_sample, z, settings['interpolate'], settings['seed'], epoch,
                                        results_dir)
        except OSError as e:
            raise InputError(f"{write_failure(e)}. Nothing was replaced.") from None
        print(f"wrote {settings['interpolate']} walks through the noise of epoch {epoch} to {png} and {gif}")
        return
    check_disk_room(settings, G_sample)
    rng, digit = np.random.default_rng(settings['seed']), settings['digit']
    weights = mnist_score.load_classifier(mnist, os.path.join(settings['data_dir'], 'mnist_classifier.npz'))
    sheet, kept = by_digit.Sheet(), by_digit.DigitFilter(digit, n, CHUNK)
    try:
        with replaced_atomically(os.path.join(results_dir, 'samples.npy')) as npy, \
                replaced_atomically(os.path.join(results_dir, 'samples.png')) as png:
            if digit < 0:
                chunks = (sheet.add(*chunk) for chunk in labelled_chunks(sess, G_sample, z, rng, weights, chunk_sizes(n)))
                write_samples(npy, n, G_sample.shape[1:], chunks)
                sheet.save(f'{n} samples, epoch {epoch}, by the digit the classifier names', png)
            else:
                chunks = (kept.keep(*chunk) for chunk in labelled_chunks(sess, G_sample, z, rng, weights, kept.sizes()))
                first = write_samples(npy, n, G_sample.shape[1:], chunks)
                GridFigure().save(first, f'{n} samples of digit {digit}, epoch {epoch}', png)
    except OSError as e:  # neither file is replaced: the two stay a pair
        raise InputError(f"{write_failure(e, os.path.join(results_dir, 'samples.npy'))}. "
                         f"Nothing was replaced: the samples.npy and "
                         f"samples.png that were there, if any, are kept.") from None
    print(f'wrote {n} samples of epoch {epoch} to {results_dir}/samples.npy and samples.png')
    print(sheet.describe() if digit < 0 else kept.describe())


def write_samples(path, n, shape, chunks):
    """n samples as a float32 .npy file of shape (n, *shape): (n, 784), or (n, size, size, 1)
    for the DCGAN, written a chunk at a time so that memory stays bounded for any n; returns the
    first 25. (numpy's open_memmap writes a .npy by chunks too, but a memory map's pages count as
    the process's memory: writing 1.0 GB through it raised the peak resident memory by 957 MiB
    here, through the file by nothing.)"""
    first = []
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': (n, *shape)})
        for chunk in chunks:
            f.write(chunk.astype('<f4', copy=False))  # numpy's tofile says less when it fails
            first.extend(chunk[:25 - len(first)])
    return np.array(first)


def labelled_chunks(sess, G_sample, z, rng, weights, sizes):
    """For each size in sizes: that many generated images (G_sample's shape), and the
    classifier's probabilities for them (N x 10), from one run of G."""
    for images, scored in generated_chunks(sess, [G_sample, scorable(G_sample)], z, rng, sizes):
        yield images, mnist_score.forward(weights, scored)[1]


def chunk_sizes(n):
    """n samples, CHUNK at a time."""
    return [min(CHUNK, n - i) for i in range(0, n, CHUNK)]


def generated_chunks(sess, fetches, z, rng, sizes):
    """For each size in sizes: fetches (G_sample, or tensors computed from it) for that many
    normal noise vectors of z's shape: (size, 100), or the DCGAN's (size, 1, 1, 100)."""
    for size in sizes:
        noise = rng.standard_normal((size, *z.shape[1:]), dtype=np.float32)
        yield sess.run(fetches, {z: noise})


def scorable(G_sample):
    """G_sample as the scorer takes it: 28 x 28 images, flat. A DCGAN's larger images are brought
    to 28 x 28 by averaging the pixels each covers (an area resize: no aliasing)."""
    if G_sample.shape[1:] == (784,):
        return G_sample
    return tf.reshape(tf.image.resize_area(G_sample, [28, 28]), [-1, 784])


def quality_figures(sess, G_scored, z, mnist, n, epoch, settings):
    """Classifier score and Fréchet distance of n samples of G_scored (scorable's), with the
    real-data ceiling, printed."""
    images = np.concatenate(list(generated_chunks(sess, G_scored, z, np.random.default_rng(settings['seed'] + epoch),
                                                  chunk_sizes(n))))
    cache_path = os.path.join(settings['data_dir'], 'mnist_classifier.npz')
    figures = mnist_score.score_images(images, mnist, cache_path)
    print(mnist_score.describe(figures, epoch, n))
    return figures
