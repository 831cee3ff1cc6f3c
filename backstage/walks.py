"""--interpolate=K: K walks through G's noise space, each from one noise vector to another in
STEPS steps, as the DCGAN paper's latent-space figures: a K x STEPS grid (interpolation.png) and a
GIF that plays the walks forth and back (interpolation.gif); for a conditional G, also K walks
from one digit's label to another's with the noise held (label_interpolation.png and .gif). The
noise comes from the run's seed, so a checkpoint's walks are the same each time they are drawn."""
import contextlib
import os

import numpy as np

from backstage import pictures
from backstage.files import replaced_atomically

STEPS = 10


def slerp(a, b, t):
    """Points along the great circle from each row of a to the same row of b, at fractions t
    (0: a, exactly; 1: b): shape (rows, len(t), features). Spherical, not straight: Gaussian
    noise of 100 values has a norm near 10, and a straight line between two such vectors passes
    through shorter ones (about 7 halfway), which G never saw in training; along the circle the
    norm stays between the two ends'."""
    cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    omega = np.arccos(np.clip(cosine, -1, 1))[:, None, None]
    t = np.asarray(t, np.float64)[None, :, None]
    near = np.sin(omega) < 1e-6  # (almost) the same direction: the straight line is the circle
    from_a = np.where(near, 1 - t, np.sin((1 - t) * omega) / np.where(near, 1, np.sin(omega)))
    to_b = np.where(near, t, np.sin(t * omega) / np.where(near, 1, np.sin(omega)))
    return from_a * a[:, None] + to_b * b[:, None]


def walk_noise(k, noise_shape, seed):
    """The noise of k walks from the run's seed: (k * STEPS, *noise_shape), walk after walk."""
    rng = np.random.default_rng(seed)
    ends = rng.standard_normal((2, k, int(np.prod(noise_shape))))
    path = slerp(ends[0], ends[1], np.linspace(0, 1, STEPS))
    return path.reshape(k * STEPS, *noise_shape).astype(np.float32)


def save_walks(G, k, seed, epoch, results_dir, classes=None):
    """Draw k walks of the checkpoint's G (a sampling.Drawn) and write interpolation.png and
    .gif, each whole; for a conditional G, walk i at class i mod n (of n, named by `classes`),
    and k walks more from one class's label to the next one's, each with one noise vector held,
    to label_interpolation.png and .gif. Returns the paths written."""
    noise, n = walk_noise(k, G.z.shape[1:], seed), G.classes or 1
    names = classes or [str(i) for i in range(n)]
    asked = np.repeat(np.arange(k) % n, STEPS)
    walked = {'interpolation': [f'walk {i + 1}' + (f', {names[i % n]}' if G.conditional else '') for i in range(k)]}
    drawn = {'interpolation': G.sess.run(G.sample, G.feed(noise, np.eye(n)[asked]))}
    if G.conditional:  # the label moves, the noise stays: what changes is only what G was asked for
        held = np.repeat(noise[::STEPS], STEPS, axis=0)
        t = np.tile(np.linspace(0, 1, STEPS), k)[:, None]
        mixed = (1 - t) * np.eye(n)[asked] + t * np.eye(n)[(asked + 1) % n]
        walked['label_interpolation'] = [f'{names[i % n]} to {names[(i + 1) % n]}' for i in range(k)]
        drawn['label_interpolation'] = G.sess.run(G.sample, G.feed(held, mixed))
    written = []
    with contextlib.ExitStack() as files:
        for name, images in drawn.items():
            side, channels = pictures.side_and_channels(images[0])
            walks = images.reshape(k, STEPS, side, side, channels)
            png, gif = (os.path.join(results_dir, f'{name}.{ending}') for ending in ('png', 'gif'))
            tmp_png, tmp_gif = (files.enter_context(replaced_atomically(path)) for path in (png, gif))
            what = 'through the noise' if name == 'interpolation' else "from one class's label to the next"
            pictures.save_rows(walks, walked[name], f'{k} walks {what}, epoch {epoch}', tmp_png)
            columns = int(np.ceil(np.sqrt(k)))  # each frame: the k walks at one step, in a square
            frames = [pictures.tiled(walks[:, step], columns) for step in (*range(STEPS), *range(STEPS - 2, 0, -1))]
            pictures.save_gif(frames, tmp_gif, duration=150)
            written += [png, gif]
    return written
