"""The machinery of a training run of gan_mnist.py, kept beside the script so that the script
reads like the reference: the results folder, checkpoints and resuming, Ctrl-C, the sample grids,
loss plot and GIF, TensorBoard, the progress bar, and the quality figures.

Settings come in as arguments (`settings` is the dict of the script's settings); nothing here
reads the script's globals.
"""
import fcntl
import functools
import json
import os
import pickle
import re
import signal
import sys
import time
import zipfile

import imageio.v3 as iio
import matplotlib
import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

from configurator import ADDED_SETTINGS, NETWORK_SETTINGS, RUN_SETTINGS, InputError
from input_data import replaced_atomically

matplotlib.use('Agg')  # files only, no window: also works on a machine with no display
import matplotlib.pyplot as plt  # after use('Agg'): the backend must be chosen first

RUN_FOLDERS = ('checkpoints', 'Fixed_results', 'Random_results', 'tensorboard')  # in results_dir
EVENTS_SUFFIX = '.gan_mnist'  # ends the names of the TensorBoard event files the script writes
SCRIPT_FILES = {  # folder of results_dir: the names of the files the script writes there
    '': r'train_hist\.pkl|MNIST_GAN_train_hist\.png|MNIST_GAN_quality\.png|'
        r'generation_animation\.gif|samples\.npy|samples\.png',
    'checkpoints': r'checkpoint|best_checkpoint|(gan|best)-\d+\.(index|data-\d+-of-\d+)|'
                   r'run-\d+\.(json|npz|pkl)',
    'Fixed_results': r'MNIST_GAN_\d+\.png',
    'Random_results': r'MNIST_GAN_\d+\.png',
    'tensorboard': r'events\.out\.tfevents\..*' + re.escape(EVENTS_SUFFIX),
}


class WriteError(InputError):
    """A file of the run could not be written (disk full, folder gone, no permission): the
    message names it and the cause; the last whole checkpoint stays."""


