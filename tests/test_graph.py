"""The script's graph, from a short run of gan_mnist.py in this process: names and shapes, shared
D variables, the two variable lists, what each optimizer step changes, the losses, dropout's keep
probability, the knobs, the batches, and seeding."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import adam_lrs, run_in_process, script_defaults, variables_read_by

import input_data

SHAPES = {
    'G/G_w0:0': (100, 256), 'G/G_b0:0': (256,), 'G/G_w1:0': (256, 512), 'G/G_b1:0': (512,),
    'G/G_w2:0': (512, 1024), 'G/G_b2:0': (1024,), 'G/G_w3:0': (1024, 784), 'G/G_b3:0': (784,),
    'D/D_w0:0': (784, 1024), 'D/D_b0:0': (1024,), 'D/D_w1:0': (1024, 512), 'D/D_b1:0': (512,),
    'D/D_w2:0': (512, 256), 'D/D_b2:0': (256,), 'D/D_w3:0': (256, 1), 'D/D_b3:0': (1,),
}


def run_one_epoch(tiny_mnist, tmp_path, *args):
    return run_in_process(f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', '--train_epoch=1',
                          '--batch_size=50', '--eval_samples=0', *args)


@pytest.fixture(scope='module')
def script(tiny_mnist, tmp_path_factory):
    """The globals of a finished 1-epoch run with the default settings, and its graph."""
    return run_one_epoch(tiny_mnist, tmp_path_factory.mktemp('r'))


@pytest.fixture
def session(script):
    """A new session on the script's graph, its variables freshly initialized."""
    _, graph = script
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        yield sess


def feed(ns, n=100, seed=0):
    rng = np.random.default_rng(seed)
    return {ns['x']: rng.uniform(-1, 1, (n, 784)), ns['z']: rng.standard_normal((n, 100)),
            ns['drop_out']: 0.3}


def test_variable_names_and_shapes(script):
    ns, _ = script
    assert {v.name: tuple(v.shape.as_list()) for v in ns['t_vars']} == SHAPES


def test_D_real_and_D_fake_share_the_same_8_variables(script):
    ns, _ = script
    d_names = {name for name in SHAPES if name.startswith('D/')}
    assert variables_read_by(ns['D_real']) == d_names
    assert variables_read_by(ns['D_fake']) == d_names | {n for n in SHAPES if n.startswith('G/')}
    assert len(ns['t_vars']) == 16


def test_D_and_G_lists_partition_the_trainable_variables(script):
    ns, _ = script
    d, gen = {v.name for v in ns['D_vars']}, {v.name for v in ns['G_vars']}
    assert len(d) == len(gen) == 8 and not d & gen
    assert d | gen == {v.name for v in ns['t_vars']}


@pytest.mark.parametrize('step, changes', [('D_optim', 'D/'), ('G_optim', 'G/')])
def test_a_step_changes_only_its_own_networks_variables(script, session, step, changes):
    ns, _ = script
    variables = ns['t_vars']
    before = session.run(variables)
    session.run(ns[step], feed(ns))
    after = session.run(variables)
    changed = {v.name for v, b, a in zip(variables, before, after) if not np.array_equal(b, a)}
    assert changed == {name for name in SHAPES if name.startswith(changes)}


def test_losses_are_finite_and_near_log_4_and_log_2_at_the_start(script, session):
    ns, _ = script
    d_loss, g_loss = session.run([ns['D_loss'], ns['G_loss']], feed(ns))
    # at initialization D outputs about 0.5: D_loss ~ -2 log(0.51), G_loss ~ -log(0.51)
    assert d_loss == pytest.approx(-2 * np.log(0.51), abs=0.05)
    assert g_loss == pytest.approx(-np.log(0.51), abs=0.05)


def test_dropout_keeps_about_30_percent(script, session):
    ns, graph = script
    keep_mask = graph.get_operation_by_name('D/dropout/SelectV2').inputs[0]  # D's first layer
    kept = session.run(keep_mask, feed(ns, n=1000)).mean()
    assert kept == pytest.approx(0.3, abs=0.01)


def test_generator_output_is_in_tanh_range(script, session):
    ns, _ = script
    images = session.run(ns['G_z'], feed(ns))
    assert images.shape == (100, 784) and images.min() >= -1 and images.max() <= 1


def op_types(graph):
    return {op.type for op in graph.get_operations()}


