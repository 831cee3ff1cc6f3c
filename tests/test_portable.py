"""Wherever learners run the stories: a system without Linux's extras (Windows' and macOS' stand-in:
the POSIX-only modules cannot be imported, /proc cannot be read, the locale is not UTF-8 and
standard output is cp1252, as on Windows when it goes to a file or a pipe), and a notebook kernel,
whose %run executes a story in the kernel's own process, again and again (runpy.run_path here)."""
import ast
import glob
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import CDCGAN, CGAN, DCGAN, ROOT, SCRIPT

from backstage.results_folder import LOCK_NAME

POSIX_ONLY = ('fcntl', 'resource', 'termios', 'pwd', 'grp')
SIMULATION = f'''
import builtins, os, sys
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None  # import fails, as on Windows
_open, _exists = builtins.open, os.path.exists
def _no_proc(path):
    return isinstance(path, str) and path.startswith('/proc')
def open(file, *args, **kwargs):
    if _no_proc(file):
        raise FileNotFoundError(2, 'No such file or directory', file)
    return _open(file, *args, **kwargs)
builtins.open = open
os.path.exists = lambda path: False if _no_proc(path) else _exists(path)
'''
QUICK = ('--batch_size=50', '--eval_samples=0')  # 40 steps an epoch on the tiny data
SMALL_DCGAN = ('--img_size=28', '--g_width=16', '--d_width=16', '--g_dense_units=32', '--d_dense_units=32')
SMALL_CDCGAN = ('--g_width=16', '--d_width=16')


@pytest.fixture(scope='module')
def simulated(tmp_path_factory):
    """The environment of a process on the simulated system: a sitecustomize that hides the
    POSIX-only modules and /proc, the C locale with Python's UTF-8 modes off, cp1252 output."""
    folder = tmp_path_factory.mktemp('simulated')
    (folder / 'sitecustomize.py').write_text(SIMULATION, encoding='utf-8')
    return dict(os.environ, PYTHONPATH=str(folder), LC_ALL='C', PYTHONCOERCECLOCALE='0', PYTHONUTF8='0',
                PYTHONIOENCODING='cp1252')


