"""The backstage of the story scripts (gan_mnist.py, dcgan_mnist.py, cgan_mnist.py,
cdcgan_mnist.py): what a long training run needs beyond the reference's lines, one job to a
module. The stories import these; they never import a story or read its globals: settings reach
them as arguments.

    training_run.py    the run the story's loop ties to: resume, steps, saves, Ctrl-C, the end
    stop_request.py    Ctrl-C and SIGTERM: stop after the step, or at once; the handlers put back
    results_folder.py  results_dir: its folders, the lock, starting over, the grids' paths
    checkpoints.py     the last and the best checkpoints, with the run state beside them
    pictures.py        sample grids, loss and quality plots, the GIF, TensorBoard's image
    sampling.py        --sample, --evaluate, --interpolate from a checkpoint; the quality figures;
                       G as the backstage draws from it, a conditional G's labels too
    by_digit.py        the digits the classifier names in G's samples: --sample's sheet, --digit
    walks.py           --interpolate's walks through the noise (and from digit to digit)
    mnist_score.py     score, Fréchet distance, shares, label accuracy; the judge's own command
    classifier.py      the judge: the convolutional MNIST classifier, shipped, or trained here
    layers.py          tf.layers' stand-ins (dense, conv2d, conv2d_transpose, batch_normalization)
    kit.py             the recipe's kit: the minibatch spread, dense layers, the weight average
    bfloat16.py        the precision setting: the session's bfloat16 rewrite, or casts in a layer
    image_folder.py    a folder of image files as a data set: its classes, the images decoded and kept
    files.py           writing a file whole or not at all
"""
