"""The settings of a story script (gan_mnist.py, dcgan_mnist.py) for one run, nanoGPT style: the
script's defaults, then a settings file given first, then --name=value overrides, each checked before any long work.

    python gan_mnist.py config/recipe.py --train_epoch=20 --results_dir=runs/short

A settings file is Python made of `name = value` lines with literal values; it is parsed, not run.
A problem with anything the user gave is an InputError: the script prints its one-line message,
with no traceback, and exits with status 2, in a shell and in a notebook's %run alike.
"""
import ast
import math
import os
import re
import sys

# Settings that do not change what is trained (precision: the same networks and checkpoints, in
# other arithmetic); every other setting of a story defines its run: a saved run is resumed only
# with the same values (run_settings).
OUTPUT_SETTINGS = ('train_epoch', 'data_dir', 'data_url', 'results_dir', 'resume',
                   'keep_checkpoints', 'summary_every', 'eval_samples', 'eval_every', 'sample',
                   'digit', 'evaluate', 'interpolate', 'checkpoint', 'precision')
INSTEAD_OF_TRAINING = ('sample', 'evaluate', 'interpolate')  # each > 0 uses a checkpoint instead
# Settings that shape the networks or add variables to the graph (ema_decay's averages,
# lr_decay_epochs' lr_scale), in either story: --sample and --evaluate take them from the saved
# run (network_settings), so that its checkpoint restores.
NETWORK_SETTINGS = ('leaky_slope', 'batch_norm', 'ema_decay', 'minibatch_stddev', 'img_size', 'g_width',
                    'd_width', 'kernel_size', 'g_dense_units', 'g_dense_layers', 'd_dense_units', 'lr_decay_epochs',
                    'channels')
# Settings newer than some saved runs, with the value those runs were trained with: the
# reference's (adam_beta1, keep_prob, label_smoothing and lr_decay_epochs came to dcgan_mnist.py
# after its first runs; gan_mnist.py's runs have always saved them).
ADDED_SETTINGS = {'d_lr_ratio': 1.0, 'minibatch_stddev': False, 'adam_beta1': 0.5, 'keep_prob': 1.0,
                  'label_smoothing': 0.0, 'kernel_size': 4, 'g_dense_units': 0, 'd_dense_units': 0,
                  'lr_decay_epochs': 0, 'g_dense_layers': 1, 'dataset': 'mnist', 'channels': 1}
# Settings renamed since some runs were saved: old name, new names (the DCGAN's one width, now two).
RENAMED_SETTINGS = {'width': ('g_width', 'd_width')}
# The DCGAN's settings whose screens lost (docs/experiments.md), removed after commit 89fbded, with
# the value this version builds: a run saved with another is refused, naming that commit.
REMOVED_SETTINGS = {'g_start': 'conv', 'd_batch_norm': True, 'g_extra_layers': 0, 'd_extra_layers': 0}


def run_settings(settings):
    """{name: value} of the settings that define the run: all but OUTPUT_SETTINGS."""
    return {name: value for name, value in settings.items() if name not in OUTPUT_SETTINGS}


def network_settings(settings):
    """The names of the settings among `settings` that shape the networks."""
    return [name for name in NETWORK_SETTINGS if name in settings]


# The fewest samples the quality figures are given for, and why (measured with this project's scorer).
MIN_SCORED_SAMPLES = 1000
SCORED_WHY = ("the Fréchet distance fits a covariance to the classifier's 128 features, and with "
              "fewer samples it measures mostly the fit's own noise (real images against the test "
              "set: 90 at 200 samples, 38 at 500, 20 at 1,000, 6 at 10,000)")
SCORED_COUNT = (lambda v, s: v == 0 or v >= MIN_SCORED_SAMPLES,  # eval_samples' and evaluate's rule
                f'0 (off) or at least {MIN_SCORED_SAMPLES}: {SCORED_WHY}')
