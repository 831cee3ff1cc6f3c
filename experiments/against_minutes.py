"""The README's plot of the two presets: score and distance against minutes of training.

    python experiments/against_minutes.py OUT.png "LABEL=FOLDER[,FOLDER...]" ... [--title=...]
    python experiments/against_minutes.py OUT.png "LABEL:SECONDS=FOLDER,..." ...

Each argument names a preset and the results folders of its runs (one per seed, as
experiments/seeds.py makes them); every run becomes one line of its preset's colour, each scoring
placed at the minutes of training done when it was made: the sum of the epochs' times before it,
or, with :SECONDS, that many seconds an epoch (an epoch timed alone by bench.py, for runs
that shared the cores with others). Name the machine in the title.
"""
import glob
import os
import pickle
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # after use('Agg')


def curve(folder, epoch_seconds=None):
    """(minutes, score, distance) at each scoring of the run in folder, and its first scoring."""
    with open(glob.glob(os.path.join(folder, '*train_hist.pkl'))[0], 'rb') as f:
        hist = pickle.load(f)
    elapsed = [(s['epoch'] * epoch_seconds if epoch_seconds else
                sum(hist['per_epoch_ptimes'][:s['epoch']])) / 60 for s in hist['scores']]
    return elapsed, [s['classifier_score'] for s in hist['scores']], \
        [s['frechet_distance'] for s in hist['scores']], hist['scores'][0]


def main():
    title = next((a.split('=', 1)[1] for a in sys.argv[1:] if a.startswith('--title=')), '')
    out, *presets = [a for a in sys.argv[1:] if not a.startswith('--title=')]
    fig, (score_ax, distance_ax) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 6.4))
    for colour, preset in enumerate(presets):
        label, folders = preset.split('=', 1)
        label, _, seconds = label.partition(':')
        for i, folder in enumerate(folders.split(',')):
            minutes, scores, distances, first = curve(folder, float(seconds) if seconds else None)
            said = {'label': label} if i == 0 else {}
            score_ax.plot(minutes, scores, '.-', color=f'C{colour}', **said)
            distance_ax.plot(minutes, distances, '.-', color=f'C{colour}', **said)
    score_ax.axhline(first['real_classifier_score'], ls='--', color='gray', label='real images')
    distance_ax.axhline(first['real_frechet_distance'], ls='--', color='gray')
    score_ax.set_ylabel('classifier score (at most 10)')
    distance_ax.set_ylabel('Fréchet distance (0 is best)')
    distance_ax.set_yscale('log')
    distance_ax.set_xlabel('minutes of training (scoring not counted)')
    for ax in (score_ax, distance_ax):
        ax.grid(True)
    score_ax.legend(loc='lower right')
    score_ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == '__main__':
    main()
