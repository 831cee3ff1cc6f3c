# The recipe of the README's "Better samples": the reference's networks and losses, with
#   python gan_mnist.py config/recipe.py            (any --name=value after it has the last word)
leaky_slope = 0.2     # leaky ReLU in G and D: some gradient also flows through units that are off
adam_beta1 = 0.5      # shorter momentum (the DCGAN paper's), for a game whose other player moves
shuffle = True        # a new mix of batches every epoch
keep_prob = 0.7       # D keeps 70% of its units (the reference: 30%)
batch_norm = True     # batch normalization in G's hidden layers
ema_decay = 0.999     # pictures, samples and scores from a moving average of G's weights
results_dir = 'results/recipe'
eval_every = 10       # score 10,000 samples every 10 epochs: the curve, and the best epoch kept
