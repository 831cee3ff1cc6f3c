"""The training run a story script ties its loop to: made or resumed in results_dir, stepped,
saved after each epoch, and finished or interrupted. It holds the rooms beside it together: the
results folder, the checkpoints, the pictures and the scoring. Besides checkpoints it writes the
reference's grids, history, loss plot and GIF, and TensorBoard events; Ctrl-C stops it after a
step, and a failed write stops it with one line.

Settings come in as arguments (`settings` is the dict of the script's settings); nothing here
reads the script's globals.
"""
import functools
import os
import signal
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

from backstage import bfloat16, pictures, results_folder, sampling
from backstage.checkpoints import Checkpoints, check_same_run, epoch_of
from backstage.files import write_failure
from backstage.stop_request import StopRequest
from configurator import InputError, check_against_data, run_settings


def new_graph():
    """A story's graph, TF1 style: eager execution off (build a graph, then run it in a Session),
    and a new default graph each run, which a notebook's second %run would otherwise build
    beside the first; compat.v1's warnings that it is compat.v1 kept quiet."""
    tf.disable_eager_execution()
    tf.reset_default_graph()
    tf.logging.set_verbosity(tf.logging.ERROR)


class WriteError(InputError):
    """A file of the run could not be written (disk full, folder gone, no permission): the
    message names it and the cause; the last whole checkpoint stays."""


