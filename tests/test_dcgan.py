"""dcgan_mnist.py: its graph at each image size (the reference's shapes at 64x64), the shared D
variables, the losses, what each step changes, batch norm's statistics, the weight average, and
the script end to end on small data: every output, resume, sampling, evaluating, bad input."""
import json
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import (
    DCGAN,
    adam_lrs,
    built_graph,
    run_in_process,
    run_script,
    script_defaults,
    variables_read_by,
)

from backstage import sampling
from configurator import InputError

# kernel shapes of the reference's layers at 64x64 (height, width, in, out; a transposed
# convolution's are height, width, out, in), and its batch norms' channels
REFERENCE_KERNELS = {
    'generator/conv1': (4, 4, 1024, 100), 'generator/conv2': (4, 4, 512, 1024),
    'generator/conv3': (4, 4, 256, 512), 'generator/conv4': (4, 4, 128, 256),
    'generator/conv_out': (4, 4, 1, 128),
    'discriminator/conv1': (4, 4, 1, 128), 'discriminator/conv2': (4, 4, 128, 256),
    'discriminator/conv3': (4, 4, 256, 512), 'discriminator/conv4': (4, 4, 512, 1024),
    'discriminator/conv_out': (4, 4, 1024, 1),
}
REFERENCE_NORMS = {'generator/bn1': 1024, 'generator/bn2': 512, 'generator/bn3': 256,
                   'generator/bn4': 128, 'discriminator/bn2': 256, 'discriminator/bn3': 512,
                   'discriminator/bn4': 1024}
SMALL = ('--img_size=28', '--g_width=32', '--d_width=32')


def shapes(ns, ending):
    return {v.name[:-len(ending) - 3]: tuple(v.shape.as_list()) for v in tf.global_variables()
            if v.name.endswith(f'/{ending}:0') and 'Adam' not in v.name}


@pytest.fixture(scope='module')
def small_built(tiny_mnist, tmp_path_factory):
    """The graph of a 28x28 DCGAN with narrow layers, built and initialized; its globals."""
    return built_graph(tmp_path_factory.mktemp('r'), f'--data_dir={tiny_mnist}', *SMALL)[0]


@pytest.fixture
def small(small_built):
    """small_built, its graph the default one during a test (not between: a story run then
    makes its own new default graph, which TensorFlow refuses inside another's)."""
    with small_built['sess'].graph.as_default():
        yield small_built


def feed(ns, n=100, seed=0):
    rng = np.random.default_rng(seed)
    return {ns['x']: rng.uniform(-1, 1, (n, 28, 28, 1)), ns['z']: rng.standard_normal((n, 1, 1, 100)),
            ns['isTrain']: True}


def test_the_reference_networks_at_64x64(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}')  # the defaults: the reference's
    with graph.as_default():
        assert shapes(ns, 'kernel') == REFERENCE_KERNELS
        assert {name: shape[0] for name, shape in shapes(ns, 'gamma').items()} == REFERENCE_NORMS
        assert ns['x'].shape.as_list() == [None, 64, 64, 1]
        assert ns['z'].shape.as_list() == [None, 1, 1, 100]
        assert ns['G_z'].shape.as_list() == ns['G_sample'].shape.as_list() == [None, 64, 64, 1]
        assert ns['D_real_logits'].shape.as_list() == [None, 1, 1, 1]
        assert sampling.scorable(ns['G_sample']).shape.as_list() == [None, 28, 28, 1]  # area-resized
    ns['sess'].close()


@pytest.mark.parametrize('size, first, layers', [(28, 7, 2), (32, 4, 3), (48, 6, 3)])
def test_other_sizes_start_from_the_side_the_halvings_reach(tiny_mnist, tmp_path, size, first, layers):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', f'--img_size={size}', '--g_width=64', '--d_width=64')
    with graph.as_default():
        kernels = shapes(ns, 'kernel')
        assert kernels['generator/conv1'] == (first, first, 64, 100)
        assert kernels['discriminator/conv_out'] == (first, first, 64, 1)
        assert len([k for k in kernels if k.startswith('generator/')]) == layers + 1
        assert ns['G_z'].shape.as_list() == [None, size, size, 1]
        images = ns['sess'].run(ns['G_sample'], {ns['z']: np.zeros((3, 1, 1, 100))})
        assert images.shape == (3, size, size, 1) and np.abs(images).max() <= 1
        scored = ns['sess'].run(sampling.scorable(ns['G_sample']), {ns['z']: np.zeros((3, 1, 1, 100))})
        assert scored.shape == (3, 28, 28, 1)  # what the judge takes
    ns['sess'].close()


