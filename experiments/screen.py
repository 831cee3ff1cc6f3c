"""The screen behind docs/experiments.md's first table.

    python experiments/screen.py [EPOCHS=15] [OUT=/tmp/screen] [NAME ...]

Trains each setting below (or the NAMEs given) for EPOCHS epochs with seeds 0 and 1, two runs at
a time on the shipped MNIST, scores 10,000 samples every 5 epochs, and prints a Markdown table of
the last scoring: classifier score, Fréchet distance, smallest digit share, and minutes per run.
A run already finished in OUT is read, not trained again.
"""
import os
import pickle
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'gan_mnist.py')
LEAKY_BETA1_SHUFFLE = ['--leaky_slope=0.2', '--adam_beta1=0.5', '--shuffle=True']
KEEP_70 = LEAKY_BETA1_SHUFFLE + ['--keep_prob=0.7']
CONFIGS = {
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


def run(name, seed, epochs, out):
    folder = os.path.join(out, f"{name.replace(' ', '_').replace(',', '').replace('%', '')}-{seed}")
    hist_path = os.path.join(folder, 'train_hist.pkl')
    began = time.time()
    if not os.path.exists(hist_path) or len(load(hist_path)['D_losses']) < epochs:
        args = [a.format(third=epochs // 3) for a in CONFIGS[name]]
        subprocess.run([sys.executable, SCRIPT, *args, f'--seed={seed}', f'--train_epoch={epochs}',
                        '--eval_every=5', f'--results_dir={folder}'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hist = load(hist_path)
    return hist['scores'][-1], hist['total_ptime'][0] / 60, time.time() - began


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    out = sys.argv[2] if len(sys.argv) > 2 else '/tmp/screen'
    names = sys.argv[3:] or list(CONFIGS)
    jobs = [(name, seed) for name in names for seed in (0, 1)]
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(jobs, pool.map(lambda job: run(*job, epochs, out), jobs)))
    print(f'| setting (epoch {epochs}, 10,000 samples) | seed | score | distance | '
          f'smallest digit share | minutes |')
    print('|---|---:|---:|---:|---:|---:|')
    for (name, seed), (score, minutes, _) in results.items():
        print(f"| {name} | {seed} | {score['classifier_score']:.2f} | "
              f"{score['frechet_distance']:.1f} | {min(score['digit_shares']):.3f} | {minutes:.1f} |")


if __name__ == '__main__':
    main()
