"""The trusted checker: every graded test cell is decided here, in the grader's process, never in student code.

nbgrader (like otter-grader) runs the tests in the student's own kernel, where a submission can rewrite the
kernel (``run_code``, ``showtraceback``, ``sys.displayhook``), patch ``assert_close``, or return an ``int`` whose
``__eq__`` is always true. Here the notebook still runs in the sandboxed kernel (its visible tests are for the
student), but the *verdict* of each graded test cell comes from a check written by the instructor in
``solutions/<lecture>/checks.py`` (never released, never copied into the sandbox):

1. :func:`withheld_course_lib` copies ``course_lib`` with the bodies of the lecture's reference functions replaced
   by a ``raise``: the student's side cannot reach the reference by any route, ``original()`` included;
2. :class:`Student` starts the answer server (:mod:`course_lib.grading.answers`) in a sandbox of its own over that
   copy, loads the submission's answer cells into it, and calls the student's functions through a channel that
   carries plain data only;
3. each check compares what came back with the reference on the checker's side (``torch.testing.assert_close``
   of the checker's own torch, exact types with ``type(x) is int``);
4. :class:`TrustedVerdicts` (an autograde preprocessor, after execution) writes the verdict into the cell: a
   cell passes only if its check passed *and* the cell neither raised nor wrote to stderr in the notebook.
   Anything in the cell's own outputs that nbgrader would read as points (an ``execute_result``) is made a
   plain display, so only the verdict counts.

A checks file defines ``CHECKS = {grade_id: check}``, where ``check(student)`` raises ``AssertionError`` with a
message for the student when the answer is wrong, and ``REFERENCES = {grade_id: "module:function"}``, the
course_lib functions withheld while that lecture is graded.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import pathlib
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import time

from nbformat.notebooknode import NotebookNode

from .answers import MAX_LINE, ChannelError, Unsupported, decode, encode
from .sandbox import STOPPED_AT

COURSE_LIB = pathlib.Path(__file__).resolve().parents[1]
VERDICT = "CheckFailed"  # the error name of a failed verdict in the graded notebook
PASSED_NOTE = "trusted checker: passed"
STOPPED_NOTE = ("not checked: the grader stopped your notebook before this cell ran (a time, memory or process "
                "limit; the first stopped cell says which)")
# Seconds the answer server may take to start and run the answer cells: importing torch and course_lib alone took
# over 5 s on a busy CI machine; a top-level endless loop in an answer cell costs this much once per submission.
LOAD_S = 60.0


class StudentError(AssertionError):
    """The student's function raised, hung, or answered with something the channel does not carry."""


def expect_close(got, want, why: str, **tolerance) -> None:
    """``torch.testing.assert_close`` (shape and dtype checked) of a tensor the student returned against the
    checker's own, with the case in the message; a check's one way to compare tensors."""
    import torch  # noqa: PLC0415 (the grader has it; this module's channel code does not need it)

    assert type(got) is torch.Tensor, f"{why}: expected a tensor, got {type(got).__name__}"
    try:
        torch.testing.assert_close(got, want, **tolerance)
    except AssertionError as exc:
        raise AssertionError(f"{why}: {exc}") from None


class Source:
    """A small function the check writes as source (``Source("lambda y: 0.3 * y")``), built on the student's side:
    the channel carries no code objects. It runs there, so a check may only use it as an *input*."""

    def __init__(self, code: str):
        self.code = code


def _encode_arg(value):
    if isinstance(value, Source):
        return {"$callable": value.code}
    if type(value) in (list, tuple):
        encoded = [_encode_arg(v) for v in value]
        return encoded if type(value) is list else {"$tuple": encoded}
    return encode(value)


