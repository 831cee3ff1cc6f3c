"""What G learned, from a checkpoint: --sample=N --digit=D keeps only samples the classifier takes
for D, --sample's picture groups its samples by digit, --interpolate=K walks through the noise."""
import os

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import ROOT, STORIES, run_script, script_defaults

import input_data
from backstage import by_digit, classifier, pictures, sampling, walks
from configurator import MAX_WALKS, InputError, configure


def one_hot(digits, confidence):
    """Classifier outputs: each row sure of its digit to `confidence`, the rest spread evenly."""
    probs = np.full((len(digits), 10), (1 - confidence) / 9)
    probs[np.arange(len(digits)), digits] = confidence
    return probs


def test_the_digit_filter_keeps_only_what_the_classifier_names_with_confidence():
    kept = by_digit.DigitFilter(7, 3, chunk=10000)
    images = np.arange(6, dtype=np.float32)[:, None] * np.ones((6, 784), np.float32)
    probs = one_hot([7, 1, 7, 7, 7, 7], 0.95)
    probs[2] = one_hot([7], 0.85)[0]  # a 7, but not sure enough
    mine = kept.keep(images, probs)
    assert [row[0] for row in mine] == [0, 3, 4]  # the first 3 sure 7s; 5 is past n
    assert (kept.kept, kept.found, kept.drawn) == (3, 4, 6)
    assert 'G drew 4 samples taken for 7 with confidence 0.9 or more in 6 (66.7%); kept the first 3' == kept.describe()


def test_the_digit_filter_draws_by_the_rate_it_sees_and_refuses_a_rare_digit(capsys):
    kept = by_digit.DigitFilter(3, 600, chunk=10000)
    sizes = kept.sizes()
    assert next(sizes) == int(np.ceil(600 / 0.1 * 1.1))  # at first, 1 in 10 assumed (at most a chunk)
    kept.keep(np.zeros((6600, 784), np.float32), one_hot(np.r_[[3] * 550, [1] * 6050], 0.99))
    assert next(sizes) == int(np.ceil(50 / (551 / 6610) * 1.1))  # the rest at the rate seen
    rare = by_digit.DigitFilter(3, 100, chunk=10000)
    with pytest.raises(InputError, match='--digit=3: G drew 49 samples the classifier takes for 3 .* in 10000 '
                                         'draws, fewer than 1 in 200: too rare to collect 100. Nothing was written'):
        rare.keep(np.zeros((10000, 784), np.float32), one_hot(np.r_[[3] * 49, [1] * 9951], 0.99))
    assert capsys.readouterr().err.count('\n') == 1


def test_the_sheet_groups_by_digit_in_order_with_shares_and_a_row_of_no_digit(tmp_path):
    sheet = by_digit.Sheet([str(digit) for digit in range(10)])
    digits = np.r_[[0] * 3, [9] * 12, [4] * 5]
    images = np.tile(np.linspace(-1, 1, 20, dtype=np.float32)[:, None], (1, 784))
    probs = one_hot(digits, 0.95)
    probs[15:] = one_hot(digits[15:], 0.5)  # the 4s: no digit claims them
    assert sheet.add(images, probs) is images
    assert sheet.labels() == ['0: 15.0%', '1: 0.0%', '2: 0.0%', '3: 0.0%', '4: 0.0%', '5: 0.0%', '6: 0.0%',
                              '7: 0.0%', '8: 0.0%', '9: 60.0%', 'no digit: 25.0%']
    assert [len(shown) for shown in sheet.shown] == [3, 0, 0, 0, 0, 0, 0, 0, 0, 10, 5]
    assert sheet.shown[9][0][0] == images[3, 0] and sheet.shown[10][0][0] == images[15, 0]
    sheet.save('20 samples', str(tmp_path / 'sheet.png'))
    height, width = iio.imread(tmp_path / 'sheet.png').shape[:2]
    assert height > 11 * 30 * 3 and width > 10 * 30 * 3  # 11 rows of 10, each pixel 3x3


def test_the_digit_filter_end_to_end_with_the_shipped_classifier(tmp_path):
    """A 'G' that draws real test digits: --digit's pipeline keeps only those the shipped
    classifier names 7, sure to 0.9, into a .npy of the asked shape."""
    mnist = input_data.read_data_sets(os.path.join(ROOT, 'MNIST_data'), reshape=True)
    real = (mnist.test.images[:2000] - 0.5) / 0.5
    judge = classifier.shipped_judge()
    with tf.Graph().as_default(), tf.Session() as sess:
        z = tf.placeholder(tf.float32, (None, 100))
        G_sample = tf.gather(tf.constant(real), tf.cast(tf.abs(z[:, 0]) * 1e4, tf.int32) % len(real))
        kept = by_digit.DigitFilter(7, 50, sampling.CHUNK)
        G = sampling.Drawn(sess, G_sample, z)
        chunks = (kept.keep(*chunk) for chunk in
                  sampling.labelled_chunks(G, np.random.default_rng(0), judge, kept.sizes(), 7, {}))
        first = sampling.write_samples(str(tmp_path / 's.npy'), 50, (784,), chunks)
    saved = np.load(tmp_path / 's.npy')
    assert saved.shape == (50, 784) and saved.dtype == np.float32 and np.array_equal(first, saved[:25])
    probs = judge(saved)[1]
    assert (probs.argmax(1) == 7).all() and (probs.max(1) >= 0.9).all()
    assert kept.found >= 50 and kept.drawn < 50 * 20  # 7s are 10% of the digits: about 10 draws each


