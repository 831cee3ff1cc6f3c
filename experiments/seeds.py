"""A preset's curve for several seeds: the recipe's behind the README's "Better samples", the
DCGAN's and the cDCGAN's behind theirs.

    python experiments/seeds.py [OUT=/tmp/recipe] [SEED ...]    # seeds 0, 1 and 2 by default
    python experiments/seeds.py config/dcgan_cpu.py [OUT=/tmp/dcgan_cpu] [SEED ...]
    python experiments/seeds.py config/dcgan_cpu.py /tmp/dcgan_bf16 0 1 --precision=bfloat16
    python experiments/seeds.py config/cdcgan_cpu.py /tmp/cdcgan_cpu 0 1

Runs `python gan_mnist.py config/recipe.py` (or the preset given, with the story its name starts
with: dcgan*, cdcgan*, cgan*) for each seed, two runs at a time, in OUT/seed-N (a run already there is resumed,
a finished one not trained again; any --name=value goes to every run), then prints a Markdown
table of every scoring (score, distance, smallest and largest digit share) and, per seed, the
median of its last three scorings, its minutes of training and seconds per epoch, and its last
scoring's share of no digit (and label accuracy, for a conditional story).
"""
import glob
import os
import pickle
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script, preset, overrides, seed, out):
    folder = os.path.join(out, f'seed-{seed}')
    with open(f'{folder}.log', 'a', encoding='utf-8') as log:
        subprocess.run([sys.executable, script, preset, *overrides, f'--seed={seed}', f'--results_dir={folder}'],
                       check=True, stdout=log, stderr=log)
    with open(glob.glob(os.path.join(folder, '*train_hist.pkl'))[0], 'rb') as f:
        return pickle.load(f)


def main():
    args = [arg for arg in sys.argv[1:] if not arg.startswith('--')]
    overrides = [arg for arg in sys.argv[1:] if arg.startswith('--')]
    preset = os.path.abspath(args.pop(0)) if args[:1] and args[0].endswith('.py') else \
        os.path.join(ROOT, 'config', 'recipe.py')
    name = os.path.basename(preset)[:-3]
    story = next((story for story in ('cdcgan', 'cgan', 'dcgan') if name.startswith(story)), 'gan')
    script = os.path.join(ROOT, f'{story}_mnist.py')
    out = args[0] if args else f'/tmp/{name}'
    seeds = [int(seed) for seed in args[1:]] or [0, 1, 2]
    os.makedirs(out, exist_ok=True)
    with ThreadPoolExecutor(2) as pool:
        hists = dict(zip(seeds, pool.map(lambda seed: run(script, preset, overrides, seed, out), seeds)))
    print('| epoch | ' + ' | '.join(f'seed {seed}: score | distance | digit shares' for seed in seeds)
          + ' |')
    print('|---:|' + '---:|---:|---|' * len(seeds))
    scorings = {seed: {s['epoch']: s for s in hist['scores']} for seed, hist in hists.items()}
    for epoch in sorted({epoch for by_epoch in scorings.values() for epoch in by_epoch}):
        cells = []
        for seed in seeds:
            s = scorings[seed].get(epoch)
            cells += ['', '', ''] if s is None else [
                f"{s['classifier_score']:.2f}", f"{s['frechet_distance']:.1f}",
                f"{100 * min(s['digit_shares']):.1f}-{100 * max(s['digit_shares']):.1f}%"]
        print(f'| {epoch} | ' + ' | '.join(cells) + ' |')
    for seed, hist in hists.items():
        last3 = hist['scores'][-3:]
        print(f"seed {seed}: median of the last three scorings (epochs "
              f"{', '.join(str(s['epoch']) for s in last3)}): score "
              f"{statistics.median(s['classifier_score'] for s in last3):.2f}, distance "
              f"{statistics.median(s['frechet_distance'] for s in last3):.2f}; "
              f"{hist['total_ptime'][0] / 60:.1f} min, "
              f"{statistics.mean(hist['per_epoch_ptimes']):.1f} s an epoch; last scoring: "
              f"no digit {last3[-1].get('no_digit_share', float('nan')):.1%}"
              + (f", label accuracy {last3[-1]['label_accuracy']:.2%} (lowest digit "
                 f"{min(last3[-1]['label_accuracy_by_digit']):.2%})" if 'label_accuracy' in last3[-1] else ''))


if __name__ == '__main__':
    main()
