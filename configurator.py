"""The settings of gan_mnist.py for one run, nanoGPT style: the script's defaults, then a settings
file given first, then --name=value overrides, each checked before any long work.

    python gan_mnist.py config/recipe.py --train_epoch=20 --results_dir=runs/short

A settings file is Python made of `name = value` lines with literal values; it is parsed, not run.
A problem with anything the user gave is an InputError: the script prints its one-line message,
with no traceback, and exits with status 2.
"""
import ast
import sys

from input_data import DataError

# Settings a saved run must share with this one to be resumed: they change what is trained.
RUN_SETTINGS = ('batch_size', 'lr', 'keep_prob', 'eps', 'leaky_slope', 'adam_beta1', 'shuffle', 'seed',
                'batch_norm', 'ema_decay', 'lr_decay_epochs', 'label_smoothing', 'd_lr_ratio',
                'minibatch_stddev')
# Settings that shape the networks: --sample and --evaluate take them from the saved run.
NETWORK_SETTINGS = ('leaky_slope', 'batch_norm', 'ema_decay', 'minibatch_stddev')
# Settings newer than some saved runs, with the value those runs were trained with.
ADDED_SETTINGS = {'d_lr_ratio': 1.0, 'minibatch_stddev': False}


class InputError(Exception):
    """A problem with what the user gave (settings, folders, checkpoints): the message says what
    and how to fix it, and the script stops before any long work."""


def exit_briefly_on_input_errors():
    """A bad setting, data file or folder ends the script with its message and status 2, and a
    second Ctrl-C with status 130, instead of a traceback."""
    def hook(kind, error, traceback):
        if issubclass(kind, (InputError, DataError)):
            print(f'gan_mnist.py: error: {error}', file=sys.stderr)
            raise SystemExit(2)
        if issubclass(kind, KeyboardInterrupt):
            print('gan_mnist.py: interrupted.', file=sys.stderr)
            raise SystemExit(130)
        sys.__excepthook__(kind, error, traceback)
    sys.excepthook = hook


def configure(args, defaults):
    """The settings for this run: `defaults` (name: value) updated from a settings file given as
    the first argument, then from --name=value arguments, and checked."""
    settings = dict(defaults)
    if args and not args[0].startswith('--'):
        settings.update(read_settings_file(args[0], defaults))
        args = args[1:]
    for arg in args:
        settings.update(parse_override(arg, defaults))
    check(settings)
    return settings


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
        with open(path) as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"cannot read the settings file {path!r} ({e}). Give a Python file of "
                         f"name = value lines as the first argument, or only --name=value "
                         f"settings.") from None
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
    """Reject values that would fail late or train nothing, before any long work."""
    rules = [
        (s['batch_size'] >= 1, 'batch_size', 'at least 1'),
        (s['lr'] > 0, 'lr', 'greater than 0'),
        (s['train_epoch'] >= 1, 'train_epoch', 'at least 1'),
        (0 < s['keep_prob'] <= 1, 'keep_prob', 'in (0, 1]: the fraction of units dropout keeps'),
        (s['eps'] >= 0, 'eps', 'at least 0'),
        (0 <= s['leaky_slope'] < 1, 'leaky_slope', 'in [0, 1)'),
        (0 <= s['adam_beta1'] < 1, 'adam_beta1', 'in [0, 1)'),
        (0 <= s['ema_decay'] < 1, 'ema_decay', 'in [0, 1): 0 is off'),
        (0 <= s['lr_decay_epochs'] <= s['train_epoch'], 'lr_decay_epochs',
         f"from 0 (off) to train_epoch ({s['train_epoch']})"),
        (0 <= s['label_smoothing'] < 0.5, 'label_smoothing', 'in [0, 0.5): 0 is off'),
        (s['d_lr_ratio'] > 0, 'd_lr_ratio', 'greater than 0'),
        (s['checkpoint'] in ('last', 'best') or s['checkpoint'].isdigit() and int(s['checkpoint']) >= 1,
         'checkpoint', "'last', 'best' or the number of a kept epoch"),
        (s['keep_checkpoints'] >= 1, 'keep_checkpoints', 'at least 1'),
        (s['summary_every'] >= 1, 'summary_every', 'at least 1'),
        (s['eval_samples'] == 0 or s['eval_samples'] >= 2, 'eval_samples', '0 (off) or at least 2'),
        (s['eval_every'] >= 0, 'eval_every', 'at least 0'),
        (s['sample'] >= 0, 'sample', 'at least 0'),
        (s['evaluate'] == 0 or s['evaluate'] >= 2, 'evaluate', '0 (off) or at least 2'),
    ]
    for ok, name, wanted in rules:
        if not ok:
            raise InputError(f"--{name}={s[name]!r} is out of range: it must be {wanted}.")
    if s['sample'] and s['evaluate']:
        raise InputError("--sample and --evaluate each replace training: give one of them.")
    if s['checkpoint'] != 'last' and not s['resume']:
        raise InputError(f"--checkpoint={s['checkpoint']} goes back to a saved epoch, and "
                         f"--resume=False starts over: give one of them.")
