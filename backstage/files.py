"""Writing files whole: to a temporary name, then renamed, so that a crash or a full disk never
leaves half a file where a whole one was; and what to say when a write fails."""
import contextlib
import os
import pickle
import re


@contextlib.contextmanager
def replaced_atomically(path):
    """Write to a temporary name, then rename: a crash never leaves half a file at `path`."""
    tmp = path + '.part'
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_pickle(obj, path):
    with replaced_atomically(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(obj, f)


def write_failure(error, path=None):
    """'cannot write PATH (CAUSE)' for an OSError (`path` where it names no file), or for a
    Saver's OpError, whose message holds 'path; cause' among more."""
    if isinstance(error, OSError):
        return f'cannot write {error.filename or path} ({error.strerror or error})'
    path_and_cause = re.search(r'(/\S+?)(\.tempstate\d+)?; ([^\n]+)', error.message)
    return f'cannot write {path_and_cause[1]} ({path_and_cause[3].strip()})' if path_and_cause \
        else f'cannot write a checkpoint ({error.message.splitlines()[0]})'
