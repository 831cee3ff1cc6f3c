"""The machinery of a training run of gan_mnist.py, kept beside the script so that the script
reads like the reference: the results folder, checkpoints and resuming, Ctrl-C, the sample grids,
loss plot and GIF, TensorBoard, the progress bar, and the quality figures.

Settings come in as arguments (`settings` is the dict of the script's settings); nothing here
reads the script's globals.
"""
import os
import pickle
import signal
import sys
import time

import imageio.v3 as iio
import matplotlib
import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

from configurator import RUN_SETTINGS, InputError
from input_data import replaced_atomically

matplotlib.use('Agg')  # files only, no window: also works on a machine with no display
import matplotlib.pyplot as plt  # after use('Agg'): the backend must be chosen first

RUN_FOLDERS = ('checkpoints', 'Fixed_results', 'Random_results', 'tensorboard')  # in results_dir


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
        """Before the first step: the progress bar, the TensorBoard writer, Ctrl-C handling, the
        clock, and the Fixed grids of earlier sessions as the GIF's first frames."""
        self.epochs_done = len(train_hist['D_losses'])
        self.step_count = self.epochs_done * self.n_batches
        self.bar = tqdm(total=self.train_epoch * self.n_batches, initial=self.step_count,
                        unit='step', file=sys.stdout, disable=not sys.stdout.isatty(),
                        dynamic_ncols=True)
        self.writer = tf.summary.FileWriter(os.path.join(self.results_dir, 'tensorboard'),
                                            self.sess.graph)
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

    def show_result(self, epoch, images, isFix):
        """The epoch's grid of 25 images, saved as the reference's show_result saved it; the
        Fixed one also becomes a GIF frame and a TensorBoard image."""
        frame = self.grid_figure.save(images, f'Epoch {epoch}', self.grid_path(isFix, epoch))
        if isFix:
            self.fixed_frames.append(frame)
            self.writer.add_summary(gray_image('fixed_noise_grid/image/0', frame), self.step_count - 1)

    def score(self, epoch, n, train_hist, mnist):
        """Score n generated images; print, keep in the history and in TensorBoard."""
        figures = quality_figures(self.sess, self.G_z, self.z, mnist, n, epoch, self.settings)
        train_hist.setdefault('scores', []).append(dict(figures, epoch=epoch))
        shares = figures.pop('digit_shares')
        figures.update(smallest_digit_share=min(shares), largest_digit_share=max(shares))
        self.writer.add_summary(scalars({f'quality/{k}': v for k, v in figures.items()}), epoch)

    def save(self, epoch, train_hist, fixed_z_, rng):
        """After each epoch: the history, the loss plot and a checkpoint, kept as the best too
        when this epoch was scored with the lowest distance so far."""
        self.epochs_done = epoch
        train_hist['total_ptime'] = [self.earlier_ptime + time.time() - self.start_time]
        self.save_history(train_hist)
        distances = [s['frechet_distance'] for s in train_hist.get('scores', [])]
        is_best = bool(distances) and train_hist['scores'][-1]['epoch'] == epoch \
            and distances[-1] == min(distances)
        self.checkpoints.save(self.sess, epoch, {
            'epoch': epoch, 'settings': {name: self.settings[name] for name in RUN_SETTINGS},
            'train_hist': train_hist, 'fixed_z': fixed_z_, 'rng_state': rng.bit_generator.state},
            is_best)

    def save_history(self, train_hist):
        save_pickle(train_hist, self.hist_path)
        self.loss_figure.save(train_hist, self.plot_path)
        if len(train_hist.get('scores', [])) >= 2:
            self.quality_figure.save(train_hist['scores'], self.quality_path)

    def end_training(self, train_hist):
        """After the loop, finished or stopped: the clock, the bar, and Ctrl-C back to normal."""
        train_hist['total_ptime'] = [self.earlier_ptime + time.time() - self.start_time]
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

    def finish(self, train_hist):
        """The outputs that sum up the run so far: history, loss plot, GIF of the Fixed grids."""
        self.save_history(train_hist)
        if self.fixed_frames:
            save_gif(self.fixed_frames, self.gif_path)
        self.writer.flush()


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
# The results folder and checkpoints: weights and Adam state through Saver, plus a pickle of the
# rest of the run (history, fixed noise, numpy RNG state, the settings that define the run)
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


def clear_run(results_dir):
    """--resume=False: delete what an earlier run left in results_dir."""
    for name in RUN_FOLDERS:
        path = os.path.join(results_dir, name)
        if os.path.isdir(path):
            for file in os.listdir(path):
                os.remove(os.path.join(path, file))
    for name in ('train_hist.pkl', 'MNIST_GAN_train_hist.png', 'MNIST_GAN_quality.png',
                 'generation_animation.gif'):
        if os.path.exists(os.path.join(results_dir, name)):
            os.remove(os.path.join(results_dir, name))