def test_D_real_and_D_fake_share_D_and_the_lists_split_by_prefix(small):
    d_names = {v.name for v in tf.global_variables() if v.name.startswith('discriminator/')
               and 'Adam' not in v.name}
    g_names = {v.name for v in tf.global_variables() if v.name.startswith('generator/')
               and 'Adam' not in v.name}
    assert variables_read_by(small['D_real_logits']) == d_names
    assert variables_read_by(small['D_fake_logits']) == d_names | g_names
    d, g = {v.name for v in small['D_vars']}, {v.name for v in small['G_vars']}
    assert d | g == {v.name for v in small['T_vars']} and not d & g
    assert len(d) == 2 * 3 + 2 and len(g) == 2 * 3 + 2 * 2  # kernels and biases; gammas and betas


def test_losses_are_sigmoid_cross_entropy_on_the_logits(small):
    sess = small['sess']
    real, fake, d_loss, g_loss = sess.run([small['D_real_logits'], small['D_fake_logits'],
                                           small['D_loss'], small['G_loss']], feed(small))

    def softplus(v):
        return np.mean(np.logaddexp(0, v))
    assert d_loss == pytest.approx(softplus(-real) + softplus(fake), rel=1e-5)
    assert g_loss == pytest.approx(softplus(-fake), rel=1e-5)


@pytest.mark.parametrize('step, prefix', [('D_optim', 'discriminator/'), ('G_optim', 'generator/')])
def test_a_step_changes_its_own_network_and_every_batch_norm_statistic(small, step, prefix):
    sess = small['sess']
    trainable, statistics = small['T_vars'], [v for v in tf.global_variables()
                                              if v.name.endswith(('_mean:0', '_var:0'))]
    before = sess.run(trainable + statistics)
    sess.run(small[step], feed(small, seed=1))
    after = sess.run(trainable + statistics)
    changed = {v.name for v, b, a in zip(trainable + statistics, before, after) if not np.array_equal(b, a)}
    assert {v.name for v in trainable if v.name.startswith(prefix)} <= changed
    assert not {v.name for v in trainable if not v.name.startswith(prefix)} & changed
    assert {v.name for v in statistics} <= changed  # UPDATE_OPS: both networks' batch norms


def test_pictures_use_the_moving_statistics_and_training_the_batch(small):
    sess, z = small['sess'], small['z']
    noise = np.random.default_rng(2).standard_normal((50, 1, 1, 100))
    sampled = sess.run(small['G_sample'], {z: noise})
    np.testing.assert_allclose(sess.run(small['G_sample'], {z: noise[:5]}), sampled[:5], atol=1e-5)
    np.testing.assert_allclose(sess.run(small['G_z'], {z: noise, small['isTrain']: False}), sampled,
                               atol=1e-5)  # isTrain False is the picture's generator, as fed in the reference
    trained = sess.run(small['G_z'], {z: noise[:5], small['isTrain']: True})
    assert np.abs(trained - sampled[:5]).max() > 1e-3  # the batch's own statistics


KIT = ('--g_width=32', '--d_width=16', '--kernel_size=5', '--minibatch_stddev=True', '--d_lr_ratio=2.0', '--label_smoothing=0.1', '--adam_beta1=0.9',
       '--lr_decay_epochs=10')


@pytest.fixture(scope='module')
def kit_built(tiny_mnist, tmp_path_factory):
    """The 28x28 DCGAN with the recipe's kit and the convolutions' own settings (no dropout:
    test_dropout_keeps_keep_prob_of_Ds_units has it), built and initialized; its globals."""
    return built_graph(tmp_path_factory.mktemp('r'), f'--data_dir={tiny_mnist}', '--img_size=28', *KIT)[0]


@pytest.fixture
def kit(kit_built):
    with kit_built['sess'].graph.as_default():  # during a test only, as small's
        yield kit_built


