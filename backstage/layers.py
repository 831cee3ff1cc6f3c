"""What the story scripts add to their networks beyond the reference's layers: batch
normalization TF1 style (tf.layers no longer builds under Keras 3, so its variables are made
with get_variable, as the stories make their layers), the minibatch spread D can be given, a
moving average of G's weights, and matrix products and convolutions in bfloat16."""
import contextlib
import os
import weakref

import tensorflow.compat.v1 as tf


def batch_normalization(h, name, training):
    """h normalized over all but its last axis (the units, or a convolution's channels), as
    tf.layers.batch_normalization did: with the batch's statistics when training, with their
    moving averages (momentum 0.99, updated through UPDATE_OPS) when not. `training` is a Python
    bool, or a bool tensor such as the DCGAN's isTrain placeholder, which picks at run time."""
    shape, ones, zeros = [h.get_shape()[-1]], tf.ones_initializer(), tf.zeros_initializer()
    gamma = tf.get_variable(f'{name}_gamma', shape, initializer=ones)
    beta = tf.get_variable(f'{name}_beta', shape, initializer=zeros)
    moving_mean = tf.get_variable(f'{name}_mean', shape, initializer=zeros, trainable=False)
    moving_var = tf.get_variable(f'{name}_var', shape, initializer=ones, trainable=False)
    if training is False:
        return tf.nn.batch_normalization(h, moving_mean, moving_var, beta, gamma, 1e-3)
    mean, var = tf.nn.moments(h, axes=list(range(len(h.get_shape()) - 1)))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_mean.assign_sub(0.01 * (moving_mean - mean)))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_var.assign_sub(0.01 * (moving_var - var)))
    if training is not True:  # a tensor: the batch's statistics or the moving ones, chosen per run
        mean, var = tf.cond(training, lambda: (mean, var),
                            lambda: (tf.identity(moving_mean), tf.identity(moving_var)))
    return tf.nn.batch_normalization(h, mean, var, beta, gamma, 1e-3)


def with_minibatch_spread(h, group_size=4):
    """h with one more feature (a unit, or a convolution's channel): how much the images of each
    group of group_size in the batch differ, the standard deviation of each of h's features
    within the group, averaged over them (Karras et al. 2018). A generator drawing the same image
    again and again shows up to D as a small spread."""
    group = tf.range(tf.shape(h)[0]) // group_size
    deviation = h - tf.gather(tf.math.segment_mean(h, group), group)
    spread = tf.sqrt(tf.math.segment_mean(tf.square(deviation), group) + 1e-8)
    spread = tf.reduce_mean(spread, axis=list(range(1, len(h.get_shape()))), keepdims=True)
    return tf.concat([h, tf.gather(spread, group) * tf.ones_like(h[..., :1])], axis=-1)


def averaged_after(G_optim, G_vars, decay):
    """G_optim followed by an update of the exponential moving average of G_vars, and the
    average. TF's warm-up: the decay is at most (1 + steps) / (10 + steps), so that the first
    epochs' average is of recent weights, not mostly of the initial ones."""
    step = tf.train.get_or_create_global_step()  # G steps; not saved: resuming sets it
    ema = tf.train.ExponentialMovingAverage(decay, num_updates=step)
    with tf.control_dependencies([G_optim]):
        G_optim = step.assign_add(1)
    with tf.control_dependencies([G_optim]):
        G_optim = ema.apply(G_vars)
    return G_optim, ema


@contextlib.contextmanager
def reused_weights(ema=None):
    """Inside, get_variable returns the variables already made, or with ema their moving averages
    where they have one (batch norm's statistics have none): a second G for pictures and samples."""
    def averaged(getter, name, *args, **kwargs):
        var = getter(name, *args, **kwargs)
        average = ema.average(var) if ema else None
        return var if average is None else average
    with tf.variable_scope(tf.get_variable_scope(), reuse=True, custom_getter=averaged):
        yield


# CPU flags (Linux's /proc/cpuinfo) of bfloat16 arithmetic TensorFlow's oneDNN kernels use: Intel's
# AMX (Sapphire Rapids and later), AVX512-BF16 (Cooper Lake; AMD Zen 4 and later), Arm's BF16
BFLOAT16_FLAGS = ('amx_bf16', 'avx512_bf16', 'bf16')


def computed_in(precision, op, x, w, *args):
    """op(x, w, *args), a matrix product or a convolution, in `precision`: with 'bfloat16', x and
    w are cast to bfloat16 and the result back to float32 (and their gradients the same way), so
    that the variables, Adam's state, batch norm, the losses and the weight average stay float32,
    and a checkpoint is the same in either precision. TensorFlow's grappler pass
    auto_mixed_precision_onednn_bfloat16 would cast the element-wise work too, batch norm's
    statistics included, with 164 casts in the DCGAN preset's D step against these 60."""
    if precision == 'float32':
        return op(x, w, *args)
    return tf.cast(op(tf.cast(x, tf.bfloat16), in_bfloat16(w), *args), tf.float32)


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
    with open(cpuinfo) as f:
        flags = {word for line in f if line.startswith(('flags', 'Features')) for word in line.split()}
    return sorted(flags.intersection(BFLOAT16_FLAGS))


def say_if_slower(precision, cpuinfo='/proc/cpuinfo'):
    """One line when bfloat16 is asked for on a CPU without bfloat16 instructions, where
    TensorFlow emulates them, slower than float32; the run goes on."""
    if precision != 'bfloat16':
        return
    flags = cpu_bfloat16_flags(cpuinfo)
    if not flags:
        where = "this CPU has none of" if flags == [] else "this system cannot tell whether its CPU has"
        print(f"precision='bfloat16': {where} the bfloat16 instructions ({', '.join(BFLOAT16_FLAGS)} "
              f"in /proc/cpuinfo), so bfloat16 runs slower here than float32; training goes on.")
