"""The screens behind docs/experiments.md's tables.

    python experiments/screen.py [EPOCHS=15] [OUT=/tmp/screen] [NAME ...]          # gan_mnist.py
    python experiments/screen.py dcgan [EPOCHS=6] [OUT=/tmp/dcgan_screen] [NAME ...]
    python experiments/screen.py dcgan 8 /tmp/dcgan_screen --precision=bfloat16    # --name=value: every run

Trains each setting of the story's table below (or the NAMEs given) for EPOCHS epochs with seeds 0
and 1, two runs at a time on the shipped MNIST, scores 10,000 samples every few epochs (5 for
gan_mnist.py, 2 for the DCGAN) with the shipped classifier, and prints a Markdown table of the
scoring at EPOCHS: classifier score, Fréchet distance, smallest and largest digit share, and minutes
of training (two runs sharing the cores). A run already in OUT is read (its scoring at EPOCHS) or
resumed, not trained again.
"""
import glob
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEAKY_BETA1_SHUFFLE = ['--leaky_slope=0.2', '--adam_beta1=0.5', '--shuffle=True']
KEEP_70 = LEAKY_BETA1_SHUFFLE + ['--keep_prob=0.7']
GAN = {
    'reference': [],
    'leaky 0.2, beta1 0.5, shuffle': LEAKY_BETA1_SHUFFLE,
    '+ keep 70%': KEEP_70,
    '+ keep 70%, batch norm': KEEP_70 + ['--batch_norm=True'],
    '+ keep 70%, EMA 0.999': KEEP_70 + ['--ema_decay=0.999'],
    '+ keep 70%, batch norm, EMA 0.999': KEEP_70 + ['--batch_norm=True', '--ema_decay=0.999'],
    '+ keep 70%, batch norm, EMA 0.999, smoothing 0.1':
        KEEP_70 + ['--batch_norm=True', '--ema_decay=0.999', '--label_smoothing=0.1'],
    '+ keep 70%, batch norm, EMA 0.999, lr decay last third':
        KEEP_70 + ['--batch_norm=True', '--ema_decay=0.999', '--lr_decay_epochs={third}'],
    '+ keep 100%, batch norm, EMA 0.999': LEAKY_BETA1_SHUFFLE + ['--keep_prob=1.0', '--batch_norm=True',
                                                                '--ema_decay=0.999'],
}
# the DCGAN at 28x28, shuffled, with the weight average (0.999); widths G 64, D 64 unless said. The
# rows of D without batch norm and of stride-1 layers used settings removed after commit 89fbded
# (d_batch_norm, g_extra_layers, d_extra_layers): their figures stay in docs/experiments.md, and
# `git checkout 89fbded` runs them again.
DCGAN_BASE = ['--img_size=28', '--shuffle=True', '--ema_decay=0.999']
W64 = ['--g_width=64', '--d_width=64']
DENSE = ['--g_dense_units=1024', '--d_dense_units=1024', '--minibatch_stddev=True']
DCGAN = {
    'reference layout, widths 64': W64,
    '+ a dense layer of 1024 in G and D, minibatch spread (the preset)': W64 + DENSE,
    'the preset, lr 0.0004': W64 + DENSE + ['--lr=0.0004'],
    'the preset, lr 0.0004, D keeping 80%': W64 + DENSE + ['--lr=0.0004', '--keep_prob=0.8'],
    'the preset, lr 0.0004, D widths 128': W64 + DENSE + ['--lr=0.0004', '--d_width=128'],
    'the preset, lr 0.0004, G widths 128': W64 + DENSE + ['--lr=0.0004', '--g_width=128'],
    'the preset, lr 0.0004, 5x5 kernels': W64 + DENSE + ['--lr=0.0004', '--kernel_size=5'],
}
STORIES = {'gan': ('gan_mnist.py', GAN, [], 15, 5, '/tmp/screen'),
           'dcgan': ('dcgan_mnist.py', DCGAN, DCGAN_BASE, 6, 2, '/tmp/dcgan_screen')}


def run(script, args, seed, epochs, every, folder):
    """Train (or resume) one run to `epochs`; its scoring then and its minutes of training."""
    history = os.path.join(folder, '*train_hist.pkl')
    if not glob.glob(history) or len(load(history)['D_losses']) < epochs:
        subprocess.run([sys.executable, os.path.join(ROOT, script), *args, f'--seed={seed}',
                        f'--train_epoch={epochs}', f'--eval_every={every}', f'--results_dir={folder}'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hist = load(history)  # a run trained further than asked: its scoring at `epochs`
    scoring = next(s for s in hist['scores'] if s['epoch'] == epochs)
    return scoring, sum(hist['per_epoch_ptimes'][:epochs]) / 60


def load(pattern):
    with open(glob.glob(pattern)[0], 'rb') as f:
        return pickle.load(f)


def main():
    every_run = [a for a in sys.argv[1:] if a.startswith('--')]  # settings given to every run
    argv = [a for a in sys.argv[1:] if not a.startswith('--')]
    script, configs, base, epochs, every, out = STORIES[argv.pop(0) if argv[:1] == ['dcgan'] else 'gan']
    epochs = int(argv[0]) if argv else epochs
    out = argv[1] if len(argv) > 1 else out
    jobs = [(name, seed) for name in argv[2:] or list(configs) for seed in (0, 1)]

    def job(name_seed):
        name, seed = name_seed
        folder = os.path.join(out, f"{name.replace(' ', '_').replace(',', '').replace('%', '')}-{seed}")
        args = base + every_run + [a.format(third=epochs // 3) for a in configs[name]]
        return run(script, args, seed, epochs, every, folder)
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(jobs, pool.map(job, jobs)))
    print(f'| setting (epoch {epochs}, 10,000 samples) | seed | score | distance | '
          f'digit shares | minutes |')
    print('|---|---:|---:|---:|---|---:|')
    for (name, seed), (score, minutes) in results.items():
        shares = score['digit_shares']
        print(f"| {name} | {seed} | {score['classifier_score']:.2f} | "
              f"{score['frechet_distance']:.1f} | {100 * min(shares):.1f}-{100 * max(shares):.1f}% | "
              f"{minutes:.1f} |")


if __name__ == '__main__':
    main()
