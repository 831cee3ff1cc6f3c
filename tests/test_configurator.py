"""configurator: --name=value overrides and settings files over the script's defaults, and the
checks on their values."""
import re

import pytest
from helpers import CDCGAN, CGAN, DCGAN, ROOT, script_defaults

from configurator import MIN_SCORED_SAMPLES, InputError, check_against_data, configure

DEFAULTS = script_defaults()
DCGAN_DEFAULTS = script_defaults(DCGAN)
CDCGAN_DEFAULTS = script_defaults(CDCGAN)
EVERY_SETTING = DEFAULTS | DCGAN_DEFAULTS | script_defaults(CGAN) | CDCGAN_DEFAULTS


def test_overrides_set_each_type():
    s = configure(['--train_epoch=3', '--lr=1e-3', '--eps=1', '--shuffle=True', '--resume=false',
                   '--results_dir=/tmp/1e3'], DEFAULTS)
    assert s['train_epoch'] == 3 and s['lr'] == 0.001
    assert s['eps'] == 1.0 and type(s['eps']) is float  # an int is fine for a float
    assert s['shuffle'] is True and s['resume'] is False
    assert s['results_dir'] == '/tmp/1e3'  # strings are taken verbatim
    assert s['batch_size'] == 100 and list(s) == list(DEFAULTS)  # the rest stay the defaults


def test_settings_are_the_plain_names_at_the_top():
    assert list(DEFAULTS)[:5] == ['batch_size', 'lr', 'train_epoch', 'keep_prob', 'eps']
    assert {'seed', 'data_dir', 'results_dir', 'leaky_slope', 'adam_beta1', 'shuffle',
            'sample', 'evaluate'} <= set(DEFAULTS)


@pytest.mark.parametrize('arg, says', [
    ('--epochs=3', "unknown setting '--epochs=3'"),
    ('--train_epoch', '--train_epoch needs a value'),
    ('--train_epoch=three', '--train_epoch=three is not of type int'),
    ('--batch_size=1.5', '--batch_size=1.5 is not of type int'),
    ('--lr=fast', '--lr=fast is not of type float'),
    ('--shuffle=1', '--shuffle=1 is not of type bool'),
])
def test_bad_overrides_name_the_setting_and_list_the_valid_ones(arg, says):
    with pytest.raises(InputError) as error:
        configure([arg], DEFAULTS)
    assert says in str(error.value)
    if 'needs a value' not in says:
        assert 'batch_size, lr, train_epoch' in str(error.value)


def test_an_argument_without_dashes_after_the_first_is_refused():
    with pytest.raises(InputError, match="unknown setting 'train_epoch=3'"):
        configure(['--lr=0.001', 'train_epoch=3'], DEFAULTS)


BAD_VALUES = {  # every setting of the two scripts: values they refuse (as typed after --name=)
    'batch_size': ['0', '-1', '1.5'],
    'lr': ['0', '-0.001', '1e999', 'fast'],
    'train_epoch': ['0', '-5', 'ten'],
    'keep_prob': ['0', '1.5', '-0.3', 'nan'],
    'eps': ['-0.01', '1e999'],
    'leaky_slope': ['1.0', '-0.2'],
    'adam_beta1': ['1.0', '-0.1'],
    'shuffle': ['1', 'yes'],
    'seed': ['-1', str(2 ** 63), '0.5'],
    'batch_norm': ['1'],
    'ema_decay': ['1.0', '-0.5'],
    'lr_decay_epochs': ['-1', '2.5'],
    'lr_decay_steps': ['0', '-500', '1e3'],
    'lr_decay_rate': ['0', '1.01', '-0.95'],
    'label_smoothing': ['0.5', '-0.1'],
    'd_lr_ratio': ['0', '-1', '-1e999'],
    'minibatch_stddev': ['2'],
    'img_size': ['27', '26', '130', '64.0'],
    'g_width': ['8', '-16', 'wide'],
    'd_width': ['15', '0', '64.0'],
    'kernel_size': ['1', '8', '4.5'],
    'g_dense_units': ['-1', '1.5'],
    'g_dense_layers': ['0', '5'],
    'd_dense_units': ['-1024', 'many'],
    'data_dir': ['', '  '],
    'data_url': ['', 'MNIST_data', 'http://'],
    'results_dir': ['', ' '],
    'resume': ['no'],
    'keep_checkpoints': ['0', '-1'],
    'summary_every': ['0', '-50'],
    'eval_samples': ['-1', '1', '999', '1e4'],
    'eval_every': ['-1'],
    'sample': ['-1', '2.5'],
    'digit': ['-2', ' 7', '7 '],  # a class's index or name: known once the data is read (test_show, test_other_data)
    'dataset': ['cifar10', 'MNIST', ''],
    'channels': ['2', '0', '4', 'rgb'],
    'evaluate': ['-1', '2', '999'],
    'interpolate': ['-1', '101', '2.5'],
    'checkpoint': ['', '0', '-1', 'first', '1.5'],
    'precision': ['', 'fp8', 'bf16', 'float16', 'Float32'],
}