def stops_on_write_errors(method):
    """Turn a failed write inside a TrainingRun method into a WriteError that says what to do."""
    @functools.wraps(method)
    def method_that_stops(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as e:
            failure = f'cannot write {e.filename} ({e.strerror})'
        except tf.errors.OpError as e:  # from Saver: its message holds 'path; cause' among more
            path_and_cause = re.search(r'(/\S+?)(\.tempstate\d+)?; ([^\n]+)', e.message)
            failure = f'cannot write {path_and_cause[1]} ({path_and_cause[3].strip()})' \
                if path_and_cause else f'cannot write a checkpoint ({e.message.splitlines()[0]})'
        whole = self.checkpoints.listed('checkpoint')
        kept = f'the checkpoint of epoch {epoch_of(whole[-1])} is whole' if whole else \
            'no epoch was saved yet'
        raise WriteError(f'{failure}. Training stopped; {kept}. Once the cause is fixed, run the '
                         f'same command to resume.') from None
    return method_that_stops


class TrainingRun:
    """One training run in results_dir: made or resumed, then stepped, saved each epoch, and
    finished or interrupted. Besides checkpoints it writes the reference's grids, history, loss
    plot and GIF, and TensorBoard events."""

    def __init__(self, sess, G_z, z, settings, n_images):
        """Check what only the data can tell, then make results_dir (deleting the run there
        when settings['resume'] is False)."""
        self.sess, self.G_z, self.z, self.settings = sess, G_z, z, settings
        self.results_dir = settings['results_dir']
        self.train_epoch = settings['train_epoch']
        if settings['batch_size'] > n_images:
            raise InputError(f"--batch_size={settings['batch_size']} is larger than the {n_images} "
                             f"training images in {settings['data_dir']}/.")
        self.n_batches = n_images // settings['batch_size']
        prepare_results_dir(self.results_dir)
        self.lock = lock_results_dir(self.results_dir)  # held until the process ends
        if not settings['resume']:
            clear_run(self.results_dir)
        self.checkpoints = Checkpoints(os.path.join(self.results_dir, 'checkpoints'),
                                       settings['keep_checkpoints'])
        self.hist_path = os.path.join(self.results_dir, 'train_hist.pkl')
        self.plot_path = os.path.join(self.results_dir, 'MNIST_GAN_train_hist.png')
        self.gif_path = os.path.join(self.results_dir, 'generation_animation.gif')
        self.quality_path = os.path.join(self.results_dir, 'MNIST_GAN_quality.png')

    def resume(self, train_hist, fixed_z_, rng):
        """The history and fixed noise of the run saved in results_dir, its weights restored and
        rng put back where it was; or the ones given, when there is no saved run. With
        settings['checkpoint'] an earlier kept epoch, the epochs after it are dropped first."""
        which = self.settings['checkpoint']
        run_state = self.checkpoints.restore(self.sess, which) if self.settings['resume'] else None
        if run_state is None and which != 'last':
            raise InputError(f"--checkpoint={which}: {self.checkpoints.dir}/ holds no checkpoint "
                             f"to go back to. Leave --checkpoint out to start a new run there.")
        if run_state is None:
            return train_hist, fixed_z_
        check_same_run(run_state['settings'], self.settings)
        epoch = run_state['epoch']
        if which != 'last':
            self.go_back_to(epoch)
        rng.bit_generator.state = run_state['rng_state']
        print(f"resuming from epoch {epoch} of {self.train_epoch} "
              f"(saved in {self.checkpoints.dir}/)")
        return run_state['train_hist'], run_state['fixed_z']

    @stops_on_write_errors
    def go_back_to(self, epoch):
        """--checkpoint=N when training: drop what came after epoch N, saying so first."""
        if epoch >= self.train_epoch:
            raise InputError(f"--checkpoint={self.settings['checkpoint']} goes back to epoch "
                             f"{epoch}, and --train_epoch={self.train_epoch} leaves nothing to "
                             f"train after it. Raise --train_epoch; nothing was changed.")
        later = sorted(e for e in self.checkpoints.kept() if e > epoch)
        last = max(later + [epoch])
        while os.path.exists(self.grid_path(True, last + 1)):
            last += 1  # grids of epochs whose checkpoints were already pruned
        if last == epoch:
            return
        print(f'going back to epoch {epoch}: dropping epochs {epoch + 1}-{last} from the history, '
              f'the grids and the GIF, and their checkpoints ({", ".join(map(str, later))})')
        self.checkpoints.drop_after(epoch)
        for later_epoch in range(epoch + 1, last + 1):
            for isFix in (True, False):
                if os.path.exists(self.grid_path(isFix, later_epoch)):
                    os.remove(self.grid_path(isFix, later_epoch))

    def start(self, train_hist):
        """Before the first step: the step count (the graph's too), the progress bar, the
        TensorBoard writer, Ctrl-C handling, the clock, and the Fixed grids of earlier sessions as
        the GIF's first frames."""
        self.epochs_done = len(train_hist['D_losses'])
        self.step_count = self.epochs_done * self.n_batches
        global_step = tf.train.get_global_step()  # ema_decay's warm-up counts G steps; unsaved
        if global_step is not None:
            global_step.load(self.step_count, self.sess)
        self.bar = tqdm(total=self.train_epoch * self.n_batches, initial=self.step_count,
                        unit='step', file=sys.stdout, disable=not sys.stdout.isatty(),
                        dynamic_ncols=True)
        self.writer = tf.summary.FileWriter(os.path.join(self.results_dir, 'tensorboard'),
                                            self.sess.graph, filename_suffix=EVENTS_SUFFIX)
        self.stop = StopRequest()
        self.grid_figure, self.loss_figure, self.quality_figure = GridFigure(), LossFigure(), QualityFigure()
        done = [self.grid_path(True, e + 1) for e in range(self.epochs_done)]
        self.fixed_frames = [iio.imread(path)[..., 0] for path in done if os.path.exists(path)]
        self.earlier_ptime = train_hist['total_ptime'][0]  # the sessions before this one
        self.start_time = time.time()

    @property
    def stop_requested(self):
        return self.stop.signal is not None

    def step(self, loss_d_, loss_g_):
        """After each D and G step: the progress bar, and the losses in TensorBoard every
        summary_every steps."""
        if self.step_count % self.n_batches == 0:
            self.bar.set_description(f'epoch {self.step_count // self.n_batches + 1}/{self.train_epoch}')
        if self.step_count % self.settings['summary_every'] == 0:
            self.writer.add_summary(scalars({'loss/D': loss_d_, 'loss/G': loss_g_}), self.step_count)
            self.bar.set_postfix(loss_d=f'{loss_d_:.3f}', loss_g=f'{loss_g_:.3f}', refresh=False)
        self.step_count += 1
        self.bar.update()

    def print(self, line):
        tqdm.write(line, file=sys.stdout)  # above the progress bar, which stays at the bottom

    def stop_if_diverged(self, epoch, D_losses, G_losses, train_hist):
        loss_d, loss_g = np.mean(D_losses), np.mean(G_losses)
        if np.isfinite(loss_d) and np.isfinite(loss_g):
            return
        self.bar.close()
        self.finish(train_hist)
        raise InputError(f"training diverged in epoch {epoch}: loss_d={loss_d}, loss_g={loss_g}. "
                         f"Nothing of this epoch was saved; the checkpoint of epoch {epoch - 1} "
                         f"is kept. Try a smaller --lr, or a larger --eps.")

    def grid_path(self, isFix, epoch):
        kind = 'Fixed' if isFix else 'Random'
        return os.path.join(self.results_dir, f'{kind}_results', f'MNIST_GAN_{epoch}.png')

    @stops_on_write_errors
    def show_result(self, epoch, images, isFix):
        """The epoch's grid of 25 images, saved as the reference's show_result saved it; the
        Fixed one also becomes a GIF frame and a TensorBoard image."""
        frame = self.grid_figure.save(images, f'Epoch {epoch}', self.grid_path(isFix, epoch))
        if isFix:
            self.fixed_frames.append(frame)
            self.writer.add_summary(gray_image('fixed_noise_grid/image/0', frame), self.step_count - 1)

    @stops_on_write_errors
    def score(self, epoch, n, train_hist, mnist):
        """Score n generated images; print, keep in the history and in TensorBoard."""
        figures = quality_figures(self.sess, self.G_z, self.z, mnist, n, epoch, self.settings)
        train_hist.setdefault('scores', []).append(dict(figures, epoch=epoch))
        shares = figures.pop('digit_shares')
        figures.update(smallest_digit_share=min(shares), largest_digit_share=max(shares))
        self.writer.add_summary(scalars({f'quality/{k}': v for k, v in figures.items()}), epoch)

    @stops_on_write_errors
    def save(self, epoch, train_hist, fixed_z_, rng):
        """After each epoch: the history, the loss plot and a checkpoint, kept as the best too
        when this epoch was scored with the lowest distance so far."""
        self.epochs_done = epoch
        train_hist['total_ptime'] = [self.total_ptime()]
        self.save_history(train_hist)
        distances = [s['frechet_distance'] for s in train_hist.get('scores', [])]
        is_best = bool(distances) and train_hist['scores'][-1]['epoch'] == epoch \
            and distances[-1] == min(distances)
        self.checkpoints.save(self.sess, epoch, {
            'epoch': epoch, 'settings': {name: self.settings[name] for name in RUN_SETTINGS},
            'train_hist': train_hist, 'fixed_z': fixed_z_, 'rng_state': rng.bit_generator.state},
            is_best)

    def total_ptime(self):
        """Seconds of training in this run, its earlier sessions included."""
        return self.earlier_ptime + time.time() - self.start_time

    def save_history(self, train_hist):
        save_pickle(train_hist, self.hist_path)
        self.loss_figure.save(train_hist, self.plot_path)
        if len(train_hist.get('scores', [])) >= 2:
            self.quality_figure.save(train_hist['scores'], self.quality_path)

    def end_training(self, train_hist):
        """After the loop, finished or stopped: the clock, the bar, and Ctrl-C back to normal."""
        train_hist['total_ptime'] = [self.total_ptime()]
        self.bar.close()
        self.stop.release()

    def interrupted(self, train_hist):
        """What a Ctrl-C or SIGTERM leaves: the outputs of the finished epochs; the exit status."""
        self.finish(train_hist)
        name = 'Ctrl-C' if self.stop.signal == signal.SIGINT else 'SIGTERM'
        again = 'the same command' if self.settings['checkpoint'] == 'last' else \
            'the same command without --checkpoint'  # with it, it would go back again
        print(f'{name}: stopped in epoch {self.epochs_done + 1}; {self.epochs_done} of '
              f'{self.train_epoch} epochs are saved in {self.results_dir}/. Run {again} to resume.')
        return 128 + self.stop.signal

    @stops_on_write_errors
    def finish(self, train_hist):
        """The outputs that sum up the run so far: history, loss plot, GIF of the Fixed grids."""
        self.save_history(train_hist)
        if self.fixed_frames:
            save_gif(self.fixed_frames, self.gif_path)
        self.writer.flush()
        for figure in (self.grid_figure, self.loss_figure, self.quality_figure):
            plt.close(figure.fig)


class StopRequest:
    """Ctrl-C or SIGTERM ask the loop to stop after the current step, so that an interrupted run
    keeps its last checkpoint whole and writes its plot and GIF. Asked twice, it stops at once."""

    def __init__(self):
        self.signal = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)

    def handle(self, signum, frame):
        if self.signal:
            raise KeyboardInterrupt
        self.signal = signum

    def release(self):
        """After training, Ctrl-C and SIGTERM stop the script at once again."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def scalars(values):
    """A TensorBoard summary of {tag: number}, made from fetched values: no graph op needed."""
    return tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=float(value))
                             for tag, value in values.items()])


def gray_image(tag, picture):
    """A TensorBoard image summary of a gray uint8 picture, PNG-encoded as tf.summary.image does."""
    height, width = picture.shape
    png = iio.imwrite('<bytes>', picture, extension='.png')
    return tf.Summary(value=[tf.Summary.Value(tag=tag, image=tf.Summary.Image(
        height=height, width=width, colorspace=1, encoded_image_string=png))])


# ---------------------------------------------------------------------------------------------
# The results folder: its folders, the lock, starting over, and the checkpoints
# ---------------------------------------------------------------------------------------------
def prepare_results_dir(results_dir):
    """Make results_dir and its subfolders, or explain why they cannot be made."""
    try:
        for name in RUN_FOLDERS:
            os.makedirs(os.path.join(results_dir, name), exist_ok=True)
        with open(os.path.join(results_dir, '.write_test'), 'w'):
            pass
        os.remove(os.path.join(results_dir, '.write_test'))
    except OSError as e:
        raise InputError(f"cannot write the results to {results_dir!r} ({e.strerror}: "
                         f"{e.filename}). Point --results_dir at a folder you can write to.") from None


def lock_results_dir(results_dir):
    """One training run per results_dir: an exclusive flock on results_dir/gan_mnist.lock, which
    the operating system releases when the process ends, however it ends. Returns the open file
    that holds the lock."""
    path = os.path.join(results_dir, 'gan_mnist.lock')
    lock = open(path, 'a')  # noqa: SIM115 (the lock lasts as long as the file stays open)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise InputError(f"{results_dir}/ is in use by another training run "
                         f"({lock_holder(path)}). Wait for it to end, stop it (it keeps its last "
                         f"whole epoch), or train in another --results_dir. Sampling and "
                         f"evaluating it meanwhile are fine.") from None
    return lock


def lock_holder(path):
    """'process N' holding the flock on path, from Linux's /proc/locks; else 'another process'."""
    device_inode = f':{os.stat(path).st_ino}'
    try:
        with open('/proc/locks') as f:
            for fields in (line.split() for line in f):
                if fields[1] == 'FLOCK' and fields[5].endswith(device_inode):
                    return f'process {fields[4]}'
    except (OSError, IndexError):
        pass
    return 'another process'