class Checkpoints:
    """The end-of-epoch checkpoints in checkpoint_dir: the last `keep` (gan-N.*, listed in the
    file 'checkpoint') and, once the run is scored during training, the one with the lowest
    distance so far (best-N.*, listed in 'best_checkpoint'). Weights and Adam state go through
    Saver; the rest of the run (history, fixed noise, numpy RNG state, the settings that define
    the run) is pickled beside them as run-N.pkl."""

    def __init__(self, checkpoint_dir, keep=1):
        self.dir = checkpoint_dir
        self.saver = tf.train.Saver(max_to_keep=keep, save_relative_paths=True)
        self.best_saver = tf.train.Saver(max_to_keep=1, save_relative_paths=True)

    def listed(self, latest_filename):
        state = tf.train.get_checkpoint_state(self.dir, latest_filename)
        return list(state.all_model_checkpoint_paths) if state else []

    def kept(self):
        """{epoch: path} of every kept checkpoint, the best one included."""
        return {epoch_of(path): path for path in self.listed('best_checkpoint') + self.listed('checkpoint')}

    def save(self, sess, epoch, run_state, is_best=False):
        """The run state first, the Savers last: a Saver updates its list only after the weights
        are written, so a checkpoint listed there is whole."""
        save_pickle(run_state, os.path.join(self.dir, f'run-{epoch}.pkl'))
        self.saver.save(sess, os.path.join(self.dir, 'gan'), global_step=epoch,
                        write_meta_graph=False)
        if is_best:
            self.best_saver.save(sess, os.path.join(self.dir, 'best'), global_step=epoch,
                                 latest_filename='best_checkpoint', write_meta_graph=False)
        kept_epochs = self.kept()
        for name in os.listdir(self.dir):
            if name.startswith('run-') and int(name[len('run-'):-len('.pkl')]) not in kept_epochs:
                os.remove(os.path.join(self.dir, name))

    def restore(self, sess, which='last'):
        """Restore a checkpoint, 'last' (the newest whole one: a damaged one is reported and the
        one before it used), 'best', or an epoch number; return its run state. None when the
        folder holds no checkpoint."""
        last = self.listed('checkpoint')
        if not last:
            return None
        if which == 'last':
            candidates = list(reversed(last))
        elif which == 'best':
            candidates = self.listed('best_checkpoint')
            if not candidates:
                raise InputError(f"{self.dir}/ holds no best checkpoint: the run was not scored "
                                 f"during training (--eval_every). Use --checkpoint=last or an "
                                 f"epoch among {self.describe_kept()}.")
        elif int(which) in self.kept():
            candidates = [self.kept()[int(which)]]
        else:
            raise InputError(f"--checkpoint={which}: epoch {which} is not kept in {self.dir}/; "
                             f"the kept ones are {self.describe_kept()}.")
        for path in candidates:
            epoch = epoch_of(path)
            try:
                with open(os.path.join(self.dir, f'run-{epoch}.pkl'), 'rb') as f:
                    run_state = pickle.load(f)
                self.saver.restore(sess, path)
            except (OSError, EOFError, pickle.UnpicklingError, tf.errors.OpError) as e:
                print(f'checkpoint of epoch {epoch} is damaged ({type(e).__name__}); '
                      f'trying the one before it')
                continue
            self.saver.recover_last_checkpoints(last)  # later saves keep pruning these
            self.best_saver.recover_last_checkpoints(self.listed('best_checkpoint'))
            return run_state
        raise InputError(f"every checkpoint in {self.dir}/ is damaged. Run with "
                         f"--resume=False to delete this run and start over, or with another "
                         f"--results_dir to keep it.")

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
            os.remove(os.path.join(self.dir, f'run-{dropped_epoch}.pkl'))


def epoch_of(checkpoint_path):
    """The epoch of a checkpoint path such as .../gan-12."""
    return int(checkpoint_path.rsplit('-', 1)[1])


def check_same_run(saved, settings):
    """Refuse to continue a saved run with settings that would make it a different run."""
    differ = [name for name in RUN_SETTINGS if saved[name] != settings[name]]
    if differ:
        raise InputError(
            f"{settings['results_dir']}/ holds a run trained with "
            + ', '.join(f'{n}={saved[n]!r}' for n in differ) + "; this run asks for "
            + ', '.join(f'{n}={settings[n]!r}' for n in differ) + ". Resume it with its own "
            "settings, keep it and start another with a new --results_dir, or delete it and "
            "start over with --resume=False.")


def save_pickle(obj, path):
    with replaced_atomically(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(obj, f)


# ---------------------------------------------------------------------------------------------
# Instead of training: samples and quality figures of the newest checkpoint
# ---------------------------------------------------------------------------------------------
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
            ax.plot(epochs, [s[name] for s in scores], '.-', label='samples')
            ax.plot(epochs, [s[f'real_{name}'] for s in scores], '--', color='gray', label='real images')
            ax.grid(True)
            ax.relim()
            ax.autoscale_view()
        self.score_ax.legend(loc=4)
        self.fig.tight_layout()
        with replaced_atomically(path) as tmp:
            self.fig.savefig(tmp, format='png')


def save_gif(frames, path):
    with replaced_atomically(path) as tmp:
        # 5 fps, as the reference; optimize=False keeps one 256-gray palette for every frame,
        # without which Pillow reads a later frame in another mode than the first
        iio.imwrite(tmp, np.stack(frames), extension='.gif', duration=200, loop=0, optimize=False)
