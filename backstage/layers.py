"""Stand-ins for the tf.layers calls of the references, which no longer build under Keras 3:
dense, conv2d, conv2d_transpose and batch_normalization, with tf.layers' arguments and defaults
and its variables (made by get_variable, so variable_scope's reuse shares them as it did):

    deconv1 = layers.conv2d_transpose(cat1, 256, [7, 7], strides=(1, 1), padding='valid',
                                      kernel_initializer=w_init, bias_initializer=b_init)

makes generator/conv2d_transpose/kernel and .../bias, as tf.layers.conv2d_transpose did. A layer
without a name takes tf.layers' default one, made unique in its variable scope (dense, dense_1,
...) and counted anew each time the scope is entered, so that a network built twice (D on real
and on generated images) gets the same names both times. And lrelu, the references' leaky ReLU."""
import tensorflow.compat.v1 as tf

ZEROS = tf.zeros_initializer()  # tf.layers' bias_initializer


def lrelu(X, leak=0.2):
    """The references' leaky ReLU (theirs: max(leak * X, X), or f1 * X + f2 * |X|; the same
    function for leak < 1), as TensorFlow's op, which came after them: one kernel forward and one
    back, where max's gradient took five (a tenth of the cDCGAN preset's step)."""
    return tf.nn.leaky_relu(X, alpha=leak)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=ZEROS, name=None):
    """inputs @ kernel + bias over inputs' last axis, as tf.layers.dense: Glorot-uniform kernel
    unless kernel_initializer says otherwise."""
    with tf.variable_scope(name, default_name='dense'):
        kernel = tf.get_variable('kernel', [inputs.get_shape()[-1], units],
                                 initializer=kernel_initializer or tf.glorot_uniform_initializer())
        if len(inputs.get_shape()) == 2:
            outputs = tf.matmul(inputs, kernel)
        else:
            outputs = tf.tensordot(inputs, kernel, [[len(inputs.get_shape()) - 1], [0]])
        return _finished(outputs, units, activation, use_bias, bias_initializer)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding='valid', activation=None,
           use_bias=True, kernel_initializer=None, bias_initializer=ZEROS, name=None):
    """A 2-D convolution of NHWC inputs, as tf.layers.conv2d."""
    height, width = _pair(kernel_size)
    with tf.variable_scope(name, default_name='conv2d'):
        kernel = tf.get_variable('kernel', [height, width, inputs.get_shape()[-1], filters],
                                 initializer=kernel_initializer or tf.glorot_uniform_initializer())
        outputs = tf.nn.conv2d(inputs, kernel, [1, *_pair(strides), 1], padding.upper())
        return _finished(outputs, filters, activation, use_bias, bias_initializer)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding='valid', activation=None,
                     use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
                     name=None):
    """A transposed 2-D convolution of NHWC inputs, as tf.layers.conv2d_transpose: each side
    times the stride ('same'), or that plus the kernel's overhang ('valid')."""
    kernel_shape, stride = _pair(kernel_size), _pair(strides)
    with tf.variable_scope(name, default_name='conv2d_transpose'):
        kernel = tf.get_variable('kernel', [*kernel_shape, filters, inputs.get_shape()[-1]],
                                 initializer=kernel_initializer or tf.glorot_uniform_initializer())
        sides = [inputs.get_shape()[1 + i] * stride[i]
                 + (max(kernel_shape[i] - stride[i], 0) if padding == 'valid' else 0) for i in range(2)]
        shape = tf.stack([tf.shape(inputs)[0], *sides, filters])
        outputs = tf.nn.conv2d_transpose(inputs, kernel, shape, [1, *stride, 1], padding.upper())
        return _finished(outputs, filters, activation, use_bias, bias_initializer)


def batch_normalization(inputs, training=False, momentum=0.99, epsilon=1e-3, name=None):
    """inputs normalized over all but their last axis (the units, or a convolution's channels),
    as tf.layers.batch_normalization, with TensorFlow's fused kernel: with the batch's statistics
    when training, with their moving averages (updated through UPDATE_OPS; the kernel averages
    the batch's unbiased variance) when not. The kernel keeps the statistics in float32 whatever
    the inputs are, bfloat16 included. `training` is a Python bool, or a bool tensor such as the
    references' isTrain placeholder, which picks at run time."""
    shape, ones, zeros = [inputs.get_shape()[-1]], tf.ones_initializer(), tf.zeros_initializer()
    with tf.variable_scope(name, default_name='batch_normalization'):
        gamma = tf.get_variable('gamma', shape, initializer=ones)
        beta = tf.get_variable('beta', shape, initializer=zeros)
        moving_mean = tf.get_variable('moving_mean', shape, initializer=zeros, trainable=False)
        moving_var = tf.get_variable('moving_variance', shape, initializer=ones, trainable=False)
    images = inputs if len(inputs.get_shape()) == 4 else tf.reshape(inputs, [-1, 1, 1, shape[0]])  # what the kernel takes

    def fused(is_training):  # the normalized inputs, and the moving averages updated when training
        y, mean, var, *_ = tf.nn.fused_batch_norm(images, gamma, beta, moving_mean, moving_var, epsilon,
                                                   is_training=is_training,
                                                   exponential_avg_factor=1 - momentum if is_training else 1.0)
        return tf.reshape(y, [-1, *inputs.get_shape()[1:]]), mean, var
    if training is False:
        return fused(False)[0]
    normalized, mean, var = fused(True)
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_mean.assign(mean))
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, moving_var.assign(var))
    if training is not True:  # a tensor: the batch's statistics or the moving ones, chosen per run
        normalized = tf.cond(training, lambda: normalized, lambda: fused(False)[0])
    return normalized


def _pair(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _finished(outputs, units, activation, use_bias, bias_initializer):
    """The bias added (made beside the kernel) and the activation applied, as tf.layers did."""
    if use_bias:
        outputs += tf.get_variable('bias', [units], initializer=bias_initializer)
    return outputs if activation is None else activation(outputs)
