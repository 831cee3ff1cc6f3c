"""The backstage of the story scripts, gan_mnist.py and dcgan_mnist.py: what a long training run
needs beyond the reference's lines, one job to a module. The stories import these; they never
import a story or read its globals: settings reach them as arguments.

    training_run.py    the run the story's loop ties to: resume, steps, saves, Ctrl-C, the end
    results_folder.py  results_dir: its folders, the lock, starting over, the grids' paths
    checkpoints.py     the last and the best checkpoints, with the run state beside them
    pictures.py        sample grids, loss and quality plots, the GIF, TensorBoard's image
    sampling.py        --sample, --evaluate, --interpolate from a checkpoint; the quality figures
    by_digit.py        the digits the classifier names in G's samples: --sample's sheet, --digit
    walks.py           --interpolate's walks through the noise
    mnist_score.py     the classifier score and Fréchet distance
    layers.py          batch normalization and the weight average, for either story's networks
    bfloat16.py        the precision setting: the session's bfloat16 rewrite, or casts in a layer
    files.py           writing a file whole or not at all
"""
