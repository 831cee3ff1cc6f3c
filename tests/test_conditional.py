"""cgan_mnist.py and cdcgan_mnist.py: G draws the digit it is asked for. Their graphs (tf.layers'
variables, the label in G and in D, the learning rate decaying on D's steps), the Fixed grid,
and each story end to end on small data: training, resuming, samples with their labels, --digit,
the walks, the label accuracy, bad labels, another story's run."""
import os

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import CDCGAN, CGAN, STORIES, built_graph, run_script, script_defaults

from backstage import sampling
from backstage.checkpoints import check_same_run
from configurator import InputError

SMALL = {CGAN: (), CDCGAN: ('--g_width=32', '--d_width=32')}
QUICK = ('--train_epoch=2', '--batch_size=50', '--eval_samples=0')


@pytest.fixture(scope='module', params=[CGAN, CDCGAN], ids=['cgan', 'cdcgan'])
def built(request, tiny_mnist, tmp_path_factory):
    """A conditional story's graph at the reference's widths, built and initialized; its globals."""
    return built_graph(tmp_path_factory.mktemp('r'), f'--data_dir={tiny_mnist}', script=request.param)[0]


@pytest.fixture
def ns(built):
    with built['sess'].graph.as_default():
        yield built


def labels_of(ns, digits):
    placeholder = ns['y'] if 'y' in ns else ns['y_label']
    return placeholder, np.eye(10)[digits].reshape((len(digits), *placeholder.shape[1:]))


def kernels(ns):
    return {v.name[:-len('/kernel:0')]: tuple(v.shape.as_list()) for v in tf.global_variables()
            if v.name.endswith('/kernel:0') and 'Adam' not in v.name}


def test_the_layers_are_tf_layers_with_their_names_and_the_references_shapes(ns):
    if 'y' in ns:  # the cGAN: [z, y] 110 -> 128 -> 784; [x, y] 794 -> 128 -> 1
        assert kernels(ns) == {'generator/dense': (110, 128), 'generator/dense_1': (128, 784),
                               'discriminator/dense': (794, 128), 'discriminator/dense_1': (128, 1)}
    else:  # the cDCGAN: a transposed convolution's kernel is height, width, out, in
        assert kernels(ns) == {
            'generator/conv2d_transpose': (7, 7, 256, 110), 'generator/conv2d_transpose_1': (5, 5, 128, 256),
            'generator/conv2d_transpose_2': (5, 5, 1, 128), 'discriminator/conv2d': (5, 5, 11, 128),
            'discriminator/conv2d_1': (5, 5, 128, 256), 'discriminator/conv2d_2': (7, 7, 256, 1)}
        norms = {v.name: v.shape[0] for v in tf.global_variables() if v.name.endswith('/moving_mean:0')}
        assert norms == {'generator/batch_normalization/moving_mean:0': 256,
                         'generator/batch_normalization_1/moving_mean:0': 128,
                         'discriminator/batch_normalization/moving_mean:0': 256}


def test_G_draws_by_its_label_and_D_judges_by_it(ns):
    y, sevens = labels_of(ns, [7] * 4)
    _, nines = labels_of(ns, [9] * 4)
    z = np.random.default_rng(0).standard_normal((4, *ns['z'].shape[1:]))
    seven, again, nine = (ns['sess'].run(ns['G_sample'], {ns['z']: z, y: labels}) for labels in (sevens, sevens, nines))
    assert np.array_equal(seven, again) and np.abs(seven - nine).max() > 1e-3
    x = np.random.default_rng(1).uniform(-1, 1, (4, *ns['x'].shape[1:]))
    D_labels = [{ns['y']: labels} if 'y' in ns else {ns['y_fill']: labels * np.ones((4, 28, 28, 10))}
                for labels in (sevens, nines)]  # the cDCGAN's D takes the label as ten planes
    judged = [ns['sess'].run(ns['D_real'], {ns['x']: x, ns['isTrain']: False, **labels}) for labels in D_labels]
    assert np.abs(judged[0] - judged[1]).max() > 1e-6


def test_only_Ds_step_counts_the_steps_lr_decays_on(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL[CDCGAN], script=CDCGAN)
    with graph.as_default():
        sess, rng = ns['sess'], np.random.default_rng(0)
        y_label = np.eye(10)[rng.integers(0, 10, 100)].reshape(100, 1, 1, 10)
        feed = {ns['x']: rng.uniform(-1, 1, (100, 28, 28, 1)), ns['z']: rng.standard_normal((100, 1, 1, 100)),
                ns['y_label']: y_label, ns['y_fill']: y_label * np.ones((100, 28, 28, 10)), ns['isTrain']: True}
        sess.run(ns['D_optim'], feed)
        sess.run(ns['G_optim'], feed)
        assert sess.run(ns['global_step']) == 1
        assert sess.run(ns['lr']) == pytest.approx(0.0002)
        ns['global_step'].load(500, sess)
        assert sess.run(ns['lr']) == pytest.approx(0.0002 * 0.95)  # staircase: every 500 D steps


