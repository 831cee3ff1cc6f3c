"""precision='bfloat16' in both stories: the matrix products and convolutions in bfloat16 (cast in
gan_mnist.py's graph; in the DCGAN's session by grappler's rewrite, which takes the element-wise
work too), the variables and batch norm's statistics in float32, the same variables and checkpoints
as in float32 (a run trained in one precision resumes in the other), and one line on a CPU
without bfloat16."""
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from helpers import DCGAN, SCRIPT, built_graph, run_script
from tensorflow.python.util import _pywrap_util_port

from backstage import bfloat16

PRODUCTS = ('MatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter')
NETWORKS = {  # small networks of each story; the DCGAN's with its dense layers too
    SCRIPT: (),
    DCGAN: ('--img_size=28', '--g_width=16', '--d_width=16', '--g_dense_units=32', '--d_dense_units=32'),
}


def ran_nodes(ns, fetches):
    """The nodes the session ran for fetches, as grappler rewrote them."""
    metadata = tf.RunMetadata()
    ns['sess'].run(fetches, feed(ns), options=tf.RunOptions(output_partition_graphs=True), run_metadata=metadata)
    return [node for graph in metadata.partition_graphs for node in graph.node]


def run_ops(ns, fetches):
    """{op type: its T types} of the ops the session ran for fetches."""
    ran = {}
    for node in ran_nodes(ns, fetches):
        if 'T' in node.attr:
            ran.setdefault(node.op, set()).add(tf.as_dtype(node.attr['T'].type))
    return ran


def types_of(ran, kinds):  # the T types of the ran ops whose type names one of kinds (_MklMatMul: MatMul)
    return set().union(*(types for op, types in ran.items() if any(kind in op for kind in kinds)))


def feed(ns, seed=0):
    rng = np.random.default_rng(seed)
    if 'isTrain' in ns:
        return {ns['x']: rng.uniform(-1, 1, (100, 28, 28, 1)), ns['z']: rng.standard_normal((100, 1, 1, 100)),
                ns['isTrain']: True}
    return {ns['x']: rng.uniform(-1, 1, (100, 784)), ns['z']: rng.standard_normal((100, 100)),
            ns['drop_out']: 1.0}


@pytest.mark.parametrize('script', NETWORKS)
def test_bfloat16_computes_the_products_in_bfloat16_and_saves_the_same_variables(tiny_mnist, tmp_path, script):
    if script == DCGAN and not _pywrap_util_port.IsMklEnabled():
        pytest.skip("TensorFlow's oneDNN kernels are off: the DCGAN's bfloat16 rewrite does not run")
    built = {}
    for precision in ('float32', 'bfloat16'):
        ns, graph = built_graph(tmp_path / precision, f'--data_dir={tiny_mnist}', f'--precision={precision}',
                                *NETWORKS[script], script=script)
        with graph.as_default():
            variables = {v.op.name: (v.dtype.base_dtype, v.shape.as_list()) for v in tf.global_variables()}
            built[precision] = ns, graph, variables
    (ns32, graph32, variables32), (ns16, graph16, variables16) = built.values()
    assert variables16 == variables32  # names, float32, shapes: one checkpoint fits both
    assert {dtype for dtype, _ in variables16.values()} == {tf.float32}
    assert ns16['D_loss'].dtype == ns16['G_loss'].dtype == ns16['G_sample'].dtype == tf.float32

    # the float32 graph's weights in the bfloat16 one, through a checkpoint: the same images and
    # losses, to bfloat16's 8 bits of mantissa, and not to float32's 24
    path = str(tmp_path / 'weights')
    with graph32.as_default():
        tf.train.Saver().save(ns32['sess'], path)
        images32, *losses32 = ns32['sess'].run([ns32['G_z'], ns32['D_loss'], ns32['G_loss']], feed(ns32))
    with graph16.as_default():
        tf.train.Saver().restore(ns16['sess'], path)
        images16, *losses16 = ns16['sess'].run([ns16['G_z'], ns16['D_loss'], ns16['G_loss']], feed(ns16))
    error = np.abs(images16 - images32).max() / np.abs(images32).max()
    assert 1e-4 < error < 0.05, error
    np.testing.assert_allclose(losses16, losses32, rtol=0.01)

    # what the sessions ran for a D step and a G step: every product and its gradients in bfloat16
    # or in float32, as asked; the DCGAN's batch norms in bfloat16, their statistics in float32
    (d_step32, g_step32), (d_step16, g_step16) = ((run_ops(ns, [ns['D_loss'], ns['D_optim']]),
                                                   run_ops(ns, [ns['G_loss'], ns['G_optim']])) for ns in (ns32, ns16))
    assert types_of(d_step32, PRODUCTS) == types_of(g_step32, PRODUCTS) == {tf.float32}
    assert types_of(d_step16, PRODUCTS) == types_of(g_step16, PRODUCTS) == {tf.bfloat16}
    assert types_of(d_step32, ['Cast']) == types_of(g_step32, ['Cast']) == set()
    if script == DCGAN:
        assert types_of(d_step16, ['FusedBatchNorm']) == {tf.bfloat16}  # forward and gradient
        statistics = {tf.as_dtype(node.attr['U'].type) for node in ran_nodes(ns16, ns16['D_loss'])
                      if 'FusedBatchNorm' in node.op}
        assert statistics == {tf.float32}
        assert tf.bfloat16 in types_of(d_step16, ['LeakyRelu'])  # leaky ReLU: the element-wise work too
    else:  # gan_mnist.py's dense layers cast their products only
        assert types_of(d_step16, ['Relu', 'Maximum', 'Tanh', 'Sigmoid']) == {tf.float32}  # Relu: LeakyRelu too