def test_the_table_of_bad_values_covers_every_setting():
    assert sorted(BAD_VALUES) == sorted(EVERY_SETTING)  # a new setting needs its bad values here


@pytest.mark.parametrize('name, value', [(name, value) for name, values in BAD_VALUES.items()
                                         for value in values])
def test_every_settings_bad_values_are_refused_with_its_name(name, value):
    with pytest.raises(InputError) as error:
        configure([f'--{name}={value}'], next(d for d in (DEFAULTS, DCGAN_DEFAULTS, CDCGAN_DEFAULTS) if name in d))
    message = str(error.value)
    assert message.startswith(f'--{name}=') and '\n' not in message
    assert any(says in message for says in ('is out of range: it must be', 'is not of type',
                                            'is not a finite number', 'is empty: it must name'))


@pytest.mark.parametrize('args, says', [
    (['--sample=10', '--evaluate=1000'], 'each replace training: give one of them'),
    (['--checkpoint=best', '--resume=False'], '--resume=False starts over: give one of them'),
    (['--eval_every=10', '--eval_samples=0'], '--eval_samples=0 gives it nothing to score'),
])
def test_settings_that_contradict_each_other_are_refused(args, says):
    with pytest.raises(InputError, match=re.escape(says)):
        configure(args, DEFAULTS)


def test_more_dense_layers_in_G_need_their_units():
    with pytest.raises(InputError, match='more than 1 only with a g_dense_units'):
        configure(['--g_dense_layers=2'], DCGAN_DEFAULTS)
    assert configure(['--g_dense_units=64', '--g_dense_layers=2'], DCGAN_DEFAULTS)['g_dense_layers'] == 2


@pytest.mark.parametrize('asked, says', [
    ({'batch_size': 2001}, '--batch_size=2001 is larger than the 2000 training images in MNIST_data/'),
    ({'eval_samples': 2001}, '--eval_samples=2001 is more than the 2000 training images'),
    ({'evaluate': 2001}, '--evaluate=2001 is more than the 2000 training images'),
])
def test_what_only_the_data_can_tell(asked, says):
    with pytest.raises(InputError, match=says):
        check_against_data({**DEFAULTS, 'eval_samples': 0, **asked}, 2000)
    check_against_data(dict(DEFAULTS, batch_size=2000, eval_samples=2000), 2000)
    check_against_data(dict(DEFAULTS, batch_size=5000, sample=10), 2000)  # sampling uses neither


def test_the_smallest_scored_count_is_allowed():
    configure([f'--evaluate={MIN_SCORED_SAMPLES}'], DEFAULTS)
    configure([f'--eval_samples={MIN_SCORED_SAMPLES}', '--eval_every=5'], DEFAULTS)


def test_the_defaults_pass_the_checks():
    assert configure([], DEFAULTS) == DEFAULTS


def test_a_settings_file_then_overrides(tmp_path):
    path = tmp_path / 'short.py'
    path.write_text('"""a short run"""\n# comments are fine\nlr = 0.001\ntrain_epoch = 20\n'
                    'shuffle = True\neps = 1\n')
    s = configure([str(path), '--train_epoch=5'], DEFAULTS)
    assert s['lr'] == 0.001 and s['shuffle'] is True and s['eps'] == 1.0
    assert s['train_epoch'] == 5  # the command line has the last word


@pytest.mark.parametrize('preset, defaults', [('recipe.py', DEFAULTS), ('dcgan_cpu.py', DCGAN_DEFAULTS),
                                              ('cdcgan_cpu.py', CDCGAN_DEFAULTS)])
def test_the_shipped_presets_are_valid_settings_files(preset, defaults):
    s = configure([f'{ROOT}/config/{preset}'], defaults)
    assert s != defaults


@pytest.mark.parametrize('text, says', [
    ('epochs = 3\n', "unknown setting 'epochs' (epochs = 3 in"),
    ('train_epoch = "ten"\n', "train_epoch = 'ten' in"),
    ('lr = 0.001\nimport os\n', 'line 2: a settings file holds only name = value lines'),
    ('lr = 2 * 0.001\n', 'line 1: the value of lr must be a plain number'),
    ('lr = (\n', 'cannot read the settings file'),
    ('keep_prob = 0.0\n', '--keep_prob=0.0 is out of range'),
])
def test_bad_settings_files_are_explained(tmp_path, text, says):
    path = tmp_path / 'bad.py'
    path.write_text(text)
    with pytest.raises(InputError) as error:
        configure([str(path)], DEFAULTS)
    assert says in str(error.value)


def test_a_missing_settings_file_is_named(tmp_path):
    with pytest.raises(InputError, match='cannot read the settings file .*nowhere.py'):
        configure([str(tmp_path / 'nowhere.py')], DEFAULTS)
