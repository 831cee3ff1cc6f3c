"""Instead of training, from a checkpoint: --sample=N writes N samples (with --digit=D, only
samples the classifier takes for D; a conditional G is asked for D), grouped by digit in its
picture; --evaluate=N prints the quality figures of N samples; --interpolate=K draws K walks
through the noise (and, for a conditional G, from one digit's label to another's). And the
quality figures a training run records. A conditional story's G takes the digit it is asked for
through a placeholder of its own (`labels`: one-hot, (N, 10) or (N, 1, 1, 10)), beside z."""
import contextlib
import os
import shutil

import numpy as np
import tensorflow.compat.v1 as tf

import input_data
from backstage import by_digit, classifier, mnist_score, walks
from backstage.checkpoints import Checkpoints, check_same_script, differing
from backstage.files import replaced_atomically, write_failure
from backstage.pictures import GridFigure
from configurator import (
    INSTEAD_OF_TRAINING,
    InputError,
    check_against_data,
    given_names,
    network_settings,
)

CHUNK = 10000  # samples made at once: 31 MB, so memory stays bounded however many are asked for


def with_saved_network(settings, args, defaults):
    """The settings; for --sample, --evaluate or --interpolate, with those that shape the network
    (network_settings) taken from the run whose checkpoint will be loaded. One the user gave (in
    args: a settings file or --name=value) with another value is refused."""
    if not any(settings[name] for name in INSTEAD_OF_TRAINING):
        return settings
    given = given_names(args, defaults)
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


def instead_of_training(sess, G_sample, z, data, settings, model=None, labels=None):
    """--sample=N: N samples to samples.npy, and samples.png (by class; with --digit, a grid of
    the first 25); a conditional G's classes to labels.npy; --evaluate=N: the quality figures of
    N samples, printed; --interpolate=K: K walks through the noise to interpolation.png and .gif.
    From the checkpoint --checkpoint names, which must be a run of the story whose files start
    with `model`, trained on the same data (read_data_sets' result)."""
    results_dir = settings['results_dir']
    checkpoint_dir = os.path.join(results_dir, 'checkpoints')
    check_against_data(settings, len(data.train.images))
    digit = input_data.class_index(settings['digit'], data.classes, data.source)
    run_state = Checkpoints(checkpoint_dir).restore(
        sess, settings['checkpoint'], lambda saved: check_same_script(saved, settings, model, data)) \
        if os.path.isdir(checkpoint_dir) else None
    if run_state is None:
        asked = next(f'--{name}' for name in INSTEAD_OF_TRAINING if settings[name])
        raise InputError(f"no checkpoint in {checkpoint_dir}/: nothing trained for {asked}. Train "
                         f"first, or point --results_dir at a folder holding a trained run.")
    G = Drawn(sess, G_sample, z, labels)
    epoch, n = run_state['epoch'], settings['sample'] or settings['evaluate']
    if settings['evaluate']:
        if quality_figures(G.scored(), data, n, epoch, settings) is None:
            raise InputError(f"--evaluate={n}: {data.source} has no classes, so no classifier to score "
                             f"with; --sample and --interpolate show what G draws.")
        return
    if settings['interpolate']:
        try:
            written = walks.save_walks(G, settings['interpolate'], settings['seed'], epoch, results_dir, data.classes)
        except OSError as e:
            raise InputError(f"{write_failure(e)}. Nothing was replaced.") from None
        k = settings['interpolate']
        kind = by_digit.kind(data.classes or [])
        walked = f"{k} walks through the noise" + (f" and {k} from {kind} to {kind}" if G.conditional else '')
        print(f"wrote {walked} of epoch {epoch} to {listed(written)}")
        return
    check_disk_room(settings, G_sample)
    rng, judge = np.random.default_rng(settings['seed']), classifier.load_judge(data)
    sheet, kept = by_digit.Sheet(data.classes, G.conditional), by_digit.DigitFilter(digit, n, CHUNK, data.classes)
    names = ['samples.npy', 'samples.png'] + (['labels.npy'] if G.conditional else [])
    filtered, by_class = digit >= 0 and not G.conditional, judge is not None
    try:
        with contextlib.ExitStack() as files:
            npy, png, *digits_npy = (files.enter_context(replaced_atomically(os.path.join(results_dir, name)))
                                     for name in names)
            drawn = labelled_chunks(G, rng, judge, kept.sizes() if filtered else chunk_sizes(n), digit, settings)
            first = write_samples(npy, n, sample_shape(G_sample, settings), (kept.keep(*chunk) if filtered else
                                                                             sheet.add(*chunk) for chunk in drawn))
            if digits_npy:
                with open(digits_npy[0], 'wb') as f:  # a file, or np.save adds .npy to the name
                    np.save(f, np.concatenate(sheet.asked))
            if digit < 0 and (by_class or G.conditional):
                sheet.save(f'{n} samples, epoch {epoch}, ' + ('a row per class asked for' if G.conditional
                                                               else 'by the class the classifier names'), png)
            else:
                shown = f'of {data.classes[digit]}' if digit >= 0 else f'of {data.source}'
                GridFigure().save(first, f'{n} samples {shown}, epoch {epoch}', png)
    except OSError as e:  # no file is replaced: they stay a set
        raise InputError(f"{write_failure(e, os.path.join(results_dir, 'samples.npy'))}. "
                         f"Nothing was replaced: the {listed(names)} that were there, if any, "
                         f"are kept.") from None
    print(f"wrote {n} samples of epoch {epoch} to {results_dir}/{listed(names)}")
    if by_class or G.conditional:
        print(kept.describe() if filtered else sheet.describe())