def clear_run(results_dir):
    """--resume=False: delete the files an earlier run of the script wrote in results_dir,
    matched by their exact names; say which other files were left."""
    left = []
    for folder, names in SCRIPT_FILES.items():
        path = os.path.join(results_dir, folder)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            file = os.path.join(path, name)
            if re.fullmatch(names, name) and os.path.isfile(file):
                os.remove(file)
            elif os.path.isfile(file) and not (folder == '' and name == 'gan_mnist.lock'):
                left.append(os.path.join(folder, name))
    if left:
        print(f"starting over in {results_dir}/; left {len(left)} file(s) the script did not "
              f"write: {', '.join(left)}")


def saved_variables():
    """Every variable but the global step, which resuming sets from the epoch: so that runs saved
    before it existed still load."""
    return [v for v in tf.global_variables() if v is not tf.train.get_global_step()]


class Checkpoints:
    """The end-of-epoch checkpoints in checkpoint_dir: the last `keep` (gan-N.*, listed in the
    file 'checkpoint') and, once the run is scored during training, the one with the lowest
    distance so far (best-N.*, listed in 'best_checkpoint'). Weights and Adam state go through
    Saver; the rest of the run is kept beside them as run-N.json (epoch, the settings that define
    the run, history, numpy RNG state) and run-N.npz (the fixed noise): data only, so reading a
    results folder from someone else runs none of their code, as a pickle could."""

    def __init__(self, checkpoint_dir, keep=1):
        self.dir, self.keep = checkpoint_dir, keep

    @functools.cached_property
    def saver(self):  # made on first use: reading the run state needs no graph
        return tf.train.Saver(saved_variables(), max_to_keep=self.keep, save_relative_paths=True)

    @functools.cached_property
    def best_saver(self):
        return tf.train.Saver(saved_variables(), max_to_keep=1, save_relative_paths=True)

    def listed(self, latest_filename):
        state = tf.train.get_checkpoint_state(self.dir, latest_filename)
        return list(state.all_model_checkpoint_paths) if state else []

    def kept(self):
        """{epoch: path} of every kept checkpoint, the best one included."""
        return {epoch_of(path): path for path in self.listed('best_checkpoint') + self.listed('checkpoint')}

    def save(self, sess, epoch, run_state, is_best=False):
        """The run state first, the Savers last: a Saver updates its list only after the weights
        are written, so a checkpoint listed there is whole."""
        state = {name: value for name, value in run_state.items() if name != 'fixed_z'}
        with replaced_atomically(os.path.join(self.dir, f'run-{epoch}.json')) as tmp, open(tmp, 'w') as f:
            json.dump(state, f, default=float)  # float: numpy's float32 losses
        with replaced_atomically(os.path.join(self.dir, f'run-{epoch}.npz')) as tmp, open(tmp, 'wb') as f:
            np.savez(f, fixed_z=run_state['fixed_z'])
        self.saver.save(sess, os.path.join(self.dir, 'gan'), global_step=epoch,
                        write_meta_graph=False)
        if is_best:
            self.best_saver.save(sess, os.path.join(self.dir, 'best'), global_step=epoch,
                                 latest_filename='best_checkpoint', write_meta_graph=False)
        kept_epochs = self.kept()
        for name in os.listdir(self.dir):
            state_file = re.fullmatch(r'run-(\d+)\.(json|npz|pkl)', name)
            if state_file and int(state_file[1]) not in kept_epochs:
                os.remove(os.path.join(self.dir, name))

    def run_state(self, epoch):
        """The run state saved with the checkpoint of `epoch`."""
        older = os.path.join(self.dir, f'run-{epoch}.pkl')
        if os.path.exists(older) and not os.path.exists(os.path.join(self.dir, f'run-{epoch}.json')):
            raise InputError(f"{self.dir}/ was saved by an older version of gan_mnist.py, as "
                             f"pickles ({older}), which this one does not load: unpickling can "
                             f"run code. Start over with --resume=False, or train in another "
                             f"--results_dir.")
        with open(os.path.join(self.dir, f'run-{epoch}.json')) as f:
            state = json.load(f)
        state['settings'] = dict(ADDED_SETTINGS, **state['settings'])
        with np.load(os.path.join(self.dir, f'run-{epoch}.npz')) as arrays:
            state['fixed_z'] = arrays['fixed_z']
        return state

    def restore(self, sess, which='last'):
        """Restore a checkpoint, 'last' (the newest whole one: a damaged one is reported and the
        one before it used), 'best', or an epoch number; return its run state. None when the
        folder holds no checkpoint."""
        for path in self.candidates(which):
            try:
                run_state = self.run_state(epoch_of(path))
                self.saver.restore(sess, path)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, tf.errors.OpError) as e:
                print(f'checkpoint of epoch {epoch_of(path)} is damaged ({type(e).__name__}); '
                      f'trying the one before it')
                continue
            self.saver.recover_last_checkpoints(self.listed('checkpoint'))  # later saves prune these
            self.best_saver.recover_last_checkpoints(self.listed('best_checkpoint'))
            return run_state
        if self.candidates(which):
            raise InputError(f"every checkpoint in {self.dir}/ is damaged. Run with "
                             f"--resume=False to delete this run and start over, or with another "
                             f"--results_dir to keep it.")
        return None

    def saved_settings(self, which='last'):
        """The settings of the run whose checkpoint `which` would be restored; None if none."""
        for path in self.candidates(which):
            try:
                return self.run_state(epoch_of(path))['settings']
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                continue  # restore() reports it
        return None

    def candidates(self, which):
        """The checkpoint paths to try for `which`, in order."""
        last = self.listed('checkpoint')
        if not last:
            return []
        if which == 'last':
            return list(reversed(last))
        if which == 'best':
            if not self.listed('best_checkpoint'):
                raise InputError(f"{self.dir}/ holds no best checkpoint: the run was not scored "
                                 f"during training (--eval_every). Use --checkpoint=last or an "
                                 f"epoch among {self.describe_kept()}.")
            return self.listed('best_checkpoint')
        if int(which) not in self.kept():
            raise InputError(f"--checkpoint={which}: epoch {which} is not kept in {self.dir}/; "
                             f"the kept ones are {self.describe_kept()}.")
        return [self.kept()[int(which)]]

    def describe_kept(self):
        best = self.listed('best_checkpoint')
        return ', '.join(str(epoch_of(path)) for path in self.listed('checkpoint')) \
            + (f' and the best, {epoch_of(best[0])}' if best else '')

    def drop_after(self, epoch):
        """Delete the checkpoints of the epochs after `epoch`, and take them off both lists."""
        dropped = set()
        for saver, latest_filename in ((self.saver, 'checkpoint'), (self.best_saver, 'best_checkpoint')):
            kept = []
            for path in self.listed(latest_filename):
                if epoch_of(path) > epoch:
                    tf.train.remove_checkpoint(path)
                    dropped.add(epoch_of(path))
                else:
                    kept.append(path)
            saver.recover_last_checkpoints(kept)
            if kept:
                tf.train.update_checkpoint_state(self.dir, os.path.basename(kept[-1]),
                                                 [os.path.basename(p) for p in kept],
                                                 latest_filename=latest_filename)
            else:
                os.remove(os.path.join(self.dir, latest_filename))
        for dropped_epoch in dropped:
            for ending in ('json', 'npz'):
                os.remove(os.path.join(self.dir, f'run-{dropped_epoch}.{ending}'))


