"""results_dir, the folder a training run writes into: its subfolders, the lock that keeps it to
one training run, starting over (deleting only what the script wrote), and the files a run
writes there besides its checkpoints, each written whole or not at all."""
import os
import re

import filelock
import imageio.v3 as iio

from backstage import pictures
from backstage.files import replaced_atomically, save_pickle
from configurator import InputError

RUN_FOLDERS = ('checkpoints', 'Fixed_results', 'tensorboard')  # in results_dir; and Random_results
# when a story saves Random grids. The names below mark files of this project, whichever story
# wrote them: one lock, so one training run at a time in a results_dir.
EVENTS_SUFFIX = '.gan_mnist'  # ends the names of the TensorBoard event files the script writes
LOCK_NAME = 'gan_mnist.lock'


def script_files(model):
    """{folder of results_dir: the names of the files a story writes there}, its file names
    starting with `model` (the reference's prefix, such as 'MNIST_GAN_'; the history and the GIF
    have it where the story's reference gave it to them)."""
    prefix = re.escape(model)
    return {
        '': rf'({prefix})?train_hist\.pkl|{prefix}train_hist\.png|{prefix}quality\.png|'
            rf'({prefix})?generation_animation\.gif|samples\.npy|samples\.png|labels\.npy|'
            r'(label_)?interpolation\.(png|gif)',
        'checkpoints': r'checkpoint|best_checkpoint|(gan|best)-\d+\.(index|data-\d+-of-\d+)|'
                       r'run-\d+\.(json|npz|pkl)',
        'Fixed_results': rf'{prefix}\d+\.png',
        'Random_results': rf'{prefix}\d+\.png',
        'tensorboard': r'events\.out\.tfevents\..*' + re.escape(EVENTS_SUFFIX),
    }


def prepare(results_dir):
    """Make results_dir and its subfolders, or explain why they cannot be made."""
    try:
        for name in RUN_FOLDERS:
            os.makedirs(os.path.join(results_dir, name), exist_ok=True)
        with open(os.path.join(results_dir, '.write_test'), 'wb'):
            pass
        os.remove(os.path.join(results_dir, '.write_test'))
    except OSError as e:
        raise InputError(f"cannot write the results to {results_dir!r} ({e.strerror}: "
                         f"{e.filename}). Point --results_dir at a folder you can write to.") from None


_HELD = {}  # the lock file of a results_dir: the lock this process holds on it


def lock(results_dir):
    """One training run per results_dir: an exclusive lock on results_dir/gan_mnist.lock, which
    the operating system releases when the process ends, however it ends. filelock takes it the
    way each system has (flock on Linux and macOS, msvcrt's on Windows; its own CI runs on all
    three, which nothing here can). Returns the lock: release() lets go of it sooner, as a run in
    a notebook kernel, which lives on, must. A lock this process still holds from an earlier run
    (a kernel where a run stopped on an error) is taken over: a process trains one run at a time."""
    path = os.path.abspath(os.path.join(results_dir, LOCK_NAME))
    if path in _HELD:
        _HELD.pop(path).release()
    held = filelock.FileLock(path, timeout=0)
    try:
        held.acquire()
    except filelock.Timeout:
        raise InputError(f"{results_dir}/ is in use by another training run "
                         f"({lock_holder(path)}). Wait for it to end, stop it (it keeps its last "
                         f"whole epoch), or train in another --results_dir. Sampling and "
                         f"evaluating it meanwhile are fine.") from None
    _HELD[path] = held
    return held


def lock_holder(path):
    """'process N' holding the flock on path, from Linux's /proc/locks; else (other systems, or
    none to read) 'another process'."""
    try:
        device_inode = f':{os.stat(path).st_ino}'
        with open('/proc/locks', encoding='ascii') as f:
            for fields in (line.split() for line in f):
                if fields[1] == 'FLOCK' and fields[5].endswith(device_inode):
                    return f'process {fields[4]}'
    except (OSError, IndexError):
        pass
    return 'another process'


