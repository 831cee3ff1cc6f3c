# The recipe of the README's "Better samples": three settings, the rest the reference's.
#   python gan_mnist.py config/recipe.py --results_dir=results/recipe
leaky_slope = 0.2     # leaky ReLU in G and D: some gradient also flows through units that are off
adam_beta1 = 0.5      # shorter momentum (the DCGAN paper's), for a game whose other player moves
shuffle = True        # a new mix of batches every epoch
results_dir = 'results/recipe'
eval_every = 10