def adam_beta1s(graph):
    """beta1 of each AdamOptimizer: input 6 of its update ops, one value per optimizer."""
    values = {op.name.split('/')[0]: op.inputs[6].op.get_attr('value').float_val[0]
              for op in graph.get_operations() if op.type == 'ResourceApplyAdam'}
    return [values[name] for name in sorted(values)]


def test_defaults_are_the_reference(script):
    defaults = script_defaults()
    assert [defaults[name] for name in ('batch_size', 'lr', 'train_epoch', 'keep_prob', 'eps',
                                        'leaky_slope', 'adam_beta1', 'shuffle', 'd_lr_ratio',
                                        'minibatch_stddev')] == \
        [100, 0.0002, 100, 0.3, 1e-2, 0.0, 0.9, False, 1.0, False]
    ns, graph = script
    assert 'Relu' in op_types(graph) and 'LeakyRelu' not in op_types(graph)
    assert ns['D_optim'].type == 'NoOp'  # minimize()'s group of Adam updates
    assert adam_beta1s(graph) == pytest.approx([0.9, 0.9])


def test_leaky_slope_and_beta1_show_in_the_graph(tiny_mnist, tmp_path):
    _, graph = run_one_epoch(tiny_mnist, tmp_path, '--leaky_slope=0.2', '--adam_beta1=0.5')
    leaky = [op for op in graph.get_operations() if op.type == 'LeakyRelu']
    assert len(leaky) == 3 + 2 * 3  # G's hidden layers, and D's for D_real and D_fake
    assert [op.get_attr('alpha') for op in leaky] == pytest.approx([0.2] * 9)
    assert 'Relu' not in op_types(graph)
    assert adam_beta1s(graph) == pytest.approx([0.5, 0.5])


def test_batches_in_order_by_default_and_reshuffled_when_asked(script, tiny_mnist, tmp_path):
    images = (input_data.read_data_sets(tiny_mnist).train.images - 0.5) / 0.5
    ns, _ = script
    assert np.array_equal(ns['train_set'], images)  # sliced in file order, as the reference
    shuffled, _ = run_one_epoch(tiny_mnist, tmp_path, '--shuffle=True')
    assert not np.array_equal(shuffled['train_set'], images)
    assert sorted(row.tobytes() for row in shuffled['train_set']) == \
        sorted(row.tobytes() for row in images)  # the same images, each once


def test_same_seed_same_losses(tiny_mnist, tmp_path):
    def losses(seed, folder):
        ns, _ = run_one_epoch(tiny_mnist, tmp_path / folder, f'--seed={seed}')
        return ns['train_hist']['D_losses'] + ns['train_hist']['G_losses']

    first = losses(1, 'a')
    assert first == losses(1, 'b')
    assert first != losses(2, 'c')


@pytest.fixture(scope='module')
def better(tiny_mnist, tmp_path_factory):
    """A 2-epoch run with every better-samples knob on, and a session on its graph."""
    ns, graph = run_in_process(
        f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path_factory.mktemp("better")}',
        '--train_epoch=2', '--batch_size=50', '--eval_samples=0', '--batch_norm=True',
        '--ema_decay=0.9', '--lr_decay_epochs=2', '--label_smoothing=0.1', '--d_lr_ratio=2.0',
        '--minibatch_stddev=True')
    with graph.as_default():  # not held while other tests run: their story makes a new default graph
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)  # not entered either: a session's `with` makes its graph the default
    sess.run(init)
    yield ns, graph, sess
    sess.close()


def global_values(sess, graph, contains):
    with graph.as_default():
        variables = [v for v in tf.global_variables() if contains in v.name]
    return dict(zip([v.name for v in variables], sess.run(variables)))


def test_batch_norm_variables_are_Gs_and_trained_by_the_G_step(better):
    ns, _, _ = better
    g_names = {v.name for v in ns['G_vars']}
    assert {f'G/G_bn{i}/{p}:0' for i in range(3) for p in ('gamma', 'beta')} <= g_names
    assert len(ns['G_vars']) == 8 + 6 and len(ns['D_vars']) == 8
    assert not any('moving' in name for name in g_names)  # statistics: not trained


@pytest.mark.parametrize('step, moves', [('D_optim', False), ('G_optim', True)])
def test_batch_norm_statistics_move_with_the_G_step_only(better, step, moves):
    ns, graph, sess = better
    before = global_values(sess, graph, 'moving_mean')
    sess.run(ns[step], feed(ns, n=50))
    after = global_values(sess, graph, 'moving_mean')
    assert len(before) == 3
    assert all(not np.array_equal(before[n], after[n]) for n in before) == moves