def epoch_of(checkpoint_path):
    """The epoch of a checkpoint path such as .../gan-12."""
    return int(checkpoint_path.rsplit('-', 1)[1])


def check_same_run(saved, settings):
    """Refuse to continue a saved run with settings that would make it a different run."""
    differ, said = differing(RUN_SETTINGS, saved, settings, 'this run')
    if differ:
        raise InputError(f"{said}. Resume it with its own settings, keep it and start another "
                         f"with a new --results_dir, or delete it and start over with "
                         f"--resume=False.")


def differing(names, saved, settings, asker):
    """The names among `names` whose saved value differs from the asked one, and a sentence
    saying so: '{results_dir}/ holds a run trained with lr=0.0002; {asker} asks for lr=0.001'."""
    differ = [name for name in names if saved[name] != settings[name]]
    return differ, (f"{settings['results_dir']}/ holds a run trained with "
                    + ', '.join(f'{n}={saved[n]!r}' for n in differ) + f"; {asker} asks for "
                    + ', '.join(f'{n}={settings[n]!r}' for n in differ))


def save_pickle(obj, path):
    with replaced_atomically(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(obj, f)


# ---------------------------------------------------------------------------------------------
# Instead of training: samples and quality figures of a checkpoint
# ---------------------------------------------------------------------------------------------
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


def sample_or_evaluate(sess, G_z, z, mnist, settings):
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
        quality_figures(sess, G_z, z, mnist, n, epoch, settings)
        return
    images = generate(sess, G_z, z, n, np.random.default_rng(settings['seed']))
    np.save(os.path.join(results_dir, 'samples.npy'), images)
    GridFigure().save(images, f'{n} samples, epoch {epoch}', os.path.join(results_dir, 'samples.png'))
    print(f'wrote {n} samples of epoch {epoch} to {results_dir}/samples.npy and samples.png')


def generate(sess, G_z, z, n, rng):
    """n generated images (n x 784, float32 in [-1, 1]), made in chunks to bound memory."""
    chunks = [sess.run(G_z, {z: rng.standard_normal((min(10000, n - i), 100), dtype=np.float32)})
              for i in range(0, n, 10000)]
    return np.concatenate(chunks).astype(np.float32)


def quality_figures(sess, G_z, z, mnist, n, epoch, settings):
    """Classifier score and Fréchet distance of n samples, with the real-data ceiling, printed."""
    import mnist_score  # only runs that score need it
    images = generate(sess, G_z, z, n, np.random.default_rng(settings['seed'] + epoch))
    cache_path = os.path.join(settings['data_dir'], 'mnist_classifier.npz')
    figures = mnist_score.score_images(images, mnist, cache_path)
    print(mnist_score.describe(figures, epoch, n))
    return figures


# ---------------------------------------------------------------------------------------------
# Pictures: sample grids and the loss plot, each a figure drawn once and updated per epoch
# ---------------------------------------------------------------------------------------------
class GridFigure:
    """A 5x5 grid of generated digits with a caption, as the reference's show_result drew it, but
    as one image instead of 25 subplots: about 15 ms a picture instead of several hundred."""

    def __init__(self):
        self.fig = plt.figure(figsize=(5, 5))  # 500 x 500 pixels, as the reference's
        ax = self.fig.add_axes([0.05, 0.07, 0.9, 0.9])  # 450 pixels: each image pixel drawn 3x3
        ax.axis('off')
        self.image = ax.imshow(np.zeros((150, 150)), cmap='gray', vmin=-1, vmax=1,
                               interpolation='nearest')
        self.caption = self.fig.text(0.5, 0.025, '', ha='center')

    def save(self, images, caption, path):
        """Save the first 25 images (N x 784, in [-1, 1]) and return the picture as gray uint8."""
        tiles = np.full((25, 30, 30), np.nan, np.float32)  # NaN: a blank 1-pixel frame per tile
        tiles[:len(images[:25]), 1:-1, 1:-1] = images[:25].reshape(-1, 28, 28)
        self.image.set_data(tiles.reshape(5, 5, 30, 30).transpose(0, 2, 1, 3).reshape(150, 150))
        self.caption.set_text(caption)
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')
        return np.asarray(self.fig.canvas.buffer_rgba())[..., 0].copy()


class LossFigure:
    """D and G loss per epoch, as the reference's show_train_hist drew it."""

    def __init__(self):
        self.fig, self.ax = plt.subplots()
        self.D_line, = self.ax.plot([], [], '.-', label='D_loss')
        self.G_line, = self.ax.plot([], [], '.-', label='G_loss')
        self.ax.set_xlabel('Epoch')
        self.ax.set_ylabel('Loss')
        self.ax.legend(loc=4)
        self.ax.grid(True)
        self.fig.tight_layout()

    def save(self, hist, path):
        epochs = np.arange(1, len(hist['D_losses']) + 1)
        self.D_line.set_data(epochs, hist['D_losses'])
        self.G_line.set_data(epochs, hist['G_losses'])
        self.ax.relim()
        self.ax.autoscale_view()
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')


class QualityFigure:
    """Classifier score and Fréchet distance per scored epoch, with the real-data ceilings."""

    def __init__(self):
        self.fig, (self.score_ax, self.distance_ax) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.4))
        self.score_ax.set_ylabel('classifier score (at most 10)')
        self.distance_ax.set_ylabel('Fréchet distance (0 is best)')
        self.distance_ax.set_yscale('log')
        self.distance_ax.set_xlabel('Epoch')

    def save(self, scores, path):
        epochs = [s['epoch'] for s in scores]
        for ax, name in ((self.score_ax, 'classifier_score'), (self.distance_ax, 'frechet_distance')):
            for line in list(ax.lines):
                line.remove()
            ax.plot(epochs, [s[name] for s in scores], '.-', color='C0', label='samples')
            ax.plot(epochs, [s[f'real_{name}'] for s in scores], '--', color='gray', label='real images')
            ax.grid(True)
            ax.relim()
            ax.autoscale_view()
        self.score_ax.legend(loc='best')
        self.fig.tight_layout()
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')


def save_gif(frames, path):
    with replaced_atomically(path) as tmp:
        # 5 fps, as the reference; optimize=False keeps one 256-gray palette for every frame,
        # without which Pillow reads a later frame in another mode than the first
        iio.imwrite(tmp, np.stack(frames), extension='.gif', duration=200, loop=0, optimize=False)
