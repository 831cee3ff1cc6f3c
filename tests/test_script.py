"""gan_mnist.py end to end, as a subprocess on tiny data: every output and its contents,
interrupts and resume, sampling, evaluation, and a table of bad inputs."""
import glob
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import ROOT, SCRIPT, run_in_process, run_script, write_idx

from configurator import InputError
from input_data import DataError

FAST = ['--batch_size=50', '--eval_samples=0']


def load_hist(results):
    with open(os.path.join(results, 'train_hist.pkl'), 'rb') as f:
        return pickle.load(f)


def snapshot(*folders):
    """Every file under the folders with the md5 of its bytes."""
    files = {}
    for folder in folders:
        for path in glob.glob(os.path.join(folder, '**', '*'), recursive=True):
            if os.path.isfile(path):
                with open(path, 'rb') as f:
                    files[path] = hashlib.md5(f.read()).hexdigest()
    return files


@pytest.fixture(scope='module')
def trained(tiny_mnist, tmp_path_factory):
    """A finished 2-epoch run on tiny data, scored with 1,000 samples after each epoch:
    (results, CompletedProcess)."""
    results = str(tmp_path_factory.mktemp('trained'))
    done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=2',
                      '--batch_size=50', '--eval_samples=1000', '--eval_every=1', '--summary_every=10')
    assert done.returncode == 0, done.stderr[-2000:]
    return results, done


def test_two_epochs_print_the_references_lines(trained):
    _, done = trained
    assert '[1/2] - ptime: ' in done.stdout and '[2/2] - ptime: ' in done.stdout
    assert 'loss_d: ' in done.stdout and ', loss_g: ' in done.stdout
    assert 'Avg per epoch ptime: ' in done.stdout and 'total 2 epochs ptime: ' in done.stdout
    assert 'Training finish!... save training results' in done.stdout
    assert 'classifier score' in done.stdout and 'Fréchet distance' in done.stdout
    assert 'Traceback' not in done.stderr


def test_every_output_file_and_its_contents(trained):
    results, _ = trained
    for kind in ('Fixed_results', 'Random_results'):
        for epoch in (1, 2):
            grid = iio.imread(os.path.join(results, kind, f'MNIST_GAN_{epoch}.png'))
            assert grid.shape[:2] == (500, 500)  # 5x5 inches at 100 dpi, as the reference
        assert sorted(os.listdir(os.path.join(results, kind))) == ['MNIST_GAN_1.png', 'MNIST_GAN_2.png']
    fixed = [iio.imread(os.path.join(results, 'Fixed_results', f'MNIST_GAN_{e}.png')) for e in (1, 2)]
    assert not np.array_equal(fixed[0], fixed[1])  # the generator learned between epochs
    frames = iio.imread(os.path.join(results, 'generation_animation.gif'), index=None)
    assert frames.shape == (2, 500, 500)
    assert np.array_equal(frames[1], fixed[1][..., 0])  # the GIF shows the Fixed grids
    assert iio.imread(os.path.join(results, 'MNIST_GAN_train_hist.png')).shape[:2] == (480, 640)
    hist = load_hist(results)
    assert {'D_losses', 'G_losses', 'per_epoch_ptimes', 'total_ptime', 'scores'} <= set(hist)
    assert len(hist['D_losses']) == len(hist['G_losses']) == len(hist['per_epoch_ptimes']) == 2
    assert np.all(np.isfinite(hist['D_losses'])) and np.all(np.isfinite(hist['G_losses']))
    assert len(hist['total_ptime']) == 1 and hist['total_ptime'][0] >= sum(hist['per_epoch_ptimes'])
    assert [score['epoch'] for score in hist['scores']] == [1, 2]
    assert all(1 <= score['classifier_score'] <= 10 for score in hist['scores'])
    assert all(score['frechet_distance'] >= 0 for score in hist['scores'])
    assert iio.imread(os.path.join(results, 'MNIST_GAN_quality.png')).shape[:2] == (640, 640)


def test_each_scoring_records_and_prints_the_digit_shares(trained):
    results, done = trained
    for score in load_hist(results)['scores']:
        assert len(score['digit_shares']) == 10 and sum(score['digit_shares']) == pytest.approx(1)
    assert done.stdout.count('digit shares from ') == 2


