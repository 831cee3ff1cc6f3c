"""The end-of-epoch checkpoints of a run: the last few and the best, each with the run state
beside it as data (JSON and npz, never a pickle), and the check that a saved run is the run
asked for."""
import functools
import json
import os
import re
import zipfile

import numpy as np
import tensorflow.compat.v1 as tf

from backstage.files import replaced_atomically
from configurator import (
    ADDED_SETTINGS,
    REMOVED_SETTINGS,
    RENAMED_SETTINGS,
    InputError,
    run_settings,
)


def saved_variables():
    """Every variable but the global step, which resuming sets from the epoch: so that runs saved
    before it existed still load."""
    return [v for v in tf.global_variables() if v is not tf.train.get_global_step()]


def older_name(name):
    """The name a variable had in checkpoints saved before the stories' layers took tf.layers'
    names (commit bfd0255 and earlier): conv1_kernel for conv1/kernel, bn1_mean and bn1_var for
    bn1/moving_mean and bn1/moving_variance, and so on, Adam's slots and averages alike."""
    short = {'moving_mean': 'mean', 'moving_variance': 'var'}
    return re.sub(r'/(kernel|bias|gamma|beta|moving_mean|moving_variance)(?=/|$)',
                  lambda m: '_' + short.get(m[1], m[1]), name)


def names_in(path):
    """{name in the checkpoint at path: variable} for each variable of this graph that a
    checkpoint holds: by its own name, or as older_name spells it. A whole checkpoint that lacks
    variables of this graph, or holds them in other shapes, is refused: saved by another version
    of the script or with other settings, not damaged, so the advice is not to delete it."""
    saved = dict(tf.train.list_variables(path))
    for naming in (lambda name: name, older_name):
        names = {naming(v.op.name): v for v in saved_variables()}
        if all(saved.get(name) == v.shape.as_list() for name, v in names.items()):
            return names
    unfit = [v.op.name for v in saved_variables() if saved.get(v.op.name) != v.shape.as_list()]
    raise InputError(f"the checkpoint {path} does not hold {', '.join(unfit[:3])}"
                     f"{', ...' if len(unfit) > 3 else ''} as this script's graph has it "
                     f"(missing, or in another shape): it was saved by another version of the "
                     f"script or with other settings, and is kept. Use those, or another "
                     f"--results_dir.")


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
        with replaced_atomically(os.path.join(self.dir, f'run-{epoch}.json')) as tmp, open(tmp, 'w', encoding='utf-8') as f:
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
        with open(os.path.join(self.dir, f'run-{epoch}.json'), encoding='utf-8') as f:
            state = json.load(f)
        for old_name, new_names in RENAMED_SETTINGS.items():
            if old_name in state['settings']:
                value = state['settings'].pop(old_name)
                state['settings'].update((name, value) for name in new_names)
        state['settings'] = dict(ADDED_SETTINGS, **state['settings'])
        with np.load(os.path.join(self.dir, f'run-{epoch}.npz')) as arrays:
            state['fixed_z'] = arrays['fixed_z']
        return state

    def restore(self, sess, which='last', check_settings=None):
        """Restore a checkpoint, 'last' (the newest whole one: a damaged one is reported and the
        one before it used), 'best', or an epoch number; return its run state. None when the
        folder holds no checkpoint. check_settings(saved settings) runs before the weights are
        read (another run's weights may not even fit the graph) and raises to refuse them."""
        for path in self.candidates(which):
            try:
                run_state = self.run_state(epoch_of(path))
                if check_settings:
                    check_settings(run_state['settings'])
                names = names_in(path)
                older = any(name != v.op.name for name, v in names.items())
                (tf.train.Saver(names) if older else self.saver).restore(sess, path)
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


def check_same_script(saved, settings, model=None, data=None):
    """Refuse a saved run of another story (whose files start with another `model` than this
    one's, or, saved before runs recorded it, whose settings lack some of this one's), one
    trained with a removed setting (their networks are not this script's), or one trained on
    other data than `data` (read_data_sets' result: its source and its classes), naming both."""
    if model and saved.get('model', model) != model:
        raise InputError(f"{settings['results_dir']}/ holds a run of another story (its files start "
                         f"with {saved['model']}, this one's with {model}), whose networks this one "
                         f"cannot load. Point --results_dir at a run of this story, or start over "
                         f"there with --resume=False.")
    trained_on = saved.get('data', 'MNIST'), saved.get('classes', [str(digit) for digit in range(10)])
    if data and trained_on != (data.source, data.classes):
        said = [f"{source} ({', '.join(classes) if classes else 'no classes'})" for source, classes
                in (trained_on, (data.source, data.classes))]
        raise InputError(f"{settings['results_dir']}/ holds a run trained on {said[0]}; this command "
                         f"reads {said[1]}. Give the data it was trained on, or train in another "
                         f"--results_dir.")
    missing = [name for name in run_settings(settings) if name not in saved]
    if missing:
        raise InputError(f"{settings['results_dir']}/ holds a run of another script (one without "
                         f"the setting {missing[0]}), whose networks this one cannot load. Point "
                         f"--results_dir at a run of this script, or start over there with "
                         f"--resume=False.")
    removed = [f'{name}={saved[name]!r}' for name, built in REMOVED_SETTINGS.items() if saved.get(name, built) != built]
    if removed:
        raise InputError(f"{settings['results_dir']}/ holds a run trained with {', '.join(removed)}, which "
                         f"this version of the script no longer builds (`git checkout 89fbded` does). "
                         f"Point --results_dir at another run, or start over there with --resume=False.")


def check_same_run(saved, settings, model=None, data=None):
    """Refuse to continue a saved run with settings that would make it a different run, a run
    of another story, or one trained on other data."""
    check_same_script(saved, settings, model, data)
    differ, said = differing(run_settings(settings), saved, settings, 'this run')
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
