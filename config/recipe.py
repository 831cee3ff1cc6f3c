# The recipe of the README's "Better samples": the reference's losses and layer sizes (D's last
# hidden layer takes one input more, the spread of minibatch_stddev), run with
#   python gan_mnist.py config/recipe.py            (any --name=value after it has the last word)
lr = 0.0004           # twice the reference's: the recipe's plateau by epoch 60-70, not 100
leaky_slope = 0.2     # leaky ReLU in G and D: some gradient also flows through units that are off
adam_beta1 = 0.5      # shorter momentum (the DCGAN paper's), for a game whose other player moves
shuffle = True        # a new mix of batches every epoch
keep_prob = 0.8       # D keeps 80% of its units (the reference: 30%): a sharper judge
batch_norm = True     # batch normalization in G's hidden layers
ema_decay = 0.999     # pictures, samples and scores from a moving average of G's weights
minibatch_stddev = True  # D also sees how much each group of 4 in its batch differs
results_dir = 'results/recipe'
eval_every = 10       # score 10,000 samples every 10 epochs: the curve, and the best epoch kept