def test_the_kit_shapes_the_networks(kit):
    kernels = shapes(kit, 'kernel')
    assert kernels == {'generator/conv1': (7, 7, 32, 100), 'generator/conv2': (5, 5, 16, 32),
                       'generator/conv_out': (5, 5, 1, 16), 'discriminator/conv1': (5, 5, 1, 8),
                       'discriminator/conv2': (5, 5, 8, 16),
                       'discriminator/conv_out': (7, 7, 16 + 1, 1)}  # D's 16 channels and the spread
    assert sorted(shapes(kit, 'gamma')) == ['discriminator/bn2', 'generator/bn1', 'generator/bn2']


def test_dense_layers_deepen_each_network(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL, '--g_dense_units=64',
                            '--g_dense_layers=2', '--d_dense_units=48', '--minibatch_stddev=True')
    with graph.as_default():
        assert shapes(ns, 'kernel') == {
            'generator/dense0': (100, 64), 'generator/dense0_2': (64, 64),
            'generator/conv1': (7, 7, 32, 64),  # from 1x1x64
            'generator/conv2': (4, 4, 16, 32), 'generator/conv_out': (4, 4, 1, 16),
            'discriminator/conv1': (4, 4, 1, 16), 'discriminator/conv2': (4, 4, 16, 32),
            'discriminator/dense': (7 * 7 * 32, 48), 'discriminator/dense_out': (48 + 1, 1)}
        assert sorted(shapes(ns, 'gamma')) == [
            'discriminator/bn2', 'discriminator/dense_bn', 'generator/bn0', 'generator/bn0_2', 'generator/bn1',
            'generator/bn2']
        assert ns['D_real_logits'].shape.as_list() == [None, 1, 1, 1]
        logits = ns['sess'].run(ns['D_fake_logits'], feed(ns))
        assert logits.shape == (100, 1, 1, 1) and np.isfinite(logits).all()
    ns['sess'].close()


@pytest.mark.parametrize('step, prefix', [('D_optim', 'discriminator/'), ('G_optim', 'generator/')])
def test_with_the_kit_a_step_changes_its_own_network_only(kit, step, prefix):
    trainable = kit['T_vars']
    before = kit['sess'].run(trainable)
    kit['sess'].run(kit[step], feed(kit, seed=1))
    changed = {v.name for v, b, a in zip(trainable, before, kit['sess'].run(trainable))
               if not np.array_equal(b, a)}
    assert changed == {v.name for v in trainable if v.name.startswith(prefix)}


def test_d_lr_ratio_and_adam_beta1_reach_the_optimizers(kit):
    graph = kit['sess'].graph
    lrs = adam_lrs(graph, kit['sess'], feed(kit), ('discriminator', 'generator'))
    assert lrs == pytest.approx({'discriminator': 0.0004, 'generator': 0.0002})
    beta1s = [op.inputs[6].op.get_attr('value').float_val[0] for op in graph.get_operations()
              if op.type == 'ResourceApplyAdam']
    assert beta1s == pytest.approx([0.9] * len(beta1s)) and len(beta1s) == len(kit['T_vars'])


def test_lr_decay_scales_both_learning_rates(kit):
    kit['lr_scale'].load(0.25, kit['sess'])  # what the loop loads 2.5 epochs before the end of 10
    try:
        lrs = adam_lrs(kit['sess'].graph, kit['sess'], feed(kit), ('discriminator', 'generator'))
    finally:
        kit['lr_scale'].load(1.0, kit['sess'])
    assert lrs == pytest.approx({'discriminator': 0.0001, 'generator': 0.00005})


def test_label_smoothing_is_one_sided(kit):
    real, fake = np.full((100, 1, 1, 1), 2.0), np.full((100, 1, 1, 1), -1.0)
    d_loss, g_loss = kit['sess'].run([kit['D_loss'], kit['G_loss']],
                                     {kit['D_real_logits']: real, kit['D_fake_logits']: fake})

    def cross_entropy(logit, label):
        return -(label * np.log(1 / (1 + np.exp(-logit))) + (1 - label) * np.log(1 / (1 + np.exp(logit))))
    assert d_loss == pytest.approx(cross_entropy(2.0, 0.9) + cross_entropy(-1.0, 0.0), rel=1e-5)
    assert g_loss == pytest.approx(cross_entropy(-1.0, 1.0), rel=1e-5)  # G's target stays 1