class Student:
    """The answer server of one submission, and the calls a check makes to it.

    ``call(name, *args, **kwargs)`` returns the plain value the student's ``name`` returned (tensors rebuilt by
    the checker); ``call_with_grad(name, args, grad=[i])`` also returns the gradients of its scalar result with
    respect to the tensor arguments ``i`` (``None`` when the result cannot backpropagate). A call that raises,
    hangs past ``call_s`` seconds or returns what the channel does not carry raises :class:`StudentError`.
    Loading the answer cells has its own, longer budget, ``load_s``: they import torch and course_lib, which on a
    busy grading machine alone can take longer than a call should.
    """

    def __init__(self, command: list[str], *, call_s: float = 60, load_s: float = LOAD_S, env: dict | None = None):
        self.call_s = call_s
        self.load_s = max(load_s, call_s)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        self._buffer = b""

    # -- the channel
    def _request(self, message: dict, timeout: float) -> dict:
        """Send ``message`` with a fresh random ``id`` and read the reply, which must echo it: a line that student
        code wrote into the channel in advance (the protocol's file descriptor is in its process) cannot know the
        id, so it is refused instead of being read as the answer to a later request."""
        if self.process.poll() is not None:
            raise StudentError(f"the answer process has stopped (exit {self.process.returncode})")
        nonce = secrets.token_hex(16)
        try:
            self.process.stdin.write(json.dumps({**message, "id": nonce}, allow_nan=False).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise StudentError("the answer process has stopped") from None
        line = self._read_line(timeout)
        try:
            answer = json.loads(line)
        except ValueError:
            raise StudentError("the answer was not readable") from None
        if type(answer) is not dict or type(answer.get("ok")) is not bool:
            raise StudentError("the answer was not readable")
        if answer.get("id") != nonce:
            self.close()
            raise StudentError("a reply that the answer server did not send: code wrote into the checker's channel")
        return answer

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise StudentError(f"no answer within {timeout:.0f} s (an endless loop?)")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise StudentError("the answer process stopped before answering (a crash or a limit)")
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                self.close()
                raise StudentError(f"the answer was larger than the channel's {MAX_LINE // 2**20} MiB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def load(self, cells: list[dict], timeout: float | None = None) -> list[str]:
        """Run the answer cells (and the other cells' imports) on the student's side; their errors, as text."""
        answer = self._request({"op": "load", "cells": cells}, timeout or self.load_s)
        errors = answer.get("errors") if answer["ok"] else [str(answer.get("error"))]
        return [str(e)[:400] for e in errors] if type(errors) is list else []

    def _call(self, name: str, args, kwargs, grad) -> dict:
        message = {"op": "call", "name": name, "args": [_encode_arg(a) for a in args],
                   "kwargs": {k: _encode_arg(v) for k, v in kwargs.items()}, "grad": list(grad)}
        answer = self._request(message, self.call_s)
        if not answer["ok"]:
            raise StudentError(f"{name}(...) raised {str(answer.get('error'))[:400]}")
        return answer

    def _value(self, name: str, raw):
        try:
            value = decode(raw)
        except (ChannelError, ValueError, TypeError) as exc:
            raise StudentError(f"{name}(...) returned something the checker cannot read: {exc}") from None
        return value

    def call(self, name: str, *args, **kwargs):
        answer = self._call(name, args, kwargs, ())
        value = self._value(name, answer.get("value"))
        if isinstance(value, Unsupported):
            raise StudentError(f"{name}(...) returned {value.kind}, which the specification does not allow")
        return value

    def call_with_grad(self, name: str, args: list, *, grad: list[int], **kwargs):
        answer = self._call(name, args, kwargs, grad)
        value = self._value(name, answer.get("value"))
        grads = answer.get("grads")
        grads = None if grads is None else [self._value(name, g) for g in grads]
        return value, grads

    def function(self, name: str):
        """``student.function("f")(x)`` is ``student.call("f", x)``."""
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        from . import sandbox  # noqa: PLC0415

        sandbox.remove_cgroups(os.getpid(), self.process.pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---------------------------------------------------------------------------------------------------------------
# Checks files and the withheld course_lib.


def load_checks(path: str | pathlib.Path) -> tuple[dict, dict]:
    """``(CHECKS, REFERENCES)`` of a lecture's checks file (the instructor's, outside every sandbox)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no trusted checks for this lecture: expected {path}")
    spec = importlib.util.spec_from_file_location(f"_convnet_checks_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checks, references = getattr(module, "CHECKS", None), getattr(module, "REFERENCES", {})
    if not isinstance(checks, dict) or not all(callable(c) for c in checks.values()):
        raise ValueError(f"{path} must define CHECKS = {{grade_id: check(student)}}")
    return checks, dict(references)


def withheld_course_lib(references, dest: str | pathlib.Path) -> pathlib.Path:
    """A copy of ``course_lib`` under ``dest`` where each ``"module:function"`` in ``references`` keeps its
    signature and docstring but its body raises: what the answer server imports while a lecture is graded.

    Only ``.py`` and ``.txt`` files are copied (no ``__pycache__``: compiled bytecode would still hold the body).
    """
    dest = pathlib.Path(dest) / "course_lib"
    for source in COURSE_LIB.rglob("*"):
        if source.is_file() and source.suffix in (".py", ".txt") and "__pycache__" not in source.parts:
            target = dest / source.relative_to(COURSE_LIB)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    by_file: dict[pathlib.Path, set[str]] = {}
    for qualname in references:
        module, _, function = qualname.replace(":", ".").rpartition(".")
        parts = module.split(".")
        if parts[0] != "course_lib":
            raise ValueError(f"a withheld reference must be a course_lib function; got {qualname!r}")
        path = dest.joinpath(*parts[1:]).with_suffix(".py")
        if not path.is_file():
            path = dest.joinpath(*parts[1:], "__init__.py")
        by_file.setdefault(path, set()).add(function)
    for path, functions in by_file.items():
        lines = path.read_text().splitlines(keepends=True)
        tree = ast.parse("".join(lines))
        found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in functions]
        missing = functions - {n.name for n in found}
        if missing:
            raise ValueError(f"{path.relative_to(dest.parent)} defines no function {sorted(missing)}")
        for node in sorted(found, key=lambda n: -n.lineno):  # bottom up: line numbers above stay valid
            body = node.body
            first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr)
                                and isinstance(getattr(body[0], "value", None), ast.Constant)) else body[0]
            indent = " " * first.col_offset
            lines[first.lineno - 1:node.end_lineno] = [
                f"{indent}raise RuntimeError('course_lib.{node.name} is withheld while this exercise is graded: an "
                f"answer must compute it itself')\n"]
        path.write_text("".join(lines))
    return dest


def answer_cells(nb, stopped_at: int | None = None) -> list[dict]:
    """What the answer server runs: every code cell up to the last answer cell, answers whole, others' imports.

    ``stopped_at``: the index (in ``nb.cells``) of the cell where the grader's limits stopped the notebook. That
    cell and the ones after it never finished in the notebook and are left out: an endless loop costs the notebook's
    time limit once, not the load's limit (:data:`LOAD_S`) again, and their checks fail as the cells did."""
    cells = [c for c in nb.cells[:stopped_at] if c.cell_type == "code"]
    solution = [bool(c.metadata.get("nbgrader", {}).get("solution")) for c in cells]
    last = max((i for i, s in enumerate(solution) if s), default=-1)
    return [{"source": c.source, "solution": s} for c, s in zip(cells[:last + 1], solution[:last + 1])]


def graded_test_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata.get("nbgrader", {}).get("solution")]


def run_checks(checks: dict, student: Student, grade_ids: list[str]) -> dict[str, tuple[bool, str]]:
    """``{grade_id: (passed, message)}``: each check run against the student's answers."""
    verdicts = {}
    for grade_id in grade_ids:
        check = checks.get(grade_id)
        if check is None:
            verdicts[grade_id] = (False, f"no trusted check for {grade_id!r} (tell your instructor)")
            continue
        try:
            check(student)
            verdicts[grade_id] = (True, PASSED_NOTE)
        except StudentError as exc:
            verdicts[grade_id] = (False, f"your code: {exc}")
        except AssertionError as exc:
            verdicts[grade_id] = (False, str(exc) or "a check failed")
        except Exception as exc:  # noqa: BLE001 (e.g. a wrong shape the reference comparison trips over)
            verdicts[grade_id] = (False, f"{type(exc).__name__}: {str(exc)[:300]}")
    return verdicts


def apply_verdict(cell, passed: bool, message: str) -> bool:
    """Write the verdict into a graded test cell so that nbgrader scores exactly it; True if the cell passes.

    The cell fails if its check failed, or if it raised or wrote to stderr in the notebook, whatever came first.
    Its ``execute_result`` outputs (which nbgrader would read as partial points) become displays.
    """
    outputs, clean = [], True
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" or (output.get("output_type") == "stream"
                                                    and output.get("name") == "stderr"):
            clean = False
        if output.get("output_type") == "execute_result":
            output = NotebookNode(output_type="display_data", data=output.get("data", {}),
                                  metadata=output.get("metadata", {}))
        outputs.append(output)
    if passed and not clean:
        passed, message = False, "the cell raised an error or wrote to stderr when it ran in your notebook"
    if passed:
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=f"[{message}]\n"))
    else:
        outputs.insert(0, NotebookNode(output_type="error", ename=VERDICT, evalue=message,
                                       traceback=[f"{VERDICT}: {message}"]))
    cell.outputs = outputs
    return passed


