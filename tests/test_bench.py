"""bench.py on a story that ran to its end: its bare loop (the story's last line closes its session),
and what its tf.function twin is given."""
import json
import os

from helpers import CDCGAN, ROOT, run_in_process

import bench


def test_the_bare_loop_runs_on_the_graph_of_a_story_that_closed_its_session(tiny_mnist, tmp_path):
    ns, graph = run_in_process(os.path.join(ROOT, 'config', 'cdcgan_cpu.py'), f'--data_dir={tiny_mnist}',
                               f'--results_dir={tmp_path}', '--train_epoch=1', '--eval_every=0', '--eval_samples=0',
                               '--precision=bfloat16', script=CDCGAN)
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
