"""Ctrl-C and SIGTERM during a training run: the first asks the loop to stop after its step, the
second stops at once; and the handlers found before the run put back however it ends, in a
notebook kernel too (which lives on after a run its error ended)."""
import os
import signal
import sys


class StopRequest:
    """Ctrl-C or SIGTERM ask the loop to stop after the current step, so that an interrupted run
    keeps its last checkpoint whole and writes its plot and GIF. Asked twice, it stops at once,
    in one line, after putting back the handlers it found (a notebook kernel's own among them:
    release() does that) and calling let_go. `story`, the code of the story's module (whose
    frame runs the loop): a signal that finds it no longer running, a run that an error in the
    story's own lines ended in a kernel (which lives on), is handled as before the run, the
    handlers put back first; so is the next run's start."""
    installed = None  # the StopRequest whose handlers are in place, if any

    def __init__(self, let_go, story=None):
        left = StopRequest.installed
        if left:  # by a run that ended without letting go
            left.release()
            left.let_go()
        self.signal, self.let_go, self.story = None, let_go, story
        self.found = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in self.found:
            signal.signal(sig, self.handle)
        StopRequest.installed = self

    def handle(self, signum, frame):
        if self.story is not None and not running(self.story, frame):
            self.release()  # the handlers found back in place, then the signal is theirs
            self.let_go()
            handler = signal.getsignal(signum)
            if callable(handler):
                return handler(signum, frame)
            if handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)
            return None
        if self.signal:
            self.release()
            self.let_go()
            print(f'{os.path.basename(sys.argv[0])}: {signal.Signals(signum).name} again: '
                  f'stopped at once; the epochs saved before stay whole.', file=sys.stderr)
            raise SystemExit(128 + signum)
        self.signal = signum
        return None

    def release(self):
        """Ctrl-C and SIGTERM do what they did before the run (a handler set outside Python: the default)."""
        for sig, handler in self.found.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if StopRequest.installed is self:
            StopRequest.installed = None


def running(code, frame):
    """Whether `code` runs in frame or in a frame that called it."""
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    return frame is not None