def start_student(withheld_root: pathlib.Path, *, call_s: float = 60, load_s: float = LOAD_S) -> Student:
    """The answer server, sandboxed like the kernel where bubblewrap works (else a bare process, as warned)."""
    from . import sandbox  # noqa: PLC0415

    script = pathlib.Path(__file__).with_name("answers.py")
    limits = sandbox.Limits.from_env()
    ok, _ = sandbox.availability()
    if ok:
        command = sandbox.answers_command(str(withheld_root / "course_lib"), limits=limits)
        env = None
    else:
        command = [sys.executable, "-I", str(script), str(withheld_root)]
        env = {k: v for k, v in os.environ.items() if k in sandbox.ENV_KEEP}
    return Student(command, call_s=call_s, load_s=load_s, env=env)


def check_notebook(nb, checks_path, *, call_s: float = 60, load_s: float = LOAD_S,
                   stopped_at: int | None = None) -> dict[str, tuple[bool, str]]:
    """Every graded test cell of ``nb`` decided by the lecture's checks, against its answer cells.

    ``call_s`` bounds each call of a student's function, ``load_s`` the running of the answer cells;
    ``stopped_at``: the cell where the grader's limits stopped the notebook (see :func:`answer_cells`); the graded
    test cells from there on are not checked (they never ran) and fail with :data:`STOPPED_NOTE`.
    """
    checks, references = load_checks(checks_path)
    tests = graded_test_cells(nb)
    position = {id(c): i for i, c in enumerate(nb.cells)}
    # Test cells the stopped notebook never reached are not checked: the cell says why (BoundedExecute's line).
    ids = [c.metadata["nbgrader"]["grade_id"] for c in tests]
    unreached = {g for g, c in zip(ids, tests) if stopped_at is not None and position[id(c)] >= stopped_at}
    grade_ids = [g for g in ids if g not in unreached]
    verdicts = {g: (False, STOPPED_NOTE) for g in unreached}
    if not grade_ids:  # nothing left to check: no answer server
        return verdicts
    with tempfile.TemporaryDirectory(prefix="convnet-withheld-") as tmp:
        withheld = withheld_course_lib(references.values(), tmp)
        os.chmod(tmp, 0o755)
        for folder, _, files in os.walk(withheld):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        with start_student(pathlib.Path(tmp), call_s=call_s, load_s=load_s) as student:
            try:
                errors = student.load(answer_cells(nb, stopped_at))
            except StudentError as exc:
                return {**verdicts, **{g: (False, f"your answer cells could not be loaded: {exc}") for g in grade_ids}}
            checked = run_checks(checks, student, grade_ids)
    if errors:  # say why a check found no function, next to its verdict
        note = "; when your answer cells ran: " + " | ".join(errors)[:600]
        checked = {g: (ok, msg if ok else msg + note) for g, (ok, msg) in checked.items()}
    return {**verdicts, **checked}