def test_the_best_scored_epoch_is_kept_and_can_be_sampled(trained):
    results, _ = trained
    scores = load_hist(results)['scores']
    best = min(scores, key=lambda score: score['frechet_distance'])['epoch']
    assert os.path.exists(os.path.join(results, 'checkpoints', f'best-{best}.index'))
    done = run_script(f'--results_dir={results}', '--sample=20', '--checkpoint=best')
    assert done.returncode == 0 and f'wrote 20 samples of epoch {best}' in done.stdout


def test_training_can_go_back_to_a_kept_epoch(trained, tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3',
                      '--checkpoint=1', *FAST)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.index('going back to epoch 1: dropping epochs 2-2') < done.stdout.index('[2/3]')
    hist, before = load_hist(results), load_hist(trained[0])
    assert hist['D_losses'][0] == before['D_losses'][0] and hist['D_losses'][1] != before['D_losses'][1]
    assert len(hist['D_losses']) == 3 and [s['epoch'] for s in hist['scores']] == [1]
    assert len(iio.imread(os.path.join(results, 'generation_animation.gif'), index=None)) == 3


def test_tensorboard_holds_loss_scalars_and_the_fixed_grid(trained):
    results, _ = trained
    tags = {}
    for path in glob.glob(os.path.join(results, 'tensorboard', 'events.out.tfevents*')):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append((event.step, value.WhichOneof('value')))
    assert [step for step, _ in tags['loss/D']] == list(range(0, 80, 10))  # 40 steps an epoch
    assert {kind for _, kind in tags['loss/G']} == {'simple_value'}
    assert [kind for _, kind in tags['fixed_noise_grid/image/0']] == ['image', 'image']
    assert 'quality/frechet_distance' in tags


def test_checkpoints_are_kept_with_the_run_state(trained):
    results, _ = trained
    names = os.listdir(os.path.join(results, 'checkpoints'))
    assert {'checkpoint', 'gan-2.index', 'run-2.json', 'run-2.npz', 'gan-1.index', 'run-1.json',
            'run-1.npz'} <= set(names)
    assert not [name for name in names if name.endswith('.pkl')]  # data only: no pickle
    with open(os.path.join(results, 'checkpoints', 'run-2.json'), encoding='utf-8') as f:
        state = json.load(f)
    assert state['epoch'] == 2 and state['settings']['batch_size'] == 50
    assert len(state['train_hist']['D_losses']) == 2
    with np.load(os.path.join(results, 'checkpoints', 'run-2.npz')) as arrays:
        assert arrays['fixed_z'].shape == (25, 100)


def test_sample_writes_an_array_and_a_grid(trained):
    results, _ = trained
    done = run_script(f'--results_dir={results}', '--sample=60')
    assert done.returncode == 0, done.stderr[-2000:]
    samples = np.load(os.path.join(results, 'samples.npy'))
    assert samples.shape == (60, 784) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1 and samples.std() > 0.01
    height, width = iio.imread(os.path.join(results, 'samples.png')).shape[:2]
    assert height > 11 * 90 and width > 10 * 90  # a row of 10 a digit and one of no digit, 3x3 a pixel
    assert 'taken for each digit with confidence 0.9 or more: 0: ' in done.stdout


def test_evaluate_prints_both_figures_and_the_ceiling(trained, tiny_mnist):
    results, _ = trained
    done = run_script(f'--results_dir={results}', f'--data_dir={tiny_mnist}', '--evaluate=1000')
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'epoch 2, 1000 samples: classifier score' in done.stdout
    assert 'real images:' in done.stdout and 'Fréchet distance' in done.stdout


def test_extending_a_finished_run_and_rerunning_it(trained, tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    again = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=2', *FAST)
    assert again.returncode == 0 and 'already holds 2 trained epochs' in again.stdout
    more = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3',
                      '--keep_checkpoints=2', *FAST)
    assert more.returncode == 0, more.stderr[-2000:]
    kept = sorted(name for name in os.listdir(os.path.join(results, 'checkpoints'))
                  if name.startswith('gan-') and name.endswith('.index') or name.endswith('.json'))
    best = [name for name in os.listdir(os.path.join(results, 'checkpoints')) if name.endswith('.index')
            and name.startswith('best-')]
    best_state = ['run-1.json'] if best == ['best-1.index'] else []
    assert kept == ['gan-2.index', 'gan-3.index'] + best_state + ['run-2.json', 'run-3.json']
    assert 'resuming from epoch 2 of 3' in more.stdout and '[3/3]' in more.stdout
    assert '[2/3]' not in more.stdout
    hist, before = load_hist(results), load_hist(trained[0])
    assert hist['D_losses'][:2] == before['D_losses'] and len(hist['D_losses']) == 3
    assert len(iio.imread(os.path.join(results, 'generation_animation.gif'), index=None)) == 3


