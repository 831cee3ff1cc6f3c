# The DCGAN on 2 CPU cores: MNIST's own 28x28 (7 -> 14 -> 28) and narrower layers, about 5 minutes
# an epoch there instead of the reference's hours; the losses, batch norms, leaky ReLU 0.2 and
# Adam (0.0002, beta1 0.5) stay the reference's. Run with
#   python dcgan_mnist.py config/dcgan_cpu.py      (any --name=value after it has the last word)
img_size = 28         # no resizing: MNIST's own size, which the scorer takes as it is
g_width = 128         # G: 128 channels at 7x7, 64 at 14x14
d_width = 128         # D: 64 at 14x14, 128 at 7x7
train_epoch = 6       # about 30 minutes on 2 cores
shuffle = True        # a new mix of batches every epoch
ema_decay = 0.999     # pictures, samples and scores from a moving average of G's weights
results_dir = 'results/dcgan_cpu'
eval_every = 2        # score 10,000 samples every 2 epochs: the curve, and the best epoch kept