def run(env, *args, script=SCRIPT):
    return subprocess.run([sys.executable, script, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, encoding='cp1252', timeout=300, check=False)


def test_the_simulation_hides_what_windows_lacks(simulated):
    probe = 'import locale, os, sys; print(sys.stdout.encoding, locale.getpreferredencoding(), ' \
            'os.path.exists("/proc/cpuinfo")); import fcntl'
    done = subprocess.run([sys.executable, '-c', probe], env=simulated, capture_output=True, text=True, check=False)
    assert done.stdout.split() == ['cp1252', 'ANSI_X3.4-1968', 'False']
    assert "ModuleNotFoundError: import of fcntl halted" in done.stderr


def test_the_stories_train_score_and_sample_there(simulated, tiny_mnist, tmp_path):
    """A settings file in UTF-8 as Windows' Notepad writes it (a byte-order mark, CRLF line ends,
    an accent and a dash in a comment), one scored epoch of the fully connected story, an epoch of
    each other story, --sample, and the bench's memory line."""
    settings = tmp_path / 'my_settings.py'
    settings.write_bytes('\ufeff# réglages — the recipe’s lr\r\nlr = 0.0004\r\n'.encode('utf-8'))
    results = str(tmp_path / 'fc')
    done = run(simulated, str(settings), f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--train_epoch=1',
               '--batch_size=50', '--eval_samples=1000', '--precision=bfloat16')
    assert done.returncode == 0, done.stderr[-2000:]
    assert '[1/1] - ptime' in done.stdout and 'Fréchet distance' in done.stdout
    assert "precision='bfloat16': this system does not say whether its CPU has AMX" in done.stdout
    sampled = run(simulated, f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--sample=10')
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    assert os.path.getsize(os.path.join(results, 'samples.npy')) == 128 + 10 * 784 * 4
    dcgan = run(simulated, *SMALL_DCGAN, f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path / "dc"}',
                '--train_epoch=1', *QUICK, script=DCGAN)
    assert dcgan.returncode == 0 and '[1/1] - ptime' in dcgan.stdout, dcgan.stderr[-2000:]
    for script, small in ((CGAN, ()), (CDCGAN, SMALL_CDCGAN)):
        conditional = run(simulated, *small, f'--data_dir={tiny_mnist}', f'--results_dir={tmp_path / os.path.basename(script)}',
                          '--train_epoch=1', *QUICK, script=script)
        assert conditional.returncode == 0 and '[1/1] - ptime' in conditional.stdout, conditional.stderr[-2000:]
    memory = subprocess.run([sys.executable, '-c', 'import bench; print(bench.peak_memory())'], env=simulated,
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert memory.stdout == 'peak memory: not measured here (no resource module, as on Windows)\n', memory.stderr


def test_one_run_per_folder_ctrl_c_and_resume_there(simulated, tiny_mnist, tmp_path):
    """filelock's lock without fcntl is its soft one (a file that exists while held; with a
    warning): a second run is still refused in one line, and Ctrl-C lets go of it."""
    results = str(tmp_path / 'r')
    args = [f'--data_dir={tiny_mnist}', f'--results_dir={results}', '--batch_size=10', '--eval_samples=0']
    first = subprocess.Popen([sys.executable, SCRIPT, *args, '--train_epoch=50'], env=simulated, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding='cp1252')
    try:
        for _ in range(3600):  # up to 3 minutes to the first checkpoint
            if os.path.exists(os.path.join(results, 'checkpoints', 'checkpoint')) or first.poll() is not None:
                break
            time.sleep(0.05)
        second = run(simulated, *args, '--train_epoch=50')
        assert first.poll() is None, 'the first run ended before the second one was tried'
    finally:
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    assert second.returncode == 2 and 'Traceback' not in second.stderr
    assert f'gan_mnist.py: error: {results}/ is in use by another training run (another process)' in second.stderr
    assert first.returncode == 130 and 'Traceback' not in err, err[-2000:]
    assert 'Run the same command to resume' in out
    assert not os.path.exists(os.path.join(results, LOCK_NAME))  # the soft lock, let go of
    done = len(os.listdir(os.path.join(results, 'Fixed_results')))
    resumed = run(simulated, *args, f'--train_epoch={done + 1}')
    assert resumed.returncode == 0 and 'resuming from epoch' in resumed.stdout, resumed.stderr[-2000:]


NOTEBOOK = '''
import os, runpy, signal, sys, threading, time
def kernels_own(signum, frame):  # a kernel's interrupt handler, say
    raise KeyboardInterrupt
signal.signal(signal.SIGINT, kernels_own)
hook = sys.excepthook
def run(*argv):  # %run SCRIPT ARGS
    sys.argv = list(argv)
    try:
        runpy.run_path(argv[0], run_name='__main__')
        return 0
    except SystemExit as e:
        return e.code
    finally:
        assert signal.getsignal(signal.SIGINT) is kernels_own and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert sys.excepthook is hook
'''


def test_a_notebook_kernel_runs_the_stories_again_and_again(tiny_mnist, tmp_path):
    """In one process, as a kernel's %run: a story twice, a refusal then the same story again,
    the other stories after the fully connected one, a kernel interrupt in training then the resume; each
    from a graph of its own, leaving the kernel's signal handlers and excepthook as they were, and
    the lock free for any other process."""
    data = f'--data_dir={tiny_mnist}'
    program = NOTEBOOK + textwrap.dedent(f'''
        r, d, c = {str(tmp_path / 'r')!r}, {str(tmp_path / 'd')!r}, {str(tmp_path / 'c')!r}
        print('codes', run('gan_mnist.py', {data!r}, '--results_dir=' + r, '--train_epoch=1', *{QUICK!r}),
              run('gan_mnist.py', {data!r}, '--results_dir=' + r, '--train_epoch=2', *{QUICK!r}),
              run('gan_mnist.py', '--lr=-1'),
              run('gan_mnist.py', {data!r}, '--results_dir=' + r, '--train_epoch=3', *{QUICK!r}),
              run('dcgan_mnist.py', {data!r}, '--results_dir=' + d, '--train_epoch=1', *{QUICK + SMALL_DCGAN!r}),
              run('cgan_mnist.py', {data!r}, '--results_dir=' + c, '--train_epoch=1', *{QUICK!r}),
              run('cdcgan_mnist.py', {data!r}, '--results_dir=' + c + 'd', '--train_epoch=1', *{QUICK + SMALL_CDCGAN!r}))
        checkpoint = os.path.join(r, 'checkpoints', 'gan-4.index')
        def interrupt():  # the kernel's interrupt button, once epoch 4 is saved
            while not os.path.exists(checkpoint):
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt, daemon=True).start()
        print('interrupted', run('gan_mnist.py', {data!r}, '--results_dir=' + r, '--train_epoch=100', *{QUICK!r}))
    ''')
    done = subprocess.run([sys.executable, '-c', program], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'codes 0 0 2 0 0 0 0\n' in done.stdout
    assert 'gan_mnist.py: error: --lr=-1.0 is out of range: it must be greater than 0.\n' in done.stderr
    assert 'Traceback' not in done.stderr
    assert 'resuming from epoch 2 of 3' in done.stdout and '[1/1] - ptime' in done.stdout
    assert 'Ctrl-C: stopped in epoch ' in done.stdout and 'interrupted 130\n' in done.stdout
    for results in ('r', 'd', 'c', 'cd'):  # another process can train there at once
        probe = 'import filelock, sys; filelock.FileLock(sys.argv[1], timeout=0).acquire()'
        lock_file = str(tmp_path / results / LOCK_NAME)
        assert subprocess.run([sys.executable, '-c', probe, lock_file], check=False).returncode == 0


def project_python_files():
    return [path for path in glob.glob(os.path.join(ROOT, '**', '*.py'), recursive=True)
            if '/.' not in path.replace(ROOT, '')]


def test_every_character_of_the_code_prints_in_cp1252():
    """What the scripts print comes from their source: kept to what Windows' cp1252 can print
    (é yes; arrows and other symbols no), so no line fails where output goes to a file or pipe."""
    unprintable = {}
    for path in project_python_files():
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for character in set(text):
            try:
                character.encode('cp1252')
            except UnicodeEncodeError:
                unprintable.setdefault(os.path.relpath(path, ROOT), []).append(character)
    assert not unprintable


def test_every_text_file_is_opened_with_its_encoding():
    """open() in text mode without an encoding takes the locale's, cp1252 on Windows."""
    unnamed = []
    for path in project_python_files():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, 'id', None) == 'open':
                mode = call.args[1].value if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) else 'r'
                if 'b' not in mode and not any(keyword.arg == 'encoding' for keyword in call.keywords):
                    unnamed.append(f'{os.path.relpath(path, ROOT)}:{call.lineno}')
    assert not unnamed