def test_a_walk_goes_along_the_circle_from_one_noise_to_the_other():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 100))
    path = walks.slerp(a, b, np.linspace(0, 1, walks.STEPS))
    assert path.shape == (3, walks.STEPS, 100)
    assert np.array_equal(path[:, 0], a) and np.allclose(path[:, -1], b, atol=1e-12)
    norms = np.linalg.norm(path, axis=2)
    assert (norms >= np.minimum(norms[:, :1], norms[:, -1:]) - 1e-9).all()  # never shorter than both ends
    from_a = np.sum(path * a[:, None], axis=2) / (norms * np.linalg.norm(a, axis=1)[:, None])
    assert (np.diff(from_a, axis=1) < 0).all()  # ever further from a's direction
    straight = walks.slerp(a, a * 2, [0, 0.5, 1])  # one direction: a straight line
    assert np.allclose(straight[:, 1], 1.5 * a)
    noise = walks.walk_noise(3, (1, 1, 100), seed=5)
    assert noise.shape == (30, 1, 1, 100) and np.array_equal(noise, walks.walk_noise(3, (1, 1, 100), seed=5))
    ends = np.random.default_rng(5).standard_normal((2, 3, 100)).astype(np.float32)
    assert np.array_equal(noise[0].ravel(), ends[0, 0]) and np.allclose(noise[9].ravel(), ends[1, 0], atol=1e-6)


def test_a_tiled_frame_is_gray_pixels_in_a_grid():
    frame = pictures.tiled(np.stack([np.full((4, 4), -1.0), np.full((4, 4), 1.0), np.zeros((4, 4))]), columns=2)
    assert frame.shape == (2 * 6 * 3, 2 * 6 * 3) and frame.dtype == np.uint8
    assert frame[3 * 3, 6 * 3 + 3 * 3] == 255 and frame[6 * 3 + 3 * 3, 3 * 3] == 128  # the 1s, the 0s


@pytest.mark.parametrize('args, says', [
    (['--sample=10', '--digit=-2'], "--digit='-2' is out of range: it must be a class's index (0, 1, ...) or its name"),
    (['--sample=10', '--digit=10'], "--digit=10 is not a class of MNIST: give its index, 0 to 9, or its name, one of 0, 1"),
    (['--sample=10', '--digit=seven'], "--digit=seven is not a class of MNIST: give its index, 0 to 9"),
    (['--digit=3'], '--digit=3 picks the samples of --sample: give --sample=N too'),
    (['--interpolate=0'], '--interpolate=0 asks for no walk: give 1 to 100 walks'),
    (['--interpolate=-1'], "--interpolate=-1 is out of range: it must be from 1 to 100 walks"),
    ([f'--interpolate={MAX_WALKS + 1}'], f'--interpolate={MAX_WALKS + 1} is out of range'),
    (['--interpolate=2', '--sample=10'], '--sample and --interpolate each replace training: give one of them'),
    (['--interpolate=2', '--evaluate=1000'], '--evaluate and --interpolate each replace training'),
])
@pytest.mark.parametrize('script', list(STORIES))
def test_bad_values_are_refused_in_one_line(script, args, says, capsys):
    with pytest.raises(InputError, match='^' + says.replace('(', r'\(').replace(')', r'\)')):
        configure(args, script_defaults(script))
    assert capsys.readouterr().err.count('\n') == 1


def test_each_picture_from_a_trained_run_and_nothing_without_one(tiny_mnist, tmp_path):
    results = str(tmp_path / 'r')
    common = (f'--data_dir={tiny_mnist}', f'--results_dir={results}')
    nothing = run_script(*common, '--interpolate=2')
    assert nothing.returncode == 2 and 'no checkpoint in' in nothing.stderr and 'nothing trained for --interpolate' \
        in nothing.stderr and not os.path.exists(os.path.join(results, 'interpolation.png'))
    trained = run_script(*common, '--train_epoch=1', '--batch_size=50', '--eval_samples=0')
    assert trained.returncode == 0, trained.stderr[-2000:]
    walked = run_script(*common, '--interpolate=3')
    assert walked.returncode == 0, walked.stderr[-2000:]
    assert 'wrote 3 walks through the noise of epoch 1' in walked.stdout
    gif = iio.imread(os.path.join(results, 'interpolation.gif'), index=None)
    assert gif.shape[0] == 2 * walks.STEPS - 2 and gif.shape[1:] == (2 * 30 * 3, 2 * 30 * 3)  # 3 walks: 2x2
    assert iio.imread(os.path.join(results, 'interpolation.png')).shape[0] > 3 * 30 * 3
    sampled = run_script(*common, '--sample=300')
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    assert 'taken for each digit with confidence 0.9 or more: 0: ' in sampled.stdout
    assert np.load(os.path.join(results, 'samples.npy')).shape == (300, 784)
    before = os.path.getmtime(os.path.join(results, 'samples.npy'))
    rare = run_script(*common, '--sample=300', '--digit=4')  # one epoch on bars: no digit at all
    assert rare.returncode == 2 and 'Traceback' not in rare.stderr
    assert '--digit=4: G drew 0 samples' in rare.stderr and 'Nothing was written' in rare.stderr
    assert os.path.getmtime(os.path.join(results, 'samples.npy')) == before
    assert sorted(name for name in os.listdir(results) if name.endswith('.part')) == []
