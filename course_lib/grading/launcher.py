"""``nbgrader`` commands forked from a process that imported nbgrader and torch once, instead of started afresh.

A fresh ``nbgrader autograde`` spent about 3 of its 8 seconds of CPU before and after grading: 0.8 s starting
nbgrader, 1.5 s importing torch for the trusted checker (``checks.py`` compares with torch) and 0.9 s tearing the
interpreter down at exit. Here a multiprocessing *forkserver* imports those modules once; each command is a fresh
fork of it (nothing from one submission is left in the next: every command starts from the same untouched state),
with its own session, environment, working folder and log file, and leaves with ``os._exit`` after nbgrader's
``atexit`` handlers ran, skipping only the teardown. Student code never runs in these processes: the kernel and
the answer server are sandboxed programs they start (:mod:`course_lib.grading.sandbox`).

The forkserver is for the ``make grade`` command (``python -m course_lib.grading``, whose ``main`` turns it on with
:func:`use_forkserver`) and for callers that ask (``fork=True``). It is off for other callers of the driver's
functions: multiprocessing runs a script's ``__main__`` again in every fork, and a script that calls
``grade_class`` without an ``if __name__ == "__main__"`` guard would grade again in each. Where a forkserver
cannot be had (a daemonic process, such as a Dask worker, may not have children; a platform without ``fork``) or
``COURSE_GRADE_FORKSERVER=off``, the command runs as a plain ``nbgrader`` process.
Measured in bench/results/grading (issue 21).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

PRELOAD = ["torch", "nbgrader.apps.nbgraderapp", "course_lib.grading.checker"]
SWITCH = "COURSE_GRADE_FORKSERVER"  # "off": a plain nbgrader process per command
STALLED = 124  # the exit code a command gets when it had to be stopped past its time
STALL_NOTE = "was stopped"  # ... and the words its log then ends with

_lock = threading.Lock()
_context = None
_default = False  # see use_forkserver


def use_forkserver(on: bool = True) -> None:
    """Fork this process's nbgrader commands from the forkserver by default (``make grade``'s ``main`` does)."""
    global _default
    _default = bool(on)


def forking(fork: bool | None, env: dict) -> bool:
    """Whether a command asked for with ``fork`` (None: the default of :func:`use_forkserver`) and ``env`` is
    forked: not where ``env`` says ``COURSE_GRADE_FORKSERVER=off``, nor in a daemonic process (which may not have
    children)."""
    import multiprocessing  # noqa: PLC0415

    wanted = _default if fork is None else fork
    return (bool(wanted) and env.get(SWITCH, "").lower() not in ("off", "0", "no")
            and not multiprocessing.current_process().daemon)


def _forkserver(wanted: bool):
    """The multiprocessing context whose server has the modules imported, or None where there can be none."""
    global _context
    import multiprocessing  # noqa: PLC0415

    if not wanted:
        return None
    with _lock:
        if _context is None:
            try:
                _context = multiprocessing.get_context("forkserver")
            except ValueError:  # no forkserver on this platform (Windows)
                _context = False
            else:
                _context.set_forkserver_preload(PRELOAD)
    return _context or None


def limit_grader(pid: int, env: dict) -> None:
    """Cap the data memory of the grader process ``pid`` (0: this one) at ``Limits.grader_mb`` of ``env``: what a
    kernel sends arrives there, outside the sandbox. The sandboxed programs it starts lift the cap again
    (``sandbox.release_grader_limit``)."""
    from .sandbox import Limits  # noqa: PLC0415

    try:
        import resource  # noqa: PLC0415 (POSIX)

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        soft = Limits.from_env(env).grader_mb * 2**20
        resource.prlimit(pid, resource.RLIMIT_DATA, (soft if hard == resource.RLIM_INFINITY else min(soft, hard),
                                                     hard))
    except (ImportError, AttributeError, ProcessLookupError, PermissionError, OSError):
        pass  # no prlimit here (macOS), or already gone


def _child(args: list[str], env: dict, cwd: str, log_path: str) -> None:
    """In the fork: become ``nbgrader ARGS`` in ``cwd`` with ``env``, output to ``log_path``; never returns."""
    code = 1
    try:
        limit_grader(0, env)
        os.setsid()  # a process group of its own, killed as one past its time (kill_group)
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["nbgrader", *args]
        from nbgrader.apps.nbgraderapp import main  # noqa: PLC0415 (imported by the server already)

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                sys.stderr.write(exc.code + "\n")
        import atexit  # noqa: PLC0415

        atexit._run_exitfuncs()  # what a normal exit runs (nbgrader's and the gradebook's handlers)
    except BaseException:  # noqa: BLE001 (anything: its traceback in the log, and a failing exit code)
        import traceback  # noqa: PLC0415

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 (a closed stream: nothing more to say)
                pass
        os._exit(code)


def run(command: list[str], env: dict, cwd=None, timeout: float | None = None, *, grader: bool = False
        ) -> tuple[int, str, float]:
    """Run ``command``: ``(exit code, log, seconds)``; past ``timeout`` seconds kill it and its process group (the
    kernel, in a session of its own, dies with its parent: see ``sandbox._die_with_parent``) and return
    :data:`STALLED` with a log that says so. ``grader``: it is an nbgrader process (:func:`limit_grader`)."""
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    if grader:  # set at once: nbgrader imports for a second before it starts any kernel
        limit_grader(proc.pid, env)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        try:
            log, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a survivor still holds the pipe: give up on the rest of the log
            log = ""
        return STALLED, log + _stalled(command, timeout), time.monotonic() - start
    return proc.returncode, log, time.monotonic() - start


def _stalled(command: list[str], timeout: float) -> str:
    return (f"\n{os.path.basename(command[0])} {' '.join(command[1:3])} {STALL_NOTE} after {timeout:.0f} s: it had "
            "not finished, although the notebook's own time limit had passed (the grader stalled, not the student's "
            "code)\n")


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # gone already; Windows has no killpg
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def nbgrader(args: list[str], env: dict, cwd=None, timeout: float | None = None, *, fork: bool | None = None
             ) -> tuple[int, str, float]:
    """``nbgrader ARGS`` in ``cwd`` with ``env``: ``(exit code, log, seconds)``; past ``timeout`` seconds its process
    group is killed and the code is :data:`STALLED` (the log so far is returned). ``fork``: from the forkserver
    (default: as :func:`use_forkserver` set it; off unless ``make grade``'s command turned it on)."""
    cwd = os.path.abspath(cwd or os.getcwd())
    context = _forkserver(forking(fork, env))
    if context is None:
        return run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), *args], env, cwd, timeout,
                   grader=True)
    with tempfile.NamedTemporaryFile(prefix="convnet-nbgrader-", suffix=".log") as log:
        start = time.monotonic()
        proc = context.Process(target=_child, args=(list(args), dict(env), cwd, log.name), daemon=False)
        proc.start()
        proc.join(timeout)
        stalled = proc.exitcode is None
        if stalled:  # still running past its time: the whole group goes
            kill_group(proc.pid)
            proc.join(30)
        code = STALLED if stalled else proc.exitcode
        seconds = time.monotonic() - start
        with open(log.name, errors="replace") as f:
            text = f.read()
    return code, text + (_stalled(["nbgrader", *args], timeout) if stalled else ""), seconds