def test_ema_follows_every_G_step_and_is_what_samples_use(better):
    ns, graph, sess = better
    averages = global_values(sess, graph, 'ExponentialMovingAverage')
    assert len(averages) == 14  # one per G variable, none for D
    sess.run(ns['G_optim'], feed(ns, n=50))
    moved = global_values(sess, graph, 'ExponentialMovingAverage')
    assert all(not np.array_equal(averages[n], moved[n]) for n in averages)
    statistics = {f'G/G_bn{i}/moving_{p}:0' for i in range(3) for p in ('mean', 'variance')}
    assert variables_read_by(ns['G_sample']) == set(moved) | statistics  # never G's own weights


def test_the_average_warms_up_over_the_first_G_steps(better):
    ns, graph, sess = better
    with graph.as_default():
        step = tf.train.get_global_step()
        pairs = [(v, ns['ema'].average(v)) for v in ns['G_vars']]
    for steps_done, decay in ((0, 2 / 11), (10000, 0.9)):  # min(0.9, (1 + step) / (10 + step))
        step.load(steps_done, sess)
        before = sess.run([average for _, average in pairs])
        sess.run(ns['G_optim'], feed(ns, n=50))
        weights, after = sess.run([[v for v, _ in pairs], [average for _, average in pairs]])
        for old, new, average in zip(before, weights, after):
            np.testing.assert_allclose(average, decay * old + (1 - decay) * new, rtol=1e-4, atol=1e-7)
        assert sess.run(step) == steps_done + 1


def test_label_smoothing_is_one_sided(better):
    ns, _, sess = better
    # D_real 0.9 and D_fake 0.1: -(0.9 log(0.91) + 0.1 log(0.11)) - log(0.91)
    expected = -(0.9 * np.log(0.91) + 0.1 * np.log(0.11)) - np.log(0.91)
    loss = sess.run(ns['D_loss'], {ns['D_real']: [[0.9]], ns['D_fake']: [[0.1]]})
    assert loss == pytest.approx(expected, rel=1e-5)


def test_lr_falls_over_the_last_epochs(better):
    ns, _, _ = better
    checkpoint = tf.train.latest_checkpoint(f"{ns['results_dir']}/checkpoints")
    assert checkpoint.endswith('gan-2')
    assert tf.train.load_variable(checkpoint, 'lr_scale') == 0.5  # epoch 2 of 2, decaying over 2


def test_d_lr_ratio_scales_only_Ds_learning_rate(better, script, session):
    (ns, graph, sess), (reference, reference_graph) = better, script
    assert adam_lrs(graph, sess, feed(ns, n=50), ('D', 'G')) == pytest.approx({'D': 0.0004, 'G': 0.0002})
    assert adam_lrs(reference_graph, session, feed(reference, n=50), ('D', 'G')) == \
        pytest.approx({'D': 0.0002, 'G': 0.0002})


def test_minibatch_stddev_lets_D_see_the_rest_of_its_group_of_4(better, script, session):
    one = np.random.default_rng(0).uniform(-1, 1, (1, 784))

    def D_of_first_image(ns, sess, graph, others):
        """D's output for `one` in a batch of 50: once among copies of itself, once with
        `others` (49 images) after it."""
        with graph.as_default():
            alone = sess.run(ns['D_real'], {ns['x']: np.repeat(one, 50, 0), ns['drop_out']: 1.0})
            mixed = np.concatenate([one, others])
            return alone[0, 0], sess.run(ns['D_real'], {ns['x']: mixed, ns['drop_out']: 1.0})[0, 0]
    ns, graph, sess = better
    others = feed(ns, n=49)[ns['x']]
    outside_its_group = np.concatenate([np.repeat(one, 3, 0), others[3:]])  # images 4-49 differ
    assert ns['D_vars'][4].shape == (513, 256)  # D_w2: 512 features and the group's spread
    alone, among_others = D_of_first_image(ns, sess, graph, others)
    assert alone != pytest.approx(among_others, abs=1e-6)
    alone, among_others = D_of_first_image(ns, sess, graph, outside_its_group)
    assert alone == pytest.approx(among_others, abs=1e-6)  # only images 1-3 are in its group
    ns, graph = script
    alone, among_others = D_of_first_image(ns, session, graph, others)
    assert alone == pytest.approx(among_others, abs=1e-6)  # the reference's D: one image at a time
