"""The digits (the classes) G draws, as the classifier names them: a sample counts as a digit when
the classifier gives that digit at least CONFIDENCE, and as no digit otherwise (an in-between or
broken drawing). --sample's sheet groups its samples so (a conditional G's by the class asked
for); --digit=D keeps only D's (a conditional G is asked for D instead). Classes are named as the
data names them: MNIST's digits, Fashion-MNIST's 'Sneaker', a folder's subfolders."""
import numpy as np

from backstage import pictures
from backstage.mnist_score import CONFIDENCE
from configurator import InputError

SHOWN = 10  # samples shown a group on the sheet
RARE = 1 / 200  # --digit gives up on a digit G draws less often than this ...
JUDGED_AFTER = 10000  # ... once this many samples were drawn


def named_digits(probs):
    """The class each sample is taken for (probs: N x classes, the classifier's), or the number
    of classes for none (the sheet's last group)."""
    return np.where(probs.max(axis=1) >= CONFIDENCE, probs.argmax(axis=1), probs.shape[1])


def kind(names):
    """'digit' for MNIST's classes, 'class' for others'."""
    return 'digit' if all(name.isdigit() for name in names) else 'class'


class Sheet:
    """Samples grouped by the class the classifier names them (or, for a conditional G, by the
    class it was asked for): the count of each group, and its first SHOWN samples for a picture
    of a row a class (and a last one of the samples no class claims); for a conditional G, how
    many of each row the classifier reads as asked, and every asked class in order (`asked`).
    Without classes (a folder of unlabelled images), it counts nothing."""

    def __init__(self, names, conditional=False):
        self.names, self.conditional, self.asked = names or [], conditional, []
        none = len(self.names)  # the group of the samples no class claims with CONFIDENCE
        self.counts, self.right = np.zeros(none + 1, int), np.zeros(none + 1, int)
        self.shown = [[] for _ in range(none if conditional else none + 1)]

    def add(self, images, probs, asked=None):
        """Count a chunk of samples (and keep the first of each group); return the images."""
        if probs is None and asked is None:
            return images
        groups = named_digits(probs) if asked is None else asked
        self.counts += np.bincount(groups, minlength=len(self.counts))
        if asked is not None:
            self.asked.append(asked)
            if probs is not None:
                self.right += np.bincount(asked[probs.argmax(axis=1) == asked], minlength=len(self.counts))
        for group, shown in enumerate(self.shown):
            shown.extend(images[groups == group][:SHOWN - len(shown)])
        return images

    def labels(self):
        if self.conditional:
            return [f'{name}: {right / count:.1%} read as {name}' if count else name
                    for name, right, count in zip(self.names, self.right, self.counts)]
        shares = self.counts / self.counts.sum()
        return [f'{name}: {share:.1%}' for name, share in zip(self.names, shares)] + \
            [f'no {kind(self.names)}: {shares[-1]:.1%}']

    def describe(self):
        if self.conditional:
            asked = ', '.join(label for label, count in zip(self.labels(), self.counts) if count)
            return (f'read by the classifier as the {kind(self.names)} asked for: '
                    f'{self.right.sum() / self.counts.sum():.1%} ({asked})')
        return (f'taken for each {kind(self.names)} with confidence {CONFIDENCE} or more: '
                + ', '.join(self.labels()))

    def save(self, caption, path):
        first = next(s for shown in self.shown for s in shown)
        side, channels = pictures.side_and_channels(first)
        rows = np.full((len(self.shown), SHOWN, side, side, channels), np.nan, np.float32)  # NaN: a blank tile
        for group, shown in enumerate(self.shown):
            if shown:
                rows[group, :len(shown)] = np.reshape(shown, (-1, side, side, channels))
        pictures.save_rows(rows, self.labels(), caption, path)


class DigitFilter:
    """--sample=n --digit=D: keeps the samples taken for D until n are kept, sizing each draw by
    the rate seen so far (so a class G draws 10% of the time costs about 10 plain samples a kept
    one); refuses a class rarer than RARE once JUDGED_AFTER samples were drawn."""

    def __init__(self, digit, n, chunk, names=None):
        self.digit, self.n, self.chunk = digit, n, chunk
        self.name = names[digit] if names and digit >= 0 else str(digit)
        self.kept = self.found = self.drawn = 0  # found: kept, and those past n in the last draw

    def sizes(self):
        """How many samples to draw next, until n are kept (read between draws)."""
        while self.kept < self.n:
            rate = max((self.kept + 1) / (self.drawn + 10), RARE)  # at first 1 in 10: a digit's share
            yield int(np.clip(np.ceil((self.n - self.kept) / rate * 1.1), 100, self.chunk))

    def keep(self, images, probs, asked=None):
        """The drawn images taken for the class, up to n in all (asked: an unconditional G's None)."""
        found = images[named_digits(probs) == self.digit]
        self.drawn, self.found = self.drawn + len(images), self.found + len(found)
        mine = found[:self.n - self.kept]
        self.kept += len(mine)
        if self.kept < self.n and self.drawn >= JUDGED_AFTER and self.found < self.drawn * RARE:
            raise InputError(f"--digit={self.name}: G drew {self.found} samples the classifier takes "
                             f"for {self.name} (confidence {CONFIDENCE} or more) in {self.drawn} "
                             f"draws, fewer than 1 in {round(1 / RARE)}: too rare to collect "
                             f"{self.n}. Nothing was written; train longer, or ask for another class.")
        return mine

    def describe(self):
        return (f'G drew {self.found} samples taken for {self.name} with confidence {CONFIDENCE} or more in '
                f'{self.drawn} ({self.found / self.drawn:.1%}); kept the first {self.kept}')