@pytest.mark.parametrize('script', NETWORKS)
def test_a_bfloat16_run_resumes_in_float32(tiny_mnist, tmp_path, script):
    common = (f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', *NETWORKS[script], '--eval_samples=0')
    first = run_script(*common, '--train_epoch=1', '--precision=bfloat16', script=script)
    assert first.returncode == 0, first.stderr[-2000:]
    assert '[1/1] - ptime' in first.stdout
    again = run_script(*common, '--train_epoch=2', '--precision=float32', script=script)
    assert again.returncode == 0, again.stderr[-2000:]
    assert 'resuming from epoch 1 of 2' in again.stdout and '[2/2] - ptime' in again.stdout


def test_without_onednn_the_dcgan_says_its_bfloat16_runs_in_float32(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv('TF_ENABLE_ONEDNN_OPTS', '0')
    ran = run_script(f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path}', *NETWORKS[DCGAN], '--eval_samples=0',
                     '--train_epoch=1', '--precision=bfloat16', script=DCGAN)
    assert ran.returncode == 0, ran.stderr[-2000:]
    said = [line for line in ran.stdout.splitlines() if line.startswith("precision='bfloat16'")]
    assert said == [("precision='bfloat16': TensorFlow's oneDNN kernels are off here (TF_ENABLE_ONEDNN_OPTS, or a "
                     "build without them), and its bfloat16 rewrite with them, so this session computes in "
                     "float32. Training goes on; `python bench.py` measures it here.")]
    assert '[1/1] - ptime' in ran.stdout


CPUINFO = {  # /proc/cpuinfo's flags (x86) or Features (Arm) lines
    'sapphire rapids': 'flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n',
    'zen 4': 'flags\t\t: fpu avx2 avx512f avx512_bf16\n',
    'graviton 3': 'Features\t: fp asimd sve bf16 i8mm\n',
    'skylake': 'flags\t\t: fpu avx2 avx512f avx512bw\n',
    'zen 3': 'flags\t\t: fpu avx2 fma\n',
}


@pytest.mark.parametrize('cpu, flags, says', [
    ('sapphire rapids', ['amx_bf16', 'avx512_bf16'], None),
    ('zen 4', ['avx512_bf16'], ("has AVX512-BF16 but no AMX, where bfloat16 measured 0.53-0.76 times float32's "
                               "speed on a Xeon, 1.48-1.52 on an AMD EPYC")),
    ('graviton 3', ['bf16'], 'this Arm CPU has BF16: bfloat16 was not measured on one'),
    ('skylake', [], 'no bfloat16 instructions: TensorFlow emulates them, slower than float32'),
    ('zen 3', [], 'no bfloat16 instructions: TensorFlow emulates them, slower than float32')])
def test_bfloat16_where_it_may_not_pay_is_said_in_one_line(tmp_path, capsys, cpu, flags, says):
    """Silent only with AMX, where bfloat16 was faster on every CPU measured."""
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\n' + CPUINFO[cpu] + 'processor\t: 1\n' + CPUINFO[cpu])
    assert bfloat16.cpu_bfloat16_flags(str(cpuinfo)) == flags
    bfloat16.say_if_it_may_not_pay('bfloat16', None, str(cpuinfo))
    said = capsys.readouterr().out
    if says is None:
        assert said == ''
    else:
        assert said.count('\n') == 1 and says in said and said.endswith('Training goes on; `python bench.py` measures it here.\n')
    bfloat16.say_if_it_may_not_pay('float32', None, str(cpuinfo))
    assert capsys.readouterr().out == ''


def test_a_system_without_cpuinfo_is_told_it_cannot_tell(tmp_path, capsys):
    missing = str(tmp_path / 'cpuinfo')
    assert bfloat16.cpu_bfloat16_flags(missing) is None and not os.path.exists(missing)
    bfloat16.say_if_it_may_not_pay('bfloat16', None, missing)
    said = capsys.readouterr().out
    assert said.count('\n') == 1 and 'this system does not say whether its CPU has AMX' in said
