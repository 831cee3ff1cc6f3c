"""configurator: --name=value overrides and settings files over the script's defaults, and the
checks on their values."""
import pytest
from helpers import ROOT, script_defaults

from configurator import InputError, configure

DEFAULTS = script_defaults()


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


@pytest.mark.parametrize('name, value', [
    ('batch_size', 0), ('lr', 0.0), ('lr', -1e-3), ('train_epoch', 0), ('keep_prob', 0.0),
    ('keep_prob', 1.5), ('eps', -0.1), ('leaky_slope', 1.0), ('adam_beta1', 1.0),
    ('keep_checkpoints', 0), ('sample', -1), ('evaluate', 1), ('eval_samples', 1), ('d_lr_ratio', 0.0),
])
def test_out_of_range_values_are_refused(name, value):
    with pytest.raises(InputError, match=f'--{name}={value!r} is out of range'):
        configure([f'--{name}={value}'], DEFAULTS)


def test_sample_and_evaluate_together_are_refused():
    with pytest.raises(InputError, match='give one of them'):
        configure(['--sample=10', '--evaluate=10'], DEFAULTS)


def test_the_defaults_pass_the_checks():
    assert configure([], DEFAULTS) == DEFAULTS


def test_a_settings_file_then_overrides(tmp_path):
    path = tmp_path / 'short.py'
    path.write_text('"""a short run"""\n# comments are fine\nlr = 0.001\ntrain_epoch = 20\n'
                    'shuffle = True\neps = 1\n')
    s = configure([str(path), '--train_epoch=5'], DEFAULTS)
    assert s['lr'] == 0.001 and s['shuffle'] is True and s['eps'] == 1.0
    assert s['train_epoch'] == 5  # the command line has the last word


def test_the_shipped_recipe_is_a_valid_settings_file():
    s = configure([f'{ROOT}/config/recipe.py'], DEFAULTS)
    assert s != DEFAULTS


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