def start(tiny_mnist, results, *args):
    return subprocess.Popen([sys.executable, SCRIPT,
                             f'--data_dir={tiny_mnist}', f'--results_dir={results}',
                             '--train_epoch=3', '--batch_size=10', '--eval_samples=0', *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_epoch_1(process, results):
    first = os.path.join(results, 'checkpoints', 'checkpoint')  # listed once its files are whole
    for _ in range(3600):  # up to 3 minutes: TensorFlow alone takes 8 s to start on a slow machine,
        # and a machine busy with other work can take minutes to the first epoch
        if os.path.exists(first) or process.poll() is not None:
            break
        time.sleep(0.05)
    assert process.poll() is None, 'the run ended before it could be interrupted'
    time.sleep(0.3)  # into epoch 2


def interrupt_in_epoch_2(tiny_mnist, results, sig):
    """Start a 3-epoch run, send `sig` once epoch 1 is saved; return how many epochs it kept."""
    process = start(tiny_mnist, results)
    wait_for_epoch_1(process, results)
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + sig and 'Traceback' not in err
    assert 'Run the same command to resume' in out
    done_before = len(load_hist(results)['D_losses'])
    assert done_before in (1, 2)
    assert len(iio.imread(os.path.join(results, 'generation_animation.gif'), index=None)) == done_before
    return done_before


def test_sigterm_stops_as_ctrl_c_does(tiny_mnist, tmp_path):
    interrupt_in_epoch_2(tiny_mnist, str(tmp_path / 'r'), signal.SIGTERM)


def test_ctrl_c_then_resume_gives_every_epoch_once(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    done_before = interrupt_in_epoch_2(tiny_mnist, results, signal.SIGINT)
    again = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3',
                       '--batch_size=10', '--eval_samples=0')
    assert again.returncode == 0, again.stderr[-2000:]
    assert f'resuming from epoch {done_before} of 3' in again.stdout
    hist = load_hist(results)
    assert len(hist['D_losses']) == len(hist['G_losses']) == len(hist['per_epoch_ptimes']) == 3
    assert len(iio.imread(os.path.join(results, 'generation_animation.gif'), index=None)) == 3
    assert sorted(os.listdir(os.path.join(results, 'Fixed_results'))) == \
        [f'MNIST_GAN_{e}.png' for e in (1, 2, 3)]


def test_sigkill_loses_at_most_the_epoch_in_progress(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    process = start(tiny_mnist, results)
    wait_for_epoch_1(process, results)
    process.kill()
    process.communicate()
    again = run_script(  # the lock died with the process: nothing stale is left
f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3',
                       '--batch_size=10', '--eval_samples=0')
    assert again.returncode == 0, again.stderr[-2000:]
    assert 'resuming from epoch' in again.stdout
    assert len(load_hist(results)['D_losses']) == 3


def test_damaged_newest_checkpoint_falls_back_to_the_one_before(trained, tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    with open(os.path.join(results, 'checkpoints', 'gan-2.data-00000-of-00001'), 'r+b') as f:
        f.truncate(1000)
    done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3', *FAST)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'checkpoint of epoch 2 is damaged' in done.stdout
    assert 'resuming from epoch 1 of 3' in done.stdout
    assert len(load_hist(results)['D_losses']) == 3


def test_diverged_training_stops_and_keeps_the_last_good_checkpoint(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3',
                      '--eps=0.0', '--lr=1e6', *FAST)
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    assert 'training diverged in epoch 1' in done.stderr
    assert not glob.glob(os.path.join(results, 'checkpoints', 'gan-*'))


# ------------------------------------------------------------------- bad inputs, each a run
BAD_INPUTS = [  # (name, arguments, what the message must say); {base}: a folder of bad data.
    # Each setting's values are tried in test_configurator.py; here each way a run can be refused.
    ('unknown setting', ['--epochs=3'], "unknown setting '--epochs=3'"),
    ('negative seed', ['--seed=-1'], '--seed=-1 is out of range'),
    ('the recipe without its samples', ['{root}/config/recipe.py', '--eval_samples=0'],
     '--eval_every=10 asks for a scoring every 10 epoch(s)'),
    ('batch above the set', ['--batch_size=2001'], 'larger than the 2000 training images'),
    ('no data, offline', ['--data_dir={base}/nowhere', '--data_url=http://127.0.0.1:9/'],
     'MNIST file(s) missing from'),
    ('data_dir is a file', ['--data_dir={base}/a_file'], 'is a file, not a folder'),
    ('truncated images', ['--data_dir={base}/broken_data'], 'cannot be read as gzip'),
    ('unpaired labels', ['--data_dir={base}/unpaired_data'], 'are not a pair'),
    ('results_dir is a file', ['--results_dir={base}/a_file'], 'cannot write the results to'),
    ('results_dir below a file', ['--results_dir={base}/a_file/r'], 'cannot write the results to'),
    ('other settings than the run', ['--lr=0.001'], 'holds a run trained with lr=0.0002'),
    ('sample with no checkpoint', ['--results_dir={base}/empty', '--sample=5'], 'no checkpoint in'),
    ('evaluate 2 samples', ['--evaluate=2'], '--evaluate=2 is out of range: it must be 0 (off) or'),
    ('evaluate more than the data', ['--evaluate=2001'], 'more than the 2000 training images'),
    ('sample more than the disk', ['--sample=10000000000000'], 'GB for samples.npy'),
]


def bad_data(tiny_mnist, base):
    """In base: broken_data (truncated training images), unpaired_data (one label short) and
    a_file, an empty file."""
    os.makedirs(base)
    broken = os.path.join(base, 'broken_data')
    shutil.copytree(tiny_mnist, broken)
    with open(os.path.join(broken, 'train-images-idx3-ubyte.gz'), 'r+b') as f:
        f.truncate(5000)
    unpaired = os.path.join(base, 'unpaired_data')
    shutil.copytree(tiny_mnist, unpaired)
    write_idx(os.path.join(unpaired, 'train-labels-idx1-ubyte.gz'), np.zeros(6999))
    open(os.path.join(base, 'a_file'), 'w', encoding='utf-8').close()


def test_bad_input_is_refused_with_one_line_and_changes_nothing(trained, tiny_mnist, tmp_path):
    """Every case of BAD_INPUTS, each against its own copy of the trained run, in this process (the
    exit path, one line and status 2, is the subprocess tests' below): refused with a one-line
    message saying what the case says, and no file changed."""
    base = str(tmp_path / 'inputs')
    bad_data(tiny_mnist, base)
    failures = []
    for name, args, says in BAD_INPUTS:
        results = os.path.join(base, name.replace(' ', '_'))
        shutil.copytree(trained[0], results)
        watched = [results, tiny_mnist, os.path.join(base, 'broken_data'),
                   os.path.join(base, 'unpaired_data')]
        before = snapshot(*watched)
        args = [arg.format(base=base, root=ROOT) for arg in args]
        settings_file = [arg for arg in args if arg.endswith('.py')]  # goes first
        try:
            run_in_process(*settings_file, f'--data_dir={tiny_mnist}', f'--results_dir={results}',
                           '--train_epoch=3', '--batch_size=50', '--eval_samples=0',
                           *(arg for arg in args if arg not in settings_file))
            failures.append(f'{name}: not refused')
        except (InputError, DataError) as error:
            if says not in str(error) or '\n' in str(error):
                failures.append(f'{name}: {error}')
        if snapshot(*watched) != before:
            failures.append(f'{name}: files changed')
    assert not failures, '\n'.join(failures)


def test_a_damaged_data_file_ends_in_one_line_and_status_2(tiny_mnist, tmp_path):
    bad_data(tiny_mnist, str(tmp_path / 'inputs'))
    done = run_script(f'--data_dir={tmp_path}/inputs/broken_data', f'--results_dir={tmp_path}/r')
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith('gan_mnist.py: error:')]
    assert len(errors) == 1 and 'train-images-idx3-ubyte.gz cannot be read as gzip' in errors[0]
    assert not os.path.exists(tmp_path / 'r')


def test_every_checkpoint_damaged_is_explained(trained, tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    for epoch in (1, 2):
        with open(os.path.join(results, 'checkpoints', f'gan-{epoch}.data-00000-of-00001'), 'r+b') as f:
            f.truncate(1000)
    before = snapshot(results)
    done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3', *FAST)
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    assert 'every checkpoint in' in done.stderr and '--resume=False' in done.stderr
    assert snapshot(results) == before
    fresh = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=1',
                       '--resume=False', *FAST)
    assert fresh.returncode == 0 and 'resuming' not in fresh.stdout
    assert len(load_hist(results)['D_losses']) == 1


# ------------------------------------------------------------------- runs that never mix work
def test_a_second_training_run_on_a_results_dir_in_use_is_refused(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    process = start(tiny_mnist, results, '--train_epoch=50')  # long enough to still be running
    wait_for_epoch_1(process, results)
    with ThreadPoolExecutor(2) as pool:  # at once: each spends most of its time starting TF
        second = pool.submit(run_script, f'--data_dir={tiny_mnist}', f'--results_dir={results}',
                             '--train_epoch=50', '--batch_size=10', '--eval_samples=0')
        sampled = pool.submit(run_script, f'--results_dir={results}', '--sample=10')  # reading is fine
        second, sampled = second.result(), sampled.result()
    assert process.poll() is None, 'the first run ended before the second one was tried'
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, err[-2000:]
    assert second.returncode == 2 and 'Traceback' not in second.stderr
    assert f'is in use by another training run (process {process.pid})' in second.stderr
    assert sampled.returncode == 0, sampled.stderr[-2000:]


def test_resuming_a_weight_average_goes_on_with_its_warm_up(tiny_mnist, tmp_path):
    """The step count behind ema_decay's warm-up is not saved; resuming sets it, so that 1 epoch
    and then 1 more give the averages 2 epochs in one go give."""
    def averages(results, *epochs):
        for train_epoch in epochs:
            done = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--ema_decay=0.999',
                              '--keep_prob=1.0', f'--train_epoch={train_epoch}', *FAST)
            assert done.returncode == 0, done.stderr[-2000:]
        checkpoint = tf.train.latest_checkpoint(os.path.join(results, 'checkpoints'))
        saved = dict(tf.train.list_variables(checkpoint))
        assert 'global_step' not in saved  # so that runs saved before the warm-up still load
        return {name: tf.train.load_variable(checkpoint, name) for name in saved if name.startswith('G/')}

    with ThreadPoolExecutor(2) as pool:
        in_one_go, resumed = pool.map(lambda epochs: averages(tmp_path / str(epochs), *epochs), [(2,), (1, 2)])
    assert len(in_one_go) == 4 * 8  # G's weights, their averages, Adam's two moments
    for name, value in in_one_go.items():
        np.testing.assert_allclose(resumed[name], value, rtol=1e-4, atol=1e-6, err_msg=name)


def test_sampling_builds_the_network_the_run_was_trained_with(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    trained = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=1',
                         '--leaky_slope=0.2', '--batch_norm=True', *FAST)
    assert trained.returncode == 0, trained.stderr[-2000:]
    asked = {'asked': ['--leaky_slope=0.2', '--batch_norm=True'], 'not asked': [],
             'other': ['--leaky_slope=0.0']}
    copies = {name: shutil.copytree(results, str(tmp_path / name.replace(' ', '_'))) for name in asked}
    before = snapshot(copies['other'])
    with ThreadPoolExecutor(3) as pool:  # each on its own copy of the run, at once
        done = dict(zip(asked, pool.map(
            lambda name: run_script(f'--results_dir={copies[name]}', '--sample=50', *asked[name]), asked)))
    for name in ('asked', 'not asked'):
        assert done[name].returncode == 0, done[name].stderr[-2000:]
    samples = {name: np.load(os.path.join(copies[name], 'samples.npy')) for name in ('asked', 'not asked')}
    assert np.array_equal(samples['asked'], samples['not asked'])
    assert done['other'].returncode == 2 and 'Traceback' not in done['other'].stderr
    assert 'holds a run trained with leaky_slope=0.2; this command asks for leaky_slope=0.0' \
        in done['other'].stderr
    assert snapshot(copies['other']) == before


def test_a_pickle_in_the_results_is_never_loaded(trained, tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    marker = tmp_path / 'ran'
    with open(os.path.join(results, 'train_hist.pkl'), 'wb') as f:  # code that runs if unpickled
        f.write(b'cos\nsystem\n(S"touch ' + str(marker).encode() + b'"\ntR.')
    more = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=3', *FAST)
    sampled = run_script(f'--results_dir={results}', '--sample=10')
    assert more.returncode == 0 and sampled.returncode == 0, more.stderr[-2000:] + sampled.stderr
    assert 'resuming from epoch 2 of 3' in more.stdout and not marker.exists()
    assert len(load_hist(results)['D_losses']) == 3  # rewritten from the run state, as the reference


def test_an_empty_results_dir_is_refused_and_nothing_lands_in_the_current_folder(tiny_mnist, tmp_path):
    done = subprocess.run([sys.executable, SCRIPT, f'--data_dir={tiny_mnist}', '--train_epoch=1', '--results_dir='],
                          check=False, capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    assert 'is empty: it must name a folder. (An empty value often comes from a shell variable ' \
           'that is not set.)' in done.stderr
    assert os.listdir(tmp_path) == []


def test_a_failed_write_of_samples_keeps_the_previous_ones(trained, tmp_path):
    results = str(tmp_path / 'r')
    shutil.copytree(trained[0], results)
    first = run_script(f'--results_dir={results}', '--sample=100')
    assert first.returncode == 0, first.stderr[-2000:]
    before = snapshot(results)
    failed = subprocess.run([sys.executable, SCRIPT, f'--results_dir={results}', '--sample=10000'],
                            check=False, capture_output=True, text=True, timeout=180,
                            preexec_fn=limit_file_size(1))  # 31 MB of samples: past 1 MB
    assert failed.returncode == 2 and 'Traceback' not in failed.stderr, failed.stderr[-2000:]
    errors = [line for line in failed.stderr.splitlines() if line.startswith('gan_mnist.py: error:')]
    assert len(errors) == 1 and 'samples.npy' in errors[0], failed.stderr[-2000:]
    assert '(File too large). Nothing was replaced' in errors[0]
    assert snapshot(results) == before  # the samples of the first run, and no .part left


def limit_file_size(megabytes):
    """For a subprocess: any file it writes stops growing at `megabytes` (EFBIG)."""
    import resource
    limit = megabytes * 2 ** 20
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def check_the_failed_write(done, says):
    assert done.returncode == 2 and 'Traceback' not in done.stderr, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith('gan_mnist.py: error:')]
    assert len(errors) == 1 and says in errors[0], done.stderr[-2000:]
    assert 'the checkpoint of epoch 1 is whole' in errors[0] and 'run the same command' in errors[0]


def test_a_failed_write_stops_the_run_and_the_same_command_resumes(tiny_mnist, tmp_path):
    if os.geteuid() == 0:
        pytest.skip('as root (as in CI) the full-disk test below makes a write fail for real')
    results = str(tmp_path / 'r')
    args = [sys.executable, SCRIPT, f'--data_dir={tiny_mnist}', f'--results_dir={results}', *FAST]
    first = subprocess.run(args + ['--train_epoch=1'], check=False, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-2000:]
    limited = subprocess.run(args + ['--train_epoch=2'], check=False, capture_output=True,
                             text=True, timeout=180, preexec_fn=limit_file_size(20))  # a checkpoint: 35 MB
    check_the_failed_write(limited, 'File too large')
    again = subprocess.run(args + ['--train_epoch=2'], check=False, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0 and 'resuming from epoch 1 of 2' in again.stdout, again.stderr
    assert len(load_hist(results)['D_losses']) == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 60 MB tmpfs: room for one checkpoint (35 MB) but not for two. Needs root, as in CI."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=60m', 'tmpfs', str(disk)],
                      check=False, capture_output=True).returncode != 0:
        pytest.skip('mounting a tmpfs needs root')
    yield disk
    subprocess.run(['umount', str(disk)], check=True)


def test_a_full_disk_stops_the_run_and_the_same_command_resumes(tiny_mnist, small_disk):
    results = str(small_disk / 'r')
    command = [f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=2', *FAST]
    full = run_script(*command)
    assert '[1/2]' in full.stdout
    check_the_failed_write(full, 'No space left on device')
    subprocess.run(['mount', '-o', 'remount,size=200m', str(small_disk)], check=True)  # the fix
    again = run_script(*command)
    assert again.returncode == 0 and 'resuming from epoch 1 of 2' in again.stdout, again.stderr
    assert len(load_hist(results)['D_losses']) == 2
