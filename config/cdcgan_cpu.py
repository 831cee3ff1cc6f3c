# The cDCGAN on 2 CPU cores: the DCGAN preset's networks (config/dcgan_cpu.py) with the
# reference's label inputs, z beside the one-hot label in G and ten label planes beside D's image,
# and its lr falling to 0 over 20 epochs (10 drew as well but left a distance of 1.75-1.93, not
# 1.5; docs/experiments.md). 24-26 minutes on 2 cores of a Xeon with AMX, 16-18 in bfloat16. Run with
#   python cdcgan_mnist.py config/cdcgan_cpu.py     (any --name=value after it has the last word)
g_width = 64          # G: 64 channels at 7x7, 32 at 14x14
d_width = 64          # D: 32 channels at 14x14, 64 at 7x7
g_dense_units = 1024  # G: z and the label -> 1024 -> 1024 units -> the transposed convolutions
g_dense_layers = 2
d_dense_units = 1024  # D: the convolutions' 7x7x64 -> 1024 units -> the logit
lr = 0.0004           # twice the reference's, for G; D at half of it
d_lr_ratio = 0.5
lr_decay_epochs = 20  # both falling linearly to 0 over the whole run, in place of the reference's decay
minibatch_stddev = True  # D's dense layer also sees how much each group of 4 in its batch differs
ema_decay = 0.999     # pictures, samples and scores from a moving average of G's weights
train_epoch = 20
results_dir = 'results/cdcgan_cpu'
eval_every = 2        # score 10,000 samples every 2 epochs: the curve, and the best epoch kept