ANY_CLASS = ('', '-1')  # --digit's values for no class in particular
MAX_WALKS = 100  # --interpolate: 1,000 images, 16 MB at the reference's 64x64, a grid 100 images tall
FOLDERS = ('data_dir', 'results_dir')  # an empty value is refused: it would mean the current folder
RULES = {  # setting: (what a good value passes, given the settings; what the message says it must be)
    'batch_size': (lambda v, s: v >= 1, 'at least 1'),
    'lr': (lambda v, s: v > 0, 'greater than 0'),
    'train_epoch': (lambda v, s: v >= 1, 'at least 1'),
    'keep_prob': (lambda v, s: 0 < v <= 1, 'in (0, 1]: the fraction of units dropout keeps'),
    'eps': (lambda v, s: v >= 0, 'at least 0'),
    'leaky_slope': (lambda v, s: 0 <= v < 1, 'in [0, 1)'),
    'adam_beta1': (lambda v, s: 0 <= v < 1, 'in [0, 1)'),
    'seed': (lambda v, s: 0 <= v < 2 ** 63,
             'from 0 to 2**63 - 1: numpy and TensorFlow take no negative seed'),
    'ema_decay': (lambda v, s: 0 <= v < 1, 'in [0, 1): 0 is off'),
    'lr_decay_epochs': (lambda v, s: v >= 0, 'at least 0 (0: off; more than train_epoch: the whole run)'),
    'lr_decay_steps': (lambda v, s: v >= 1, 'at least 1'),
    'lr_decay_rate': (lambda v, s: 0 < v <= 1, 'in (0, 1]: 1 is no decay'),
    'label_smoothing': (lambda v, s: 0 <= v < 0.5, 'in [0, 0.5): 0 is off'),
    'd_lr_ratio': (lambda v, s: v > 0, 'greater than 0'),
    'img_size': (lambda v, s: v % 2 == 0 and 28 <= v <= 128,
                 'an even number from 28 to 128: each stride-2 layer halves or doubles it'),
    'g_width': (lambda v, s: v >= 16, 'at least 16: the layers towards the image halve it'),
    'd_width': (lambda v, s: v >= 16, 'at least 16: the layers towards the image halve it'),
    'kernel_size': (lambda v, s: 2 <= v <= 7, 'from 2 to 7: the stride-2 layers\' kernels are this wide'),
    'g_dense_units': (lambda v, s: v >= 0, 'at least 0 (0: none, the reference)'),
    'g_dense_layers': (lambda v, s: v == 1 or 2 <= v <= 4 and s['g_dense_units'],
                       'from 1 to 4, and more than 1 only with a g_dense_units'),
    'd_dense_units': (lambda v, s: v >= 0, 'at least 0 (0: none, the reference)'),
    'precision': (lambda v, s: v in ('float32', 'bfloat16'), "'float32' (the reference's) or 'bfloat16'"),
    'data_url': (lambda v, s: re.fullmatch(r'[a-z][a-z0-9+.-]*://\S+', v),
                 'an address such as https://host/folder/'),
    'keep_checkpoints': (lambda v, s: v >= 1, 'at least 1'),
    'summary_every': (lambda v, s: v >= 1, 'at least 1'),
    'eval_samples': SCORED_COUNT,
    'eval_every': (lambda v, s: v >= 0, 'at least 0 (0: only at the end)'),
    'sample': (lambda v, s: v >= 0, 'at least 0 (0: train)'),
    'digit': (lambda v, s: v in ANY_CLASS or v.isdigit() or v.strip() == v and not v.startswith('-'),
              "a class's index (0, 1, ...) or its name (7, three, Sneaker; -1 or nothing: any)"),
    'dataset': (lambda v, s: v in known_datasets(), 'one of {datasets} (a folder of your own images: --data_dir)'),
    'channels': (lambda v, s: v in (1, 3), '1 (gray) or 3 (color)'),
    'evaluate': SCORED_COUNT,
    'interpolate': (lambda v, s: 0 <= v <= MAX_WALKS, f'from 1 to {MAX_WALKS} walks (0, the default: none)'),
    'checkpoint': (lambda v, s: v in ('last', 'best') or v.isdigit() and int(v) >= 1,
                   "'last', 'best' or the number of a kept epoch"),
}


class InputError(SystemExit):
    """A problem with what the user gave (settings, folders, checkpoints, data): raised, it ends
    the story as argparse's error() does, wherever the story runs (a shell, a notebook's %run,
    runpy): one line on stderr, 'SCRIPT: error: MESSAGE', then SystemExit with status 2, no
    traceback. A SystemExit reaches no hook that could print it later (and a kernel calls no
    sys.excepthook), so the line is printed as the error is made: make one only to raise it."""

    def __init__(self, message):
        super().__init__(2)
        self.message = message
        print(f'{os.path.basename(sys.argv[0])}: error: {message}', file=sys.stderr)

    def __str__(self):
        return self.message


def configure(args, defaults):
    """The settings for this run: `defaults` (name: value) updated from a settings file given as
    the first argument, then from --name=value arguments, and checked."""
    given = {}  # what the settings file and the overrides set, in that order
    if args and not args[0].startswith('--'):
        given.update(read_settings_file(args[0], defaults))
        args = args[1:]
    for arg in args:
        given.update(parse_override(arg, defaults))
    settings = dict(defaults, **given)
    if settings.get('dataset', 'mnist') != 'mnist' and 'data_dir' not in given:
        settings['data_dir'] = f"{settings['dataset']}_data"  # a folder of its own, never MNIST_data/
    check(settings)
    if given.get('interpolate') == 0:
        raise InputError(f"--interpolate=0 asks for no walk: give 1 to {MAX_WALKS} walks, or leave it out to train.")
    return settings


def known_datasets():
    """The names of the datasets input_data reads by name (input_data imports this module, for
    InputError, so it is imported when asked)."""
    import input_data
    return list(input_data.DATASETS)


def given_names(args, defaults):
    """The names of the settings that args set, in a settings file or as --name=value."""
    names = set()
    if args and not args[0].startswith('--'):
        names |= set(read_settings_file(args[0], defaults))
        args = args[1:]
    for arg in args:
        names |= set(parse_override(arg, defaults))
    return names


