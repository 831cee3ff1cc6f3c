"""Fixtures shared by the test files; the helpers they share are in helpers.py."""
import pytest
import tensorflow.compat.v1 as tf
from helpers import write_mnist

tf.disable_eager_execution()  # the script's graph mode, for the graphs the tests build too


@pytest.fixture(scope='session')
def tiny_mnist(tmp_path_factory):
    """5,000 validation + 2,000 training images and 500 test images."""
    folder = str(tmp_path_factory.mktemp('tiny_mnist'))
    write_mnist(folder, 7000, 500)
    return folder