def clear_run(results_dir, model):
    """--resume=False: delete the files an earlier run of the story wrote in results_dir,
    matched by their exact names; say which other files were left."""
    left = []
    for folder, names in script_files(model).items():
        path = os.path.join(results_dir, folder)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            file = os.path.join(path, name)
            if re.fullmatch(names, name) and os.path.isfile(file):
                os.remove(file)
            elif os.path.isfile(file) and not (folder == '' and name == LOCK_NAME):
                left.append(os.path.join(folder, name))
    if left:
        print(f"starting over in {results_dir}/; left {len(left)} file(s) the script did not "
              f"write: {', '.join(left)}")


def grid_path(results_dir, model, isFix, epoch):
    """Where the Fixed (isFix) or Random grid of an epoch goes, as the reference named it."""
    kind = 'Fixed' if isFix else 'Random'
    return os.path.join(results_dir, f'{kind}_results', f'{model}{epoch}.png')


def last_epoch_with_grids(results_dir, model, epoch):
    """The last epoch of the unbroken run of Fixed grids after `epoch` (grids of epochs whose
    checkpoints were already pruned), or `epoch` when there is none after it."""
    while os.path.exists(grid_path(results_dir, model, True, epoch + 1)):
        epoch += 1
    return epoch


def drop_grids(results_dir, model, first, last):
    """Delete the Fixed and Random grids of epochs first to last."""
    for epoch in range(first, last + 1):
        for isFix in (True, False):
            if os.path.exists(grid_path(results_dir, model, isFix, epoch)):
                os.remove(grid_path(results_dir, model, isFix, epoch))


class RunFiles:
    """The files of a run besides its checkpoints: the epoch's grids, train_hist.pkl, the loss
    and quality plots, and the GIF of the Fixed grids, whose frames it keeps from epoch to epoch
    (those of earlier sessions read back from their grids). With prefix_all, the history and the
    GIF names start with `model` too, as the DCGAN's reference named them."""

    def __init__(self, results_dir, model, epochs_done, prefix_all=False, columns=5):
        self.results_dir, self.model = results_dir, model
        self.history_name, self.gif_name = (f'{model if prefix_all else ""}{name}' for name in
                                            ('train_hist.pkl', 'generation_animation.gif'))
        self.grid, self.losses, self.quality = \
            pictures.GridFigure(columns), pictures.LossFigure(), pictures.QualityFigure()
        done = [grid_path(results_dir, model, True, epoch + 1) for epoch in range(epochs_done)]
        self.fixed_frames = [frame_of(iio.imread(path)) for path in done if os.path.exists(path)]

    def save_grid(self, epoch, images, isFix):
        """The epoch's grid of its images; returns it as a picture (gray, or RGB)."""
        path = grid_path(self.results_dir, self.model, isFix, epoch)
        os.makedirs(os.path.dirname(path), exist_ok=True)  # Random_results: only if a story saves them
        with replaced_atomically(path) as tmp:
            frame = self.grid.save(images, f'Epoch {epoch}', tmp)
        if isFix:
            self.fixed_frames.append(frame)
        return frame

    def save_history(self, train_hist):
        """The history (train_hist.pkl), the loss plot and, from the second scoring on, the
        quality plot."""
        save_pickle(train_hist, os.path.join(self.results_dir, self.history_name))
        with replaced_atomically(os.path.join(self.results_dir, f'{self.model}train_hist.png')) as tmp:
            self.losses.save(train_hist, tmp)
        if len(train_hist.get('scores', [])) >= 2:
            with replaced_atomically(os.path.join(self.results_dir, f'{self.model}quality.png')) as tmp:
                self.quality.save(train_hist['scores'], tmp)

    def save_gif(self):
        if self.fixed_frames:
            with replaced_atomically(os.path.join(self.results_dir, self.gif_name)) as tmp:
                pictures.save_gif(self.fixed_frames, tmp)

    def close(self):
        pictures.close(self.grid, self.losses, self.quality)


def frame_of(png):
    """A saved grid as a GIF frame: gray where its three channels agree, else RGB."""
    rgb = png[..., :3]
    return rgb[..., 0] if (rgb == rgb[..., :1]).all() else rgb
