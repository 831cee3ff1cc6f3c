"""bench.py on a story that ran to its end: its bare loop (the story's last line closes its session),
and what its tf.function twin is given; and what the cDCGAN's loop feeds its steps."""
import json
import os

import numpy as np
import pytest
from helpers import CDCGAN, ROOT, run_in_process

import bench


@pytest.fixture(scope='module')
def cdcgan_ran(tiny_mnist, tmp_path_factory):
    """The cDCGAN preset's story run to its end for one epoch in bfloat16: its globals and graph."""
    return run_in_process(os.path.join(ROOT, 'config', 'cdcgan_cpu.py'), f'--data_dir={tiny_mnist}',
                          f'--results_dir={tmp_path_factory.mktemp("r")}', '--train_epoch=1', '--eval_every=0',
                          '--eval_samples=0', '--precision=bfloat16', script=CDCGAN)


def test_the_cdcgan_feeds_its_steps_in_the_placeholders_type(cdcgan_ran):
    ns, _ = cdcgan_ran  # G's last step: its label planes were made from onehot's rows
    fed = {name: ns[name + '_'] for name in ('x', 'z', 'y_label', 'y_fill')}
    assert {name: value.dtype for name, value in fed.items()} == dict.fromkeys(fed, np.float32)
    assert fed['y_fill'].shape == (100, 28, 28, 10)  # 3 MB a step, which float64 would have had converted


def test_the_bare_loop_runs_on_the_graph_of_a_story_that_closed_its_session(cdcgan_ran):
    ns, graph = cdcgan_ran
    closed = ns['sess']
    assert closed._closed

    assert bench.bare_ms_per_iteration(ns, 2) > 0
    assert ns['sess'] is not closed and not ns['sess']._closed
    assert ns['sess'].graph is graph and ns['sess']._config is closed._config  # bfloat16's rewrite kept


def test_the_twin_is_given_the_settings_as_configured_not_the_names_the_story_rebound(tiny_mnist, tmp_path):
    ns, _ = run_in_process(os.path.join(ROOT, 'config', 'cdcgan_cpu.py'), f'--data_dir={tiny_mnist}',
                           f'--results_dir={tmp_path}', '--train_epoch=1', '--eval_every=0', '--eval_samples=0',
                           '--lr=0.0003', script=CDCGAN)
    assert not isinstance(ns['lr'], float)  # the reference's line: lr = tf.train.exponential_decay(lr, ...)

    twin = bench.twin_settings(ns)

    assert twin['lr'] == 0.0003 and twin['g_width'] == 64 and twin['batch_size'] == 100
    json.dumps(twin)  # what the twin's process is handed