def test_a_linear_fall_of_lr_takes_the_place_of_the_references_decay(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL[CDCGAN], '--lr_decay_epochs=20',
                            script=CDCGAN)
    with graph.as_default():
        ns['global_step'].load(5000, ns['sess'])
        assert ns['sess'].run(ns['lr']) == pytest.approx(0.0002)  # no staircase: lr_scale alone falls
        assert ns['sess'].run(ns['lr_scale']) == 1.0


def test_the_fixed_grid_asks_row_d_for_digit_d_with_one_noise_a_column():
    with tf.Graph().as_default():
        z, y = tf.placeholder(tf.float32, (None, 1, 1, 100)), tf.placeholder(tf.float32, (None, 1, 1, 10))
        noise, labels = sampling.fixed_grid(np.random.default_rng(0), z, y)
    assert noise.shape == (100, 1, 1, 100) and labels.shape == (100, 1, 1, 10)
    rows, columns = labels.reshape(10, 10, 10).argmax(-1), noise.reshape(10, 10, 100)
    assert (rows == np.arange(10)[:, None]).all()
    assert (columns == columns[0]).all() and len({tuple(column) for column in columns[0]}) == 10


@pytest.mark.parametrize('script', [CGAN, CDCGAN], ids=['cgan', 'cdcgan'])
def test_a_run_trains_resumes_and_draws_what_it_is_asked_for(tiny_mnist, tmp_path, script):
    common = (f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', *SMALL[script])
    model = STORIES[script]
    trained = run_script(*common, *QUICK, script=script)
    assert trained.returncode == 0, trained.stderr[-2000:]
    grid = iio.imread(tmp_path / 'Fixed_results' / f'{model}2.png')
    assert grid.shape[0] >= 10 * 30 * 2 and grid.shape[1] >= 10 * 30 * 2  # 10 x 10 tiles, 2x2 screen pixels a pixel
    for name in (f'{model}train_hist.pkl', f'{model}train_hist.png', f'{model}generation_animation.gif'):
        assert (tmp_path / name).exists(), name
    resumed = run_script(*common, *QUICK[1:], '--train_epoch=3', script=script)
    assert resumed.returncode == 0 and 'resuming from epoch 2 of 3' in resumed.stdout, resumed.stderr[-2000:]
    sampled = run_script(*common, '--sample=25', script=script)
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    digits = np.load(tmp_path / 'labels.npy')
    assert np.load(tmp_path / 'samples.npy').shape[0] == 25 and digits.dtype.kind == 'i'
    assert list(np.bincount(digits, minlength=10)) == [3] * 5 + [2] * 5  # as evenly as 25 allows
    assert 'read by the classifier as the digit asked for: ' in sampled.stdout
    nines = run_script(*common, '--sample=20', '--digit=9', script=script)
    assert nines.returncode == 0 and (np.load(tmp_path / 'labels.npy') == 9).all(), nines.stderr[-2000:]
    assert 'Traceback' not in nines.stderr
    walked = run_script(*common, '--interpolate=2', script=script)
    assert walked.returncode == 0, walked.stderr[-2000:]
    assert 'wrote 2 walks through the noise and 2 from digit to digit of epoch 3' in walked.stdout
    for name in ('interpolation.png', 'interpolation.gif', 'label_interpolation.png', 'label_interpolation.gif'):
        assert (tmp_path / name).exists(), name
    scored = run_script(*common, '--evaluate=1000', script=script)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert '; label accuracy ' in scored.stdout and 'read as the digit asked for; lowest ' in scored.stdout
    os.remove(tmp_path / 'samples.npy')
    for bad in ('--digit=10', '--digit=nine', '--digit=-2'):
        refused = run_script(*common, '--sample=10', bad, script=script)
        assert refused.returncode == 2 and 'Traceback' not in refused.stderr and '--digit=' in refused.stderr
        assert refused.stderr.count('\n') == 1 and not (tmp_path / 'samples.npy').exists()


@pytest.mark.parametrize('saved_story, story', [(a, b) for a in STORIES for b in STORIES if a != b],
                         ids=lambda path: os.path.basename(path)[:-len('_mnist.py')])
def test_every_story_refuses_a_run_of_every_other(saved_story, story):
    saved = dict(script_defaults(saved_story), model=STORIES[saved_story])
    settings = dict(script_defaults(story), **{name: saved[name] for name in saved if name in script_defaults(story)})
    with pytest.raises(InputError, match=f'holds a run of another story .its files start with '
                                         f'{STORIES[saved_story]}, this one.s with {STORIES[story]}'):
        check_same_run(saved, settings, STORIES[story])
    check_same_run(dict(script_defaults(story), model=STORIES[story]), script_defaults(story), STORIES[story])
