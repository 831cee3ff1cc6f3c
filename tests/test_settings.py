"""--name=value overrides of the settings at the top, and the checks on their values."""
import pytest

import gan_mnist
from gan_mnist import InputError, apply_overrides, check_settings


def test_overrides_set_each_type():
    apply_overrides(['--train_epoch=3', '--lr=1e-3', '--eps=1', '--shuffle=True',
                     '--resume=false', '--results_dir=/tmp/1e3'])
    assert gan_mnist.train_epoch == 3 and gan_mnist.lr == 0.001
    assert gan_mnist.eps == 1.0 and type(gan_mnist.eps) is float  # an int is fine for a float
    assert gan_mnist.shuffle is True and gan_mnist.resume is False
    assert gan_mnist.results_dir == '/tmp/1e3'  # strings are taken verbatim


def test_the_defaults_are_restored_between_tests():
    assert gan_mnist.train_epoch == 100 and gan_mnist.results_dir == 'results'


def test_settings_are_the_plain_names_at_the_top():
    assert list(gan_mnist.SETTINGS)[:5] == ['batch_size', 'lr', 'train_epoch', 'keep_prob', 'eps']
    assert {'seed', 'data_dir', 'results_dir', 'leaky_slope', 'adam_beta1', 'shuffle',
            'sample', 'evaluate'} <= set(gan_mnist.SETTINGS)


@pytest.mark.parametrize('arg, says', [
    ('--epochs=3', "unknown setting '--epochs=3'"),
    ('train_epoch=3', "unknown setting 'train_epoch=3'"),
    ('--train_epoch', '--train_epoch needs a value'),
    ('--train_epoch=three', '--train_epoch=three is not of type int'),
    ('--batch_size=1.5', '--batch_size=1.5 is not of type int'),
    ('--lr=fast', '--lr=fast is not of type float'),
    ('--shuffle=1', '--shuffle=1 is not of type bool'),
])
def test_bad_overrides_name_the_setting_and_list_the_valid_ones(arg, says):
    with pytest.raises(InputError) as error:
        apply_overrides([arg])
    assert says in str(error.value)
    if 'needs a value' not in says:
        assert 'batch_size, lr, train_epoch' in str(error.value)


@pytest.mark.parametrize('name, value', [
    ('batch_size', 0), ('lr', 0.0), ('lr', -1e-3), ('train_epoch', 0), ('keep_prob', 0.0),
    ('keep_prob', 1.5), ('eps', -0.1), ('leaky_slope', 1.0), ('adam_beta1', 1.0),
    ('keep_checkpoints', 0), ('sample', -1), ('evaluate', 1), ('eval_samples', 1),
])
def test_out_of_range_values_are_refused(name, value):
    setattr(gan_mnist, name, value)
    with pytest.raises(InputError, match=f'--{name}={value!r} is out of range'):
        check_settings()


def test_sample_and_evaluate_together_are_refused():
    gan_mnist.sample, gan_mnist.evaluate = 10, 10
    with pytest.raises(InputError, match='give one of them'):
        check_settings()


def test_the_defaults_pass_the_checks():
    check_settings()
