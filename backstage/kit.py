"""The recipe's kit: what the stories can add to their references' networks, each off by default:
the minibatch spread D can be given, and a moving average of G's weights that pictures, samples
and scores are drawn from."""
import contextlib

import tensorflow.compat.v1 as tf

from backstage import layers


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


def dense_layers(h, units, count, training):
    """h flattened, then `count` hidden dense layers of `units` each, batch normalized with leaky
    ReLU 0.2, as InfoGAN's MNIST networks have them (Chen et al. 2016): features that each see
    all of their input, where a convolution sees a patch."""
    h = tf.reshape(h, [-1, h.get_shape()[1:].num_elements()])
    for _ in range(count):
        h = layers.lrelu(layers.batch_normalization(layers.dense(h, units), training=training), 0.2)
    return h