def sample_shape(G_sample, settings):
    """The shape of one sample in samples.npy: G's, but for color images of a fully connected G,
    side x side x 3 (the last axis the colors, as the others')."""
    shape = tuple(G_sample.shape[1:])
    if len(shape) == 1 and settings.get('channels', 1) == 3:
        side = round((shape[0] / 3) ** 0.5)
        return side, side, 3
    return shape


def listed(names):
    """'a and b', 'a, b and c'."""
    return ', '.join(names[:-1]) + ' and ' + names[-1]


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
            chunk = chunk.reshape(-1, *shape)
            f.write(chunk.astype('<f4', copy=False))  # numpy's tofile says less when it fails
            first.extend(chunk[:25 - len(first)])
    return np.array(first)


def labelled_chunks(G, rng, judge, sizes, digit, settings):
    """For each size in sizes: that many generated images (G_sample's shape), the judge's
    probabilities for them (N x classes; None without a judge), and the classes a conditional G
    was asked for (else None), from one run of G."""
    for (images, scored), digits in G.chunks([G.sample, scorable(G.sample)], rng, sizes, digit):
        yield images, None if judge is None else judge(scored, settings.get('channels', 1))[1], digits


def chunk_sizes(n):
    """n samples, CHUNK at a time."""
    return [min(CHUNK, n - i) for i in range(0, n, CHUNK)]


class Drawn:
    """G as the backstage draws from it: `sample` (G_sample, or a tensor made from it) of normal
    noise fed to z, and for a conditional G the digits asked for, fed to `labels` one-hot."""

    def __init__(self, sess, sample, z, labels=None):
        self.sess, self.sample, self.z, self.labels = sess, sample, z, labels
        self.conditional = labels is not None
        self.classes = labels.shape[-1] if self.conditional else None

    def scored(self):
        """The same G, drawing what the scorer takes (scorable)."""
        return Drawn(self.sess, scorable(self.sample), self.z, self.labels)

    def feed(self, noise, one_hot=None):
        """The feed of noise (z's shape), and one-hot rows (N x 10, or mixes of two digits) for a
        conditional G."""
        if not self.conditional:
            return {self.z: noise}
        return {self.z: noise, self.labels: np.reshape(one_hot, (-1, *self.labels.shape[1:]))}

    def chunks(self, fetches, rng, sizes, digit=-1):
        """For each size in sizes: fetches (`sample`, or tensors computed from it) for that many
        normal noise vectors of z's shape, and a conditional G's digits (else None): `digit`
        each, or with digit -1 the ten in turn, as evenly as the count allows."""
        done = 0
        for size in sizes:
            noise = rng.standard_normal((size, *self.z.shape[1:]), dtype=np.float32)
            digits = None
            if self.conditional:
                digits = np.full(size, digit) if digit >= 0 else (done + np.arange(size)) % self.classes
            yield self.sess.run(fetches, self.feed(noise, None if digits is None else np.eye(self.classes)[digits])), digits
            done += size


def fixed_grid(rng, z, labels):
    """The inputs of a conditional story's Fixed grid, the reference's 10x10 for MNIST: row d
    asks for class d, and column j holds the same noise vector in every row (the style, across
    classes): noise of z's shape and one-hot labels of the labels placeholder's, 10 a class."""
    classes = labels.shape[-1]
    noise = np.tile(rng.standard_normal((10, *z.shape[1:]), dtype=np.float32), (classes, *[1] * len(z.shape[1:])))
    one_hot = np.eye(classes, dtype=np.float32)[np.repeat(np.arange(classes), 10)]
    return noise, one_hot.reshape((10 * classes, *labels.shape[1:]))


def scorable(G_sample):
    """G_sample as the scorer takes it: 28 x 28 images (flat ones are). A DCGAN's larger images
    are brought to 28 x 28 by averaging the pixels each covers (an area resize: no aliasing)."""
    if len(G_sample.shape) == 2 or G_sample.shape[1] == 28:
        return G_sample
    return tf.image.resize_area(G_sample, [28, 28])


def no_scores(data):
    """The line for data without classes, which no classifier can learn to judge."""
    return f"no scores: {data.source} has no classes (no subfolders) for a classifier to learn"


def quality_figures(G_scored, data, n, epoch, settings):
    """Classifier score and Fréchet distance of n samples of G_scored (a Drawn of scorable's),
    with the real-data ceiling, printed; for a conditional G, its label accuracy too. By the
    judge of the data (read_data_sets' result); None, said in a line, when it has no classes."""
    judge = classifier.load_judge(data)
    if judge is None:
        print(no_scores(data))
        return None
    drawn = list(G_scored.chunks(G_scored.sample, np.random.default_rng(settings['seed'] + epoch), chunk_sizes(n)))
    images = np.concatenate([images for images, _ in drawn])
    digits = np.concatenate([digits for _, digits in drawn]) if G_scored.conditional else None
    figures = mnist_score.score_images(images, data, judge, digits, settings.get('channels', 1))
    said = mnist_score.describe(figures, epoch, n, data.classes)
    print(said if judge is classifier.shipped_judge() else f'{said} (by {judge.name})')
    return figures