def test_minibatch_stddev_lets_D_see_the_rest_of_its_group_of_4(kit):
    one = np.random.default_rng(0).uniform(-1, 1, (1, 28, 28, 1))
    others = np.random.default_rng(1).uniform(-1, 1, (99, 28, 28, 1))

    def D_of_first_image(ns, rest):
        """D's logit for `one` among 99 copies of itself, and with `rest` after it; with batch
        norm's moving statistics, so that only the spread ties an image to the others."""
        alone = ns['sess'].run(ns['D_real_logits'], {ns['x']: np.repeat(one, 100, 0), ns['isTrain']: False})
        mixed = ns['sess'].run(ns['D_real_logits'], {ns['x']: np.concatenate([one, rest]), ns['isTrain']: False})
        return alone[0, 0, 0, 0], mixed[0, 0, 0, 0]
    alone, among_others = D_of_first_image(kit, others)
    assert alone != pytest.approx(among_others, abs=1e-5)
    alone, among_others = D_of_first_image(kit, np.concatenate([np.repeat(one, 3, 0), others[3:]]))
    assert alone == pytest.approx(among_others, abs=1e-5)  # only images 1-3 are in its group


def test_dropout_keeps_keep_prob_of_Ds_units(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL, '--keep_prob=0.7')
    with graph.as_default():
        masks = [op.inputs[0] for op in graph.get_operations()
                 if op.type == 'SelectV2' and op.name.startswith('discriminator/dropout')]
        assert len(masks) == 2  # D_real's two hidden layers; D_fake's are in its own scope
        kept = ns['sess'].run(masks, feed(ns))
        assert [m.mean() for m in kept] == pytest.approx([0.7, 0.7], abs=0.01)
        twice = [ns['sess'].run(ns['D_real_logits'], feed(ns)) for _ in range(2)]
        assert not np.array_equal(*twice)  # a new mask each step
    ns['sess'].close()
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL)
    with graph.as_default():
        assert not [op for op in graph.get_operations() if 'dropout' in op.name]  # the reference's D
    ns['sess'].close()


def test_ema_decay_pictures_come_from_the_average(tiny_mnist, tmp_path):
    ns, graph = built_graph(tmp_path, f'--data_dir={tiny_mnist}', *SMALL, '--ema_decay=0.99')
    with graph.as_default():
        read = variables_read_by(ns['G_sample'])
        assert {v.name for v in ns['G_vars']} == {n.replace('/ExponentialMovingAverage', '')
                                                  for n in read if 'ExponentialMovingAverage' in n}
        assert not {v.name for v in ns['G_vars']} & read
    ns['sess'].close()


def test_settings_are_the_reference(tiny_mnist):
    defaults = script_defaults(DCGAN)
    assert [defaults[n] for n in ('batch_size', 'lr', 'train_epoch', 'img_size', 'g_width', 'd_width',
                                  'kernel_size', 'adam_beta1', 'keep_prob', 'd_lr_ratio', 'label_smoothing',
                                  'minibatch_stddev')] == [100, 0.0002, 20, 64, 1024, 1024, 4, 0.5, 1.0, 1.0, 0.0, False]