def read_settings_file(path, defaults):
    """name = value lines of a Python file, each name a setting and each value of its type."""
    try:
        with open(path, encoding='utf-8-sig') as f:  # as Python reads its files; -sig: Notepad's BOM
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError) as e:
        saved_as = ' saved as UTF-8' if isinstance(e, UnicodeDecodeError) else ''
        raise InputError(f"cannot read the settings file {path!r} ({e}). Give a Python file of "
                         f"name = value lines{saved_as} as the first argument, or only "
                         f"--name=value settings.") from None
    settings = {}
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            raise InputError(f"{path}, line {statement.lineno}: a settings file holds only "
                             f"name = value lines.")
        name = statement.targets[0].id
        try:
            value = ast.literal_eval(statement.value)
        except ValueError:
            raise InputError(f"{path}, line {statement.lineno}: the value of {name} must be a "
                             f"plain number, string or True/False.") from None
        settings[name] = checked_type(name, value, f'{name} = {ast.unparse(statement.value)} '
                                      f'in {path}', defaults)
    return settings


def parse_override(arg, defaults):
    """{name: value} of one --name=value argument."""
    name, has_value, text = arg[2:].partition('=')
    if not arg.startswith('--') or name not in defaults:
        raise InputError(f"unknown setting {arg!r}. Settings are given as --name=value, "
                         f"with name one of: {', '.join(defaults)}.")
    default = defaults[name]
    if not has_value:
        raise InputError(f"--{name} needs a value, as in --{name}={default!r}.")
    if isinstance(default, str):
        value = text  # verbatim, so a folder named 1e3 stays a name
    elif isinstance(default, bool):
        value = {'true': True, 'false': False}.get(text.lower(), text)
    else:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
    return {name: checked_type(name, value, f'--{name}={text}', defaults)}


def checked_type(name, value, given, defaults):
    """value, if it has the type of the setting's default (an int is fine for a float)."""
    if name not in defaults:
        raise InputError(f"unknown setting {name!r} ({given}). Settings: {', '.join(defaults)}.")
    default = defaults[name]
    if isinstance(default, float) and type(value) is int:
        value = float(value)
    if type(value) is not type(default):
        raise InputError(f"{given} is not of type {type(default).__name__} "
                         f"(the default is {default!r}). Settings: {', '.join(defaults)}.")
    return value


def check(s):
    """Reject values that would fail late, train nothing, or fill the memory or the disk, before
    any long work: each setting against its rule in RULES, then the pairs that contradict."""
    for name, value in s.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"--{name}={value!r} is not a finite number.")
        if name in FOLDERS and not value.strip():
            raise InputError(f"--{name}={value!r} is empty: it must name a folder. (An empty value "
                             f"often comes from a shell variable that is not set.)")
        if name in RULES and not RULES[name][0](value, s):
            datasets = ', '.join(known_datasets()) if name == 'dataset' else ''
            raise InputError(f"--{name}={value!r} is out of range: it must be "
                             f"{RULES[name][1].format(**s, datasets=datasets)}.")
    instead = [f'--{name}' for name in INSTEAD_OF_TRAINING if s[name]]
    if len(instead) > 1:
        raise InputError(f"{' and '.join(instead)} each replace training: give one of them.")
    if s['digit'] not in ANY_CLASS and not s['sample']:
        raise InputError(f"--digit={s['digit']} picks the samples of --sample: give --sample=N too, "
                         f"as in --sample=100 --digit={s['digit']}.")
    if s['digit'] not in ANY_CLASS:  # a class of the data: its names are known without reading it
        import input_data  # imports this module: imported when needed
        where, dataset = s['data_dir'], s.get('dataset', 'mnist')
        input_data.class_index(s['digit'], input_data.class_names(where, dataset), input_data.source_of(where, dataset))
    if s['checkpoint'] != 'last' and not s['resume']:
        raise InputError(f"--checkpoint={s['checkpoint']} goes back to a saved epoch, and "
                         f"--resume=False starts over: give one of them.")
    if s['eval_every'] and not s['eval_samples']:
        raise InputError(f"--eval_every={s['eval_every']} asks for a scoring every {s['eval_every']} epoch(s), "
                         f"and --eval_samples=0 gives it nothing to score: give --eval_samples of "
                         f"at least {MIN_SCORED_SAMPLES}, or --eval_every=0.")


def check_against_data(s, n_images):
    """What only the data can tell: a training batch, and the samples scored, within the n_images
    training images of data_dir."""
    training = not any(s[name] for name in INSTEAD_OF_TRAINING)
    if training and s['batch_size'] > n_images:
        raise InputError(f"--batch_size={s['batch_size']} is larger than the {n_images} "
                         f"training images in {s['data_dir']}/.")
    scored = 'eval_samples' if training else 'evaluate'
    if s[scored] > n_images:
        raise InputError(f"--{scored}={s[scored]} is more than the {n_images} training images in "
                         f"{s['data_dir']}/: the real images' figures printed beside the "
                         f"samples' are measured on as many training images as samples.")
