"""The digits G draws, as the shipped classifier names them: a sample counts as a digit when the
classifier gives that digit at least CONFIDENCE, and as no digit otherwise (an in-between or
broken drawing). --sample's sheet groups its samples so (a conditional G's by the digit asked
for); --digit=D keeps only D's (a conditional G is asked for D instead)."""
import numpy as np

from backstage import pictures
from backstage.mnist_score import CONFIDENCE
from configurator import InputError

NONE = 10  # the group of the samples no digit claims with CONFIDENCE
SHOWN = 10  # samples shown a group on the sheet
RARE = 1 / 200  # --digit gives up on a digit G draws less often than this ...
JUDGED_AFTER = 10000  # ... once this many samples were drawn


def named_digits(probs):
    """The digit each sample is taken for (probs: N x 10, the classifier's), or NONE."""
    return np.where(probs.max(axis=1) >= CONFIDENCE, probs.argmax(axis=1), NONE)


class Sheet:
    """Samples grouped by the digit the classifier names them (or, for a conditional G, by the
    digit it was asked for): the count of each group, and its first SHOWN samples for a picture
    of ten rows (and a last one of the samples no digit claims); for a conditional G, how many
    of each row the classifier reads as asked, and every asked digit in order (`asked`)."""

    def __init__(self, conditional=False):
        self.conditional, self.asked = conditional, []
        self.counts, self.right = np.zeros(NONE + 1, int), np.zeros(NONE + 1, int)
        self.shown = [[] for _ in range(NONE if conditional else NONE + 1)]

    def add(self, images, probs, asked=None):
        """Count a chunk of samples (and keep the first of each group); return the images."""
        groups = named_digits(probs) if asked is None else asked
        self.counts += np.bincount(groups, minlength=NONE + 1)
        if asked is not None:
            self.asked.append(asked)
            self.right += np.bincount(asked[probs.argmax(axis=1) == asked], minlength=NONE + 1)
        for group, shown in enumerate(self.shown):
            shown.extend(images[groups == group][:SHOWN - len(shown)])
        return images

    def labels(self):
        if self.conditional:
            return [f'{digit}: {right / count:.1%} read as {digit}' if count else f'{digit}'
                    for digit, (right, count) in enumerate(zip(self.right[:NONE], self.counts[:NONE]))]
        shares = self.counts / self.counts.sum()
        return [f'{group}: {share:.1%}' for group, share in enumerate(shares[:NONE])] + \
            [f'no digit: {shares[NONE]:.1%}']

    def describe(self):
        if self.conditional:
            asked = ', '.join(label for label, count in zip(self.labels(), self.counts) if count)
            return (f'read by the classifier as the digit asked for: {self.right.sum() / self.counts.sum():.1%}'
                    f' ({asked})')
        return f'taken for each digit with confidence {CONFIDENCE} or more: ' + ', '.join(self.labels())

    def save(self, caption, path):
        side = round(np.size(next(s for shown in self.shown for s in shown)) ** 0.5)
        rows = np.full((len(self.shown), SHOWN, side, side), np.nan, np.float32)  # NaN: a blank tile
        for group, shown in enumerate(self.shown):
            if shown:
                rows[group, :len(shown)] = np.reshape(shown, (-1, side, side))
        pictures.save_rows(rows, self.labels(), caption, path)


class DigitFilter:
    """--sample=n --digit=D: keeps the samples taken for D until n are kept, sizing each draw by
    the rate seen so far (so a digit G draws 10% of the time costs about 10 plain samples a kept
    one); refuses a digit rarer than RARE once JUDGED_AFTER samples were drawn."""

    def __init__(self, digit, n, chunk):
        self.digit, self.n, self.chunk = digit, n, chunk
        self.kept = self.found = self.drawn = 0  # found: kept, and those past n in the last draw

    def sizes(self):
        """How many samples to draw next, until n are kept (read between draws)."""
        while self.kept < self.n:
            rate = max((self.kept + 1) / (self.drawn + 10), RARE)  # at first 1 in 10: a digit's share
            yield int(np.clip(np.ceil((self.n - self.kept) / rate * 1.1), 100, self.chunk))

    def keep(self, images, probs, asked=None):
        """The drawn images taken for the digit, up to n in all (asked: an unconditional G's None)."""
        found = images[named_digits(probs) == self.digit]
        self.drawn, self.found = self.drawn + len(images), self.found + len(found)
        mine = found[:self.n - self.kept]
        self.kept += len(mine)
        if self.kept < self.n and self.drawn >= JUDGED_AFTER and self.found < self.drawn * RARE:
            raise InputError(f"--digit={self.digit}: G drew {self.found} samples the classifier takes "
                             f"for {self.digit} (confidence {CONFIDENCE} or more) in {self.drawn} "
                             f"draws, fewer than 1 in {round(1 / RARE)}: too rare to collect "
                             f"{self.n}. Nothing was written; train longer, or ask for another digit.")
        return mine

    def describe(self):
        return (f'G drew {self.found} samples taken for {self.digit} with confidence {CONFIDENCE} or more in '
                f'{self.drawn} ({self.found / self.drawn:.1%}); kept the first {self.kept}')