@pytest.mark.parametrize('arg, message', [
    ('--img_size=27', r'--img_size=27 is out of range: it must be an even number from 28 to 128'),
    ('--g_width=8', r'--g_width=8 is out of range: it must be at least 16'),
    ('--minibatch_stddev=maybe', r'--minibatch_stddev=maybe is not of type bool'),
    ('--g_start=dense', r"unknown setting '--g_start=dense'"),  # removed: its screens lost
    ('--img_size=true', r'--img_size=true is not of type int'),
])
def test_bad_sizes_are_refused(tiny_mnist, tmp_path, arg, message):
    with pytest.raises(InputError, match=message):
        run_in_process(f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', arg, script=DCGAN)
    assert not os.listdir(tmp_path)


def test_a_run_of_the_other_script_is_not_resumed(tiny_mnist, tmp_path):
    checkpoints = tmp_path / 'checkpoints'
    checkpoints.mkdir()
    (checkpoints / 'checkpoint').write_text('model_checkpoint_path: "gan-1"\n'
                                            'all_model_checkpoint_paths: "gan-1"\n')
    (checkpoints / 'run-1.json').write_text(json.dumps({'epoch': 1, 'settings': {
        'batch_size': 100, 'lr': 0.0002, 'keep_prob': 0.3, 'seed': 0}}))
    np.savez(checkpoints / 'run-1.npz', fixed_z=np.zeros((25, 100)))  # a gan_mnist.py run's state
    with pytest.raises(InputError, match='holds a run of another script'):
        run_in_process(f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', *SMALL,
                       '--eval_samples=0', script=DCGAN)
    with pytest.raises(InputError, match='holds a run of another script'):
        run_in_process(f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', '--sample=5', script=DCGAN)


def run(*args):
    return run_script(*args, script=DCGAN)


def test_a_run_trains_resumes_samples_and_evaluates(tiny_mnist, tmp_path):
    r = str(tmp_path)
    common = (f'--data_dir={tiny_mnist}', f'--results_dir={r}')
    network = ('--img_size=28', '--g_width=16', '--d_width=16', '--lr_decay_epochs=6')
    first = run(*common, *network, '--train_epoch=2', '--eval_every=1', '--eval_samples=1000')
    assert first.returncode == 0, first.stderr[-2000:]
    assert '[2/2] - ptime' in first.stdout and 'classifier score' in first.stdout
    assert sorted(os.listdir(os.path.join(r, 'Fixed_results'))) == ['MNIST_DCGAN_1.png', 'MNIST_DCGAN_2.png']
    assert not os.path.exists(os.path.join(r, 'Random_results'))  # the DCGAN reference saved none
    grid = iio.imread(os.path.join(r, 'Fixed_results', 'MNIST_DCGAN_2.png'))
    assert grid.shape[:2] == (500, 500) and grid.std() > 0
    for name in ('MNIST_DCGAN_train_hist.png', 'MNIST_DCGAN_quality.png', 'MNIST_DCGAN_generation_animation.gif'):
        assert os.path.getsize(os.path.join(r, name)) > 0, name
    assert not {'train_hist.pkl', 'generation_animation.gif'} & set(os.listdir(r))  # the reference's names
    assert len(iio.imread(os.path.join(r, 'MNIST_DCGAN_generation_animation.gif'), index=None)) == 2
    with open(os.path.join(r, 'MNIST_DCGAN_train_hist.pkl'), 'rb') as f:
        hist = pickle.load(f)
    assert len(hist['D_losses']) == 2 and [s['epoch'] for s in hist['scores']] == [1, 2]
    assert [tf.train.load_variable(os.path.join(r, 'checkpoints', f'gan-{epoch}'), 'lr_scale')
            for epoch in (1, 2)] == [1.0, 0.5]  # a decay over 6 epochs spans a run of 2

    again = run(*common, *network, '--train_epoch=3', '--eval_every=0', '--eval_samples=0')
    assert again.returncode == 0, again.stderr[-2000:]
    assert 'resuming from epoch 2 of 3' in again.stdout and '[3/3]' in again.stdout
    assert len(os.listdir(os.path.join(r, 'Fixed_results'))) == 3
    lr_scale = tf.train.load_variable(os.path.join(r, 'checkpoints', 'gan-3'), 'lr_scale')
    assert lr_scale == pytest.approx(1 / 3)  # the run is 3 epochs long now: the last third of it

    with ThreadPoolExecutor(4) as pool:  # at once: each spends most of its time starting TF
        sampled, evaluated, refused, refused_decay = pool.map(lambda args: run(*common, *args), [
            ['--sample=30'], ['--evaluate=1000'], ['--sample=5', '--g_width=32'],
            ['--evaluate=1000', '--lr_decay_epochs=1']])
    assert sampled.returncode == 0, sampled.stderr[-2000:]  # img_size and widths: the saved run's
    samples = np.load(os.path.join(r, 'samples.npy'))
    assert samples.shape == (30, 28, 28, 1) and samples.dtype == np.float32
    assert -1 <= samples.min() < samples.max() <= 1
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert 'epoch 3, 1000 samples: classifier score' in evaluated.stdout
    assert refused.returncode == 2 and 'holds a run trained with g_width=16' in refused.stderr
    assert 'dcgan_mnist.py: error: ' in refused.stderr.splitlines()[-1]
    # lr_decay_epochs decides whether the graph has lr_scale, so it is the saved run's too
    assert refused_decay.returncode == 2 and 'holds a run trained with lr_decay_epochs=6' in refused_decay.stderr
