"""Run a runtime module as a child of the local host, and stop it when the host goes away.

    python3 path/to/nbops_runtime/jobwrap.py [--grace SECONDS] MODULE [ARGS...]

Runs `python3 -m MODULE ARGS...` in this process (so signals and exit codes are the module's own),
while a thread watches stdin: the local host holds the other end of that pipe and never writes
to it, so end-of-file means the host has exited (even when killed with SIGKILL). The module then
gets SIGTERM, like SageMaker stopping a container, and after SECONDS the whole process group is
killed. Only used by the local host (layers/adapters/local); SageMaker runs the modules directly.

Started by file path rather than with -m, so it works whatever version of nbops_runtime is first
on PYTHONPATH (a training job's runtime channel may predate this file). Standard library only.
"""

import os
import runpy
import signal
import sys
import threading
import time


def _watch_parent(fd, grace):
    # os.read on a private descriptor: a buffered sys.stdin read would hold a lock that
    # interpreter shutdown then waits for.
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    sys.stderr.write("[nbops] the local host went away; stopping\n")
    sys.stderr.flush()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    except OSError:
        pass
    time.sleep(grace)
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    except OSError:
        os._exit(137)


def main(argv):
    grace = 120.0
    if len(argv) >= 2 and argv[0] == "--grace":
        try:
            grace = max(0.0, float(argv[1]))
        except ValueError:
            sys.stderr.write(f"[nbops] jobwrap: --grace {argv[1]!r} is not a number of seconds\n")
            return 2
        argv = argv[2:]
    if not argv:
        sys.stderr.write("[nbops] jobwrap: usage: jobwrap.py [--grace SECONDS] MODULE [ARGS...]\n")
        return 2
    module, args = argv[0], argv[1:]
    # Running as a script put this package folder first on sys.path; its module names (server,
    # notebook, ...) must not shadow anything the notebook or the module imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    # The pipe moves to a private, non-inheritable descriptor; the module and anything it starts
    # (kernels, shell commands) get an empty stdin, as in a SageMaker container.
    watch_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    threading.Thread(target=_watch_parent, args=(watch_fd, grace), name="nbops-parent-watch", daemon=True).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