def stops_cleanly(method):
    """A TrainingRun method that, when anything stops it, first lets go of what the run holds in
    this process (the lock, Ctrl-C's handling), so that a notebook kernel, which lives on, can
    run the story again; a failed write becomes a WriteError that names it and says what to do."""
    @functools.wraps(method)
    def method_that_stops_cleanly(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (OSError, tf.errors.OpError) as e:
            failure = write_failure(e)
        except BaseException:
            self.release()
            raise
        self.release()
        whole = self.checkpoints.listed('checkpoint')
        kept = f'the checkpoint of epoch {epoch_of(whole[-1])} is whole' if whole else \
            'no epoch was saved yet'
        raise WriteError(f'{failure}. Training stopped; {kept}. Once the cause is fixed, run the '
                         f'same command to resume.') from None
    return method_that_stops_cleanly


class TrainingRun:
    """One training run in results_dir: made or resumed, then stepped, saved each epoch, and
    finished or interrupted."""

    def __init__(self, sess, G_sample, z, settings, data, model, prefix_all=False, labels=None):
        """Check what only the data (read_data_sets' result) can tell, make results_dir and lock
        it (with resume False, deleting the run there). model begins the file names (the
        reference's 'MNIST_GAN_'); with prefix_all, the history's and the GIF's too. labels: a
        conditional G's placeholder for the classes it is asked for (one-hot), which scoring feeds."""
        self.sess, self.G_scored = sess, sampling.Drawn(sess, G_sample, z, labels).scored()  # what score() draws
        self.settings, self.model, self.prefix_all, self.data = settings, model, prefix_all, data
        self.results_dir, self.train_epoch = settings['results_dir'], settings['train_epoch']
        check_against_data(settings, len(data.train.images))
        bfloat16.say_if_it_may_not_pay(settings['precision'], sess.graph)  # bfloat16 without AMX
        if data.classes is None and settings['eval_samples']:
            print(sampling.no_scores(data))
        self.n_batches = len(data.train.images) // settings['batch_size']
        results_folder.prepare(self.results_dir)
        self.lock, self.stop = results_folder.lock(self.results_dir), None  # Ctrl-C's handling: from start()
        if not settings['resume']:
            results_folder.clear_run(self.results_dir, model)
        self.checkpoints = Checkpoints(os.path.join(self.results_dir, 'checkpoints'), settings['keep_checkpoints'])

    @stops_cleanly
    def resume(self, train_hist, fixed_z_, rng):
        """The history and fixed noise of the run saved in results_dir (its weights restored, rng
        put back), or the ones given when there is none; with --checkpoint=N, the epochs after N
        dropped first. A run that already holds train_epoch epochs ends the script: nothing to do."""
        which = self.settings['checkpoint']
        same_run = functools.partial(check_same_run, settings=self.settings, model=self.model, data=self.data)
        run_state = self.checkpoints.restore(self.sess, which, same_run) if self.settings['resume'] else None
        check_left_to_train(run_state, which, self.checkpoints.dir, self.train_epoch, self.results_dir)
        if run_state is None:
            return train_hist, fixed_z_
        epoch = run_state['epoch']
        if which != 'last':
            go_back_to(epoch, self.checkpoints, self.results_dir, self.model)
        rng.bit_generator.state = run_state['rng_state']
        print(f"resuming from epoch {epoch} of {self.train_epoch} "
              f"(saved in {self.checkpoints.dir}/)")
        return run_state['train_hist'], run_state['fixed_z']

    def start(self, train_hist):
        """Before the first step: the step count (the graph's too), the progress bar and
        TensorBoard, Ctrl-C handling, the clock, and the Fixed grids of earlier sessions as the
        GIF's first frames."""
        self.epochs_done = len(train_hist['D_losses'])
        self.progress = Progress(self.settings, self.n_batches, self.epochs_done * self.n_batches,
                                 self.sess.graph)
        global_step = tf.train.get_global_step()  # ema_decay's warm-up counts G steps; unsaved
        if global_step is not None:
            global_step.load(self.progress.step_count, self.sess)
        self.stop = StopRequest(self.release, story=sys._getframe(1).f_code)  # the story's module
        self.files = results_folder.RunFiles(self.results_dir, self.model, self.epochs_done,
                                             self.prefix_all, columns=10 if self.G_scored.conditional else 5)
        self.earlier_ptime = train_hist['total_ptime'][0]  # the sessions before this one
        self.start_time = time.time()

    @property
    def stop_requested(self):
        return self.stop.signal is not None

    def release(self):
        """When the run ends, however it ends: Ctrl-C as before the run, and the lock let go of."""
        if self.stop:
            self.stop.release()
        self.lock.release()

    def step(self, loss_d_, loss_g_):
        self.progress.step(loss_d_, loss_g_)

    def print(self, line):
        tqdm.write(line, file=sys.stdout)  # above the progress bar, which stays at the bottom

    @stops_cleanly
    def stop_if_diverged(self, epoch, D_losses, G_losses, train_hist):
        loss_d, loss_g = np.mean(D_losses), np.mean(G_losses)
        if np.isfinite(loss_d) and np.isfinite(loss_g):
            return
        self.progress.bar.close()
        self.finish(train_hist)
        raise InputError(f"training diverged in epoch {epoch}: loss_d={loss_d}, loss_g={loss_g}. "
                         f"Nothing of this epoch was saved; the checkpoint of epoch {epoch - 1} "
                         f"is kept. Try a smaller --lr, or a larger --eps.")

    @stops_cleanly
    def show_result(self, epoch, images, isFix):
        """The epoch's grid of 25 images, saved as the reference's show_result saved it; the
        Fixed one also becomes a GIF frame and a TensorBoard image."""
        frame = self.files.save_grid(epoch, images, isFix)
        if isFix:
            self.progress.summary(pictures.image_summary('fixed_noise_grid/image/0', frame))

    @stops_cleanly
    def score(self, epoch, n, train_hist):
        """Score n generated images; print, keep in the history and in TensorBoard (data without
        classes: no scores, as said at the start)."""
        if self.data.classes is None:
            return
        figures = sampling.quality_figures(self.G_scored, self.data, n, epoch, self.settings)
        train_hist.setdefault('scores', []).append(dict(figures, epoch=epoch))
        self.progress.summary(scalars(quality_scalars(figures, self.data.classes)), epoch)

    @stops_cleanly
    def save(self, epoch, train_hist, fixed_z_, rng):
        """After each epoch: the history, the loss plot and a checkpoint, kept as the best too
        when this epoch was scored with the lowest distance so far."""
        self.epochs_done = epoch
        train_hist['total_ptime'] = [self.total_ptime()]
        self.files.save_history(train_hist)
        self.checkpoints.save(self.sess, epoch, {
            'epoch': epoch, 'settings': dict(run_settings(self.settings), model=self.model,
                                             data=self.data.source, classes=self.data.classes),
            'train_hist': train_hist, 'fixed_z': fixed_z_, 'rng_state': rng.bit_generator.state},
            scored_best(train_hist, epoch))

    def total_ptime(self):
        """Seconds of training in this run, its earlier sessions included."""
        return self.earlier_ptime + time.time() - self.start_time

    def end_training(self, train_hist):
        """After the loop, finished or stopped: the clock, the bar, and Ctrl-C back to what it was."""
        train_hist['total_ptime'] = [self.total_ptime()]
        self.progress.bar.close()
        self.stop.release()

    def interrupted(self, train_hist):
        """What a Ctrl-C or SIGTERM leaves: the outputs of the finished epochs; the exit status."""
        self.finish(train_hist)
        name = 'Ctrl-C' if self.stop.signal == signal.SIGINT else 'SIGTERM'
        again = 'the same command' + ('' if self.settings['checkpoint'] == 'last' else ' without --checkpoint')
        print(f'{name}: stopped in epoch {self.epochs_done + 1}; {self.epochs_done} of '
              f'{self.train_epoch} epochs are saved in {self.results_dir}/. Run {again} to resume.')
        return 128 + self.stop.signal

    @stops_cleanly
    def finish(self, train_hist):
        """The outputs that sum up the run so far (history, loss plot, GIF of the Fixed grids); release."""
        self.files.save_history(train_hist)
        self.files.save_gif()
        self.progress.writer.close()
        self.files.close()
        self.release()


def check_left_to_train(run_state, which, checkpoints_dir, train_epoch, results_dir):
    """Refuse a --checkpoint=N with no checkpoint to go back to, or with none to train after it;
    end the script when the saved run holds train_epoch epochs already (nothing to do)."""
    if run_state is None and which != 'last':
        raise InputError(f"--checkpoint={which}: {checkpoints_dir}/ holds no checkpoint "
                         f"to go back to. Leave --checkpoint out to start a new run there.")
    epoch = run_state['epoch'] if run_state else 0
    if epoch >= train_epoch and which == 'last':
        print(f'{results_dir}/ already holds {epoch} trained epochs; nothing to do. '
              f'Raise --train_epoch to train on.')
        sys.exit()  # through stops_cleanly, which lets go of the lock
    if epoch >= train_epoch:
        raise InputError(f"--checkpoint={which} goes back to epoch {epoch}, and --train_epoch="
                         f"{train_epoch} leaves nothing to train after it. Raise "
                         f"--train_epoch; nothing was changed.")


def scored_best(train_hist, epoch):
    """Whether epoch was scored, with the lowest distance so far (its checkpoint kept as the best)."""
    distances = [s['frechet_distance'] for s in train_hist.get('scores', [])]
    return bool(distances) and train_hist['scores'][-1]['epoch'] == epoch and distances[-1] == min(distances)


def go_back_to(epoch, checkpoints, results_dir, model):
    """--checkpoint=N when training: drop what came after epoch N, its checkpoints and grids,
    saying so first."""
    later = sorted(e for e in checkpoints.kept() if e > epoch)
    last = results_folder.last_epoch_with_grids(results_dir, model, max(later + [epoch]))
    if last == epoch:
        return
    print(f'going back to epoch {epoch}: dropping epochs {epoch + 1}-{last} from the history, '
          f'the grids and the GIF, and their checkpoints ({", ".join(map(str, later))})')
    checkpoints.drop_after(epoch)
    results_folder.drop_grids(results_dir, model, epoch + 1, last)


class Progress:
    """What a watcher sees while a run trains: the progress bar (in a terminal only) and the
    TensorBoard events, losses every summary_every steps."""

    def __init__(self, settings, n_batches, step_count, graph):
        self.n_batches, self.train_epoch = n_batches, settings['train_epoch']
        self.summary_every, self.step_count = settings['summary_every'], step_count
        self.bar = tqdm(total=self.train_epoch * n_batches, initial=step_count, unit='step',
                        file=sys.stdout, disable=not sys.stdout.isatty(), dynamic_ncols=True)
        self.writer = tf.summary.FileWriter(os.path.join(settings['results_dir'], 'tensorboard'),
                                            graph, filename_suffix=results_folder.EVENTS_SUFFIX)

    def step(self, loss_d_, loss_g_):
        """After each D and G step: the bar, and the losses in TensorBoard every summary_every."""
        if self.step_count % self.n_batches == 0:
            self.bar.set_description(f'epoch {self.step_count // self.n_batches + 1}/{self.train_epoch}')
        if self.step_count % self.summary_every == 0:
            self.writer.add_summary(scalars({'loss/D': loss_d_, 'loss/G': loss_g_}), self.step_count)
            self.bar.set_postfix(loss_d=f'{loss_d_:.3f}', loss_g=f'{loss_g_:.3f}', refresh=False)
        self.step_count += 1
        self.bar.update()

    def summary(self, summary, step=None):
        """A summary at `step`, by default the last step taken."""
        self.writer.add_summary(summary, self.step_count - 1 if step is None else step)


def quality_scalars(figures, names):
    """TensorBoard's quality/* numbers of a scoring's figures: the smallest and largest class
    share, and for a conditional G each class's label accuracy, by the classes' names."""
    figures = dict(figures)
    shares = figures.pop('digit_shares')
    figures.update(smallest_digit_share=min(shares), largest_digit_share=max(shares))
    if 'label_accuracy_by_digit' in figures:  # a conditional G: its classes, each as asked
        figures.update({f'label_accuracy_of/{name}': accuracy for name, accuracy
                        in zip(names, figures.pop('label_accuracy_by_digit'))})
    return {f'quality/{name}': value for name, value in figures.items()}


def scalars(values):
    """A TensorBoard summary of {tag: number}, made from fetched values: no graph op needed."""
    return tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=float(value))
                             for tag, value in values.items()])
