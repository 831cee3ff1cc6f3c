"""The `precision` setting: matrix products and convolutions in bfloat16 on CPUs that have it,
with the variables, Adam's state, batch norm's statistics, the losses and the weight average in
float32, so that a checkpoint is the same in either precision. Two ways, each where it measured
faster on a Xeon with AMX (docs/experiments.md#bfloat16): the DCGAN's session runs TensorFlow's
grappler rewrite auto_mixed_precision_onednn_bfloat16, which also takes the element-wise work
(batch norm, leaky ReLU and their gradients) to bfloat16; the fully connected script, whose step
the rewrite hardly moved, casts each product's input and weight in its layer helper."""
import os
import weakref

import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2
from tensorflow.python.util import _pywrap_util_port  # its IsMklEnabled: oneDNN is on

# CPU flags (Linux's /proc/cpuinfo) of the bfloat16 arithmetic TensorFlow's oneDNN kernels use:
# Intel's AMX (Sapphire Rapids and later), AVX512-BF16 (Cooper Lake; AMD Zen 4 and later), Arm's BF16
BFLOAT16_FLAGS = ('amx_bf16', 'avx512_bf16', 'bf16')
# bfloat16's speed as a multiple of float32's (the benches' `bfloat16 speed-up`: the recipe and
# the DCGAN preset), by the CPU it was measured on (docs/experiments.md#bfloat16)
MEASURED = {'amx_bf16': "1.2-1.5 times float32's speed (a Xeon with AMX)",
            'avx512_bf16': "0.53-0.76 times float32's speed on a Xeon, 1.48-1.52 on an AMD EPYC"}


def session_config(precision):
    """A Session's config: with 'bfloat16', grappler's rewrite turns the float32 graph's products,
    convolutions and the element-wise work between them to bfloat16 when the session runs it;
    variables are never rewritten, and the fused batch norm keeps its statistics in float32.
    The rewrite runs only with oneDNN's kernels (TensorFlow's default on x86 Linux): without them
    the session runs float32, as say_if_it_may_not_pay tells."""
    config = tf.ConfigProto()
    if precision == 'bfloat16':
        config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = \
            rewriter_config_pb2.RewriterConfig.ON
    return config


def computed_in(precision, op, x, w):
    """op(x, w), a matrix product, in `precision`: with 'bfloat16', x and w are cast to bfloat16
    and the result back to float32 (and their gradients the same way), so that all else stays
    float32."""
    if precision == 'float32':
        return op(x, w)
    return tf.cast(op(tf.cast(x, tf.bfloat16), in_bfloat16(w)), tf.float32)


_BFLOAT16_WEIGHTS = weakref.WeakKeyDictionary()  # graph: {variable's name: its bfloat16 cast}


def in_bfloat16(w):
    """w cast to bfloat16 once a graph, the cast shared by every use of w (D_real's and D_fake's
    layers share their weights): the casts were the bfloat16 step's largest cost."""
    casts = _BFLOAT16_WEIGHTS.setdefault(w.graph, {})
    if w.name not in casts:
        casts[w.name] = tf.cast(w, tf.bfloat16)
    return casts[w.name]


def cpu_bfloat16_flags(cpuinfo='/proc/cpuinfo'):
    """The CPU's bfloat16 flags among BFLOAT16_FLAGS, or None where there is no cpuinfo to read."""
    if not os.path.exists(cpuinfo):
        return None
    with open(cpuinfo, encoding='utf-8', errors='replace') as f:
        flags = {word for line in f if line.startswith(('flags', 'Features')) for word in line.split()}
    return sorted(flags.intersection(BFLOAT16_FLAGS))


def say_if_it_may_not_pay(precision, graph, cpuinfo='/proc/cpuinfo'):
    """One line when bfloat16 is asked for where it will not pay, or may not; the run goes on.
    Without oneDNN's kernels (TF_ENABLE_ONEDNN_OPTS=0, or a build without them, as macOS's), a
    session's rewrite does not run (the graph computes in float32) and products cast to bfloat16
    in the graph (computed_in) are emulated. With them, bfloat16 paid wherever AMX is; without
    bfloat16 instructions TensorFlow emulates them; with AVX512-BF16 alone it ran slower on one
    Xeon and faster on an AMD EPYC; Arm's BF16 was not measured; and where there is no cpuinfo
    (Windows) the CPU cannot be told."""
    if precision != 'bfloat16':
        return
    flags = cpu_bfloat16_flags(cpuinfo)
    if not _pywrap_util_port.IsMklEnabled():
        said = ("TensorFlow's oneDNN kernels are off here (TF_ENABLE_ONEDNN_OPTS, or a build without them), "
                + ("so its products in bfloat16 are emulated, slower than float32" if graph in _BFLOAT16_WEIGHTS
                   else "and its bfloat16 rewrite with them, so this session computes in float32"))
    elif flags is None:
        said = (f"this system does not say whether its CPU has AMX, with which bfloat16 measured "
                f"{MEASURED['amx_bf16']}; with AVX512-BF16 alone, {MEASURED['avx512_bf16']}")
    elif 'amx_bf16' in flags:
        return
    elif 'avx512_bf16' in flags:
        said = f"this CPU has AVX512-BF16 but no AMX, where bfloat16 measured {MEASURED['avx512_bf16']}"
    elif 'bf16' in flags:
        said = "this Arm CPU has BF16: bfloat16 was not measured on one"
    else:
        said = "this CPU has no bfloat16 instructions: TensorFlow emulates them, slower than float32"
    print(f"precision='bfloat16': {said}. Training goes on; `python bench.py` measures it here.")
