# The DCGAN on 2 CPU cores: MNIST's own 28x28 (7 -> 14 -> 28), narrower convolutions, and dense
# layers of 1024 units, as InfoGAN's MNIST networks have (Chen et al. 2016): two in G, one in D.
# Without them D only adds up what it sees in 10x10-pixel patches, and G draws broken strokes and
# hybrids of two digits. 5x5 kernels (TensorFlow's DCGAN tutorial) and twice the reference's lr
# in G (D keeps its 0.0002), decaying to 0, draw cleaner digits sooner; the losses, batch norms,
# leaky ReLU 0.2 and Adam's beta1 0.5 stay the reference's. Run with
#   python dcgan_mnist.py config/dcgan_cpu.py      (any --name=value after it has the last word)
img_size = 28         # no resizing: MNIST's own size, which the scorer takes as it is
g_width = 64          # G: 64 channels at 7x7, 32 at 14x14
d_width = 64          # D: 32 channels at 14x14, 64 at 7x7
g_dense_units = 1024  # G: z -> 1024 -> 1024 units -> 7x7x64 -> the transposed convolutions
g_dense_layers = 2    # a second one (InfoGAN's G has one): score 9.28-9.31, not 9.20-9.23 (3 seeds)
d_dense_units = 1024  # D: the convolutions' 7x7x64 -> 1024 units -> the logit
kernel_size = 5       # each stride-2 layer sees 5x5 pixels (the reference's 4x4: 9.12 / 13 at epoch 8)
lr = 0.0004           # twice the reference's, as the recipe's: the plateau sooner
d_lr_ratio = 0.5      # D at half G's lr: with the decay below, 9.37-9.39 (as fast as G: 9.28-9.31)
lr_decay_epochs = 20  # both fall linearly to 0 over the whole run: lower distance sooner
minibatch_stddev = True  # D's dense layer also sees how much each group of 4 in its batch differs
train_epoch = 20      # 23 minutes on 2 cores of a Xeon with AMX, the recipe 27 (python bench.py dcgan config/dcgan_cpu.py)
shuffle = True        # a new mix of batches every epoch
ema_decay = 0.999     # pictures, samples and scores from a moving average of G's weights
results_dir = 'results/dcgan_cpu'
eval_every = 2        # score 10,000 samples every 2 epochs: the curve, and the best epoch kept