try:  # the autograde preprocessor (nbgrader is there whenever grading runs)
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import NbGraderPreprocessor
    from traitlets import Float

    class TrustedVerdicts(NbGraderPreprocessor):
        """Autograde preprocessor (after execution): every graded test cell scored by the trusted checker."""

        call_timeout = Float(30, help="Seconds one call of a student's function may take.").tag(config=True)
        load_timeout = Float(LOAD_S, help="Seconds the answer cells (with their imports) may take to run.").tag(
            config=True)

        def preprocess(self, nb, resources):
            lecture = resources["nbgrader"]["assignment"]
            coursedir = CourseDirectory(config=self.config)
            path = pathlib.Path(coursedir.root, coursedir.source_directory, lecture, "checks.py")
            cells = graded_test_cells(nb)
            try:
                verdicts = check_notebook(nb, path, call_s=self.call_timeout, load_s=self.load_timeout,
                                          stopped_at=resources.get(STOPPED_AT))
            except (FileNotFoundError, ValueError) as exc:  # the instructor's side: say so, score nothing
                self.log.error("trusted checker: %s", exc)
                verdicts = {c.metadata["nbgrader"]["grade_id"]: (False, f"not checked: {exc}") for c in cells}
            for cell in cells:
                apply_verdict(cell, *verdicts[cell.metadata["nbgrader"]["grade_id"]])
            return nb, resources
except ImportError:  # pragma: no cover (course_lib without nbgrader: the checker's functions still work)
    pass
