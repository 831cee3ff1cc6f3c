"""What the story scripts add to their networks beyond the reference's layers: batch
normalization TF1 style (tf.layers no longer builds under Keras 3, so its variables are made
with get_variable, as the stories make their layers), the minibatch spread D can be given, and a
moving average of G's weights."""
import contextlib

import tensorflow.compat.v1 as tf


def batch_normalization(h, name, training):
    """h normalized over all but its last axis (the units, or a convolution's channels), as
    tf.layers.batch_normalization did for the reference's convolutions, with TensorFlow's fused
    kernel: with the batch's statistics when training, with their moving averages (momentum 0.99,
    updated through UPDATE_OPS; the kernel averages the batch's unbiased variance) when not. The
    kernel keeps the statistics in float32 whatever h is, bfloat16 included. `training` is a
    Python bool, or a bool tensor such as the DCGAN's isTrain placeholder, which picks at run time."""
    shape, ones, zeros = [h.get_shape()[-1]], tf.ones_initializer(), tf.zeros_initializer()
    gamma = tf.get_variable(f'{name}_gamma', shape, initializer=ones)
    beta = tf.get_variable(f'{name}_beta', shape, initializer=zeros)
    moving_mean = tf.get_variable(f'{name}_mean', shape, initializer=zeros, trainable=False)
    moving_var = tf.get_variable(f'{name}_var', shape, initializer=ones, trainable=False)
    images = h if len(h.get_shape()) == 4 else tf.reshape(h, [-1, 1, 1, shape[0]])  # what the kernel takes

    def fused(is_training):  # the normalized h, and the moving averages updated when training
        y, mean, var, *_ = tf.nn.fused_batch_norm(images, gamma, beta, moving_mean, moving_var, 1e-3,
                                                   is_training=is_training,
                                                   exponential_avg_factor=0.01 if is_training else 1.0)
        return tf.reshape(y, [-1, *h.get_shape()[1:]]), mean, var
    if training is False:
        return fused(False)[0]
    normalized, mean, var = fused(True)
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_mean.assign(mean))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_var.assign(var))
    if training is not True:  # a tensor: the batch's statistics or the moving ones, chosen per run
        normalized = tf.cond(training, lambda: normalized, lambda: fused(False)[0])
    return normalized


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
