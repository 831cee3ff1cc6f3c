"""The graph, built in a fresh tf.Graph(): names and shapes, shared D variables, the two variable
lists, what each optimizer step changes, the losses, dropout's keep probability, and the knobs."""
import numpy as np
import pytest

import gan_mnist

tf = gan_mnist.tf

SHAPES = {
    'G/G_w0:0': (100, 256), 'G/G_b0:0': (256,), 'G/G_w1:0': (256, 512), 'G/G_b1:0': (512,),
    'G/G_w2:0': (512, 1024), 'G/G_b2:0': (1024,), 'G/G_w3:0': (1024, 784), 'G/G_b3:0': (784,),
    'D/D_w0:0': (784, 1024), 'D/D_b0:0': (1024,), 'D/D_w1:0': (1024, 512), 'D/D_b1:0': (512,),
    'D/D_w2:0': (512, 256), 'D/D_b2:0': (256,), 'D/D_w3:0': (256, 1), 'D/D_b3:0': (1,),
}


@pytest.fixture
def graph():
    with tf.Graph().as_default() as graph, tf.Session() as sess:
        g = gan_mnist.build_graph()
        sess.run(tf.global_variables_initializer())
        yield graph, sess, g


def feed(g, n=100, seed=0):
    rng = np.random.default_rng(seed)
    return {g.x: rng.uniform(-1, 1, (n, 784)), g.z: rng.standard_normal((n, 100)),
            g.drop_out: gan_mnist.keep_prob}


def variables_read_by(tensor):
    """Names of the variables whose values flow into `tensor`."""
    seen, todo, found = set(), [tensor.op], set()
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        if op.type in ('VarHandleOp', 'VariableV2'):
            found.add(op.name + ':0')
        todo.extend(t.op for t in op.inputs)
    return found


def test_variable_names_and_shapes(graph):
    assert {v.name: tuple(v.shape.as_list()) for v in tf.trainable_variables()} == SHAPES


def test_D_real_and_D_fake_share_the_same_8_variables(graph):
    _, _, g = graph
    d_names = {name for name in SHAPES if name.startswith('D/')}
    assert variables_read_by(g.D_real) == d_names
    assert variables_read_by(g.D_fake) == d_names | {n for n in SHAPES if n.startswith('G/')}
    assert len(tf.trainable_variables()) == 16


def test_D_and_G_lists_partition_the_trainable_variables(graph):
    _, _, g = graph
    d, gen = {v.name for v in g.D_vars}, {v.name for v in g.G_vars}
    assert len(d) == len(gen) == 8 and not d & gen
    assert d | gen == {v.name for v in tf.trainable_variables()}


@pytest.mark.parametrize('step, changes', [('D_optim', 'D/'), ('G_optim', 'G/')])
def test_a_step_changes_only_its_own_networks_variables(graph, step, changes):
    _, sess, g = graph
    variables = tf.trainable_variables()
    before = sess.run(variables)
    sess.run(getattr(g, step), feed(g))
    after = sess.run(variables)
    changed = {v.name for v, b, a in zip(variables, before, after) if not np.array_equal(b, a)}
    assert changed == {name for name in SHAPES if name.startswith(changes)}


def test_losses_are_finite_and_near_log_4_and_log_2_at_the_start(graph):
    _, sess, g = graph
    d_loss, g_loss = sess.run([g.D_loss, g.G_loss], feed(g))
    # at initialization D outputs about 0.5: D_loss ~ -2 log(0.51), G_loss ~ -log(0.51)
    assert d_loss == pytest.approx(-2 * np.log(0.51), abs=0.05)
    assert g_loss == pytest.approx(-np.log(0.51), abs=0.05)


def test_dropout_keeps_about_30_percent(graph):
    graph_, sess, g = graph
    keep_mask = graph_.get_operation_by_name('D/dropout/SelectV2').inputs[0]  # D's first layer
    kept = sess.run(keep_mask, feed(g, n=1000)).mean()
    assert kept == pytest.approx(0.3, abs=0.01)


def test_generator_output_is_in_tanh_range(graph):
    _, sess, g = graph
    images = sess.run(g.G_z, feed(g))
    assert images.shape == (100, 784) and images.min() >= -1 and images.max() <= 1


def op_types():
    return {op.type for op in tf.get_default_graph().get_operations()}


def adam_beta1s():
    """beta1 of each AdamOptimizer: input 6 of its update ops, one value per optimizer."""
    values = {op.name.split('/')[0]: op.inputs[6].op.get_attr('value').float_val[0]
              for op in tf.get_default_graph().get_operations() if op.type == 'ResourceApplyAdam'}
    return [values[name] for name in sorted(values)]


def test_defaults_are_the_reference():
    assert (gan_mnist.batch_size, gan_mnist.lr, gan_mnist.train_epoch, gan_mnist.keep_prob,
            gan_mnist.eps, gan_mnist.leaky_slope, gan_mnist.adam_beta1, gan_mnist.shuffle) == \
        (100, 0.0002, 100, 0.3, 1e-2, 0.0, 0.9, False)
    with tf.Graph().as_default():
        g = gan_mnist.build_graph()
        assert 'Relu' in op_types() and 'LeakyRelu' not in op_types()
        assert g.D_optim.type == 'NoOp'  # minimize()'s group of Adam updates
        assert adam_beta1s() == pytest.approx([0.9, 0.9])


def test_leaky_slope_and_beta1_show_in_the_graph():
    gan_mnist.leaky_slope, gan_mnist.adam_beta1 = 0.2, 0.5
    with tf.Graph().as_default():
        gan_mnist.build_graph()
        leaky = [op for op in tf.get_default_graph().get_operations() if op.type == 'LeakyRelu']
        assert len(leaky) == 3 + 2 * 3  # G's hidden layers, and D's for D_real and D_fake
        assert [op.get_attr('alpha') for op in leaky] == pytest.approx([0.2] * 9)
        assert 'Relu' not in op_types()
        assert adam_beta1s() == pytest.approx([0.5, 0.5])


def test_batches_in_order_by_default_and_reshuffled_when_asked():
    train_set = np.arange(1050, dtype=np.float32).reshape(1050, 1)
    gan_mnist.batch_size = 100
    rng = np.random.default_rng(0)
    in_order = gan_mnist.epoch_batches(train_set, rng)
    assert len(in_order) == 10 and np.array_equal(np.concatenate(in_order), train_set[:1000])
    gan_mnist.shuffle = True
    first, second = (np.concatenate(gan_mnist.epoch_batches(train_set, rng)) for _ in range(2))
    assert not np.array_equal(first, train_set[:1000]) and not np.array_equal(first, second)
    assert len(np.unique(first)) == 1000 and np.isin(first, train_set).all()  # no repeats


def test_same_seed_same_first_steps(tiny_mnist):
    train_set = (gan_mnist.read_data_sets(tiny_mnist).train.images - 0.5) / 0.5

    def losses(seed):
        gan_mnist.seed = seed
        with tf.Graph().as_default(), tf.Session() as sess:
            g = gan_mnist.build_graph()
            sess.run(tf.global_variables_initializer())
            rng = np.random.default_rng(seed)
            out = []
            for x_ in gan_mnist.epoch_batches(train_set, rng)[:5]:
                out.append(sess.run([g.D_loss, g.D_optim], {g.x: x_, g.z: rng.standard_normal(
                    (100, 100)), g.drop_out: 0.3})[0])
            return out

    assert losses(1) == losses(1)
    assert losses(1) != losses(2)
