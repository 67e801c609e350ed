"""nbgrader pieces of the course: bounded execution of submissions, and feedback that never leaks hidden tests.

* :class:`BoundedExecute` replaces nbgrader's ``Execute`` in autograde (see :mod:`course_lib.core.sandbox`): a
  wall-time limit for the whole notebook, not only per cell. When the time is up or the kernel dies (memory or
  process limit, a crash), the kernel is killed and every cell not reached gets an error output that says why,
  so its test cells earn 0 and the feedback shows one clear line; grading goes on with the next student.
  Outputs are capped per cell, so a student printing in a loop can't exhaust the grader's memory. Once the
  notebook is done the kernel is stopped at once (no graceful wait for its ``atexit`` code), and a stop that
  hangs is cut short after ``shutdown_timeout`` seconds by killing the kernel's process: a stalled kernel can
  cost a student's own cells their time, never the class's grading.
* :func:`autograde` bounds each ``nbgrader autograde`` process as a whole (the notebook's limit plus kernel start
  and gradebook writes): a grader that stalls anyway is killed with its kernel and the submission graded again.
* :class:`HideHiddenTests` (feedback) removes each ``### BEGIN HIDDEN TESTS`` region from the graded test cells
  and reduces the error output of such a cell to its exception line (the assert message written for the
  student), since a full traceback would quote the hidden line that failed. Student cells are left alone even if
  they contain nbgrader's markers, and any output that quotes a hidden line is removed.
* :func:`original` gives test cells the genuine checking helpers, loaded afresh from ``course_lib``'s files, so a
  submission that rebinds or monkey-patches ``exercise``, a reference implementation or
  ``torch.testing.assert_close`` before the tests run does not change what the tests check.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

from jupyter_core.paths import jupyter_runtime_dir
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, Execute
from traitlets import Enum, Integer

STOPPED = "GradingLimit"


def _error(evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=STOPPED, evalue=evalue, traceback=[f"{STOPPED}: {evalue}"])


class BoundedExecute(Execute):
    """nbgrader's Execute with a time limit for the whole notebook and a cap on each cell's output."""

    notebook_timeout = Integer(1800, help="Wall time (s) for the whole notebook; cells not reached get 0.").tag(
        config=True)
    max_output_chars = Integer(200_000, help="Characters of text output kept per cell.").tag(config=True)
    shutdown_timeout = Integer(20, help="Seconds the kernel may take to stop; then its process is killed.").tag(
        config=True)
    # Every output is in once the last cell has replied: a graceful shutdown would only run the student's atexit
    # code, and wait for it.
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)

    def create_kernel_manager(self):
        # jupyter_client would put the connection file (and the ipc sockets beside it) in the system's temporary
        # folder, which the sandbox must not see: keep them in this grader's private runtime folder.
        km = super().create_kernel_manager()
        if not km.connection_file:
            runtime = jupyter_runtime_dir()
            os.makedirs(runtime, exist_ok=True)
            km.connection_file = os.path.join(runtime, f"kernel-{uuid.uuid4().hex[:12]}.json")
        return km

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped: str | None = None
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        cell_timeout = super()._get_timeout(cell)
        left = max(1, int(self._deadline - time.monotonic()) + 1)
        return left if cell_timeout is None else min(cell_timeout, left)

    def _stop(self, reason: str) -> None:
        self._stopped = reason
        self.log.warning("stopping this submission: %s", reason)
        # the kernel's death takes the sandbox's PID namespace, fork bombs included, with it
        self._bounded(lambda: self.km.shutdown_kernel(now=True), "stop after " + reason)

    def _cleanup_kernel(self) -> None:
        # nbclient's cleanup, run when the notebook is done (NotebookClient binds its own at class creation).
        self._bounded(super()._async_cleanup_kernel, "shutdown")

    def _bounded(self, stop, what: str) -> None:
        """Run ``stop`` (a coroutine function, or one returning an awaitable or None) for at most
        ``shutdown_timeout`` seconds; past that, or if it fails, kill the kernel's process and drop the client."""
        from jupyter_core.utils import run_sync  # noqa: PLC0415

        km = self.km

        async def bounded() -> bool:
            result = stop()
            if not (asyncio.iscoroutine(result) or isinstance(result, asyncio.Future)):
                return True
            task = asyncio.ensure_future(result)
            done, _ = await asyncio.wait({task}, timeout=self.shutdown_timeout)
            if done:
                task.result()  # its exception, if any
                return True
            task.cancel()  # not awaited: a cancellation that hangs as well must not hang grading
            return False

        try:
            if run_sync(bounded)():
                return
            self.log.warning("kernel %s took over %s s: killing its process", what, self.shutdown_timeout)
        except Exception as exc:  # noqa: BLE001 (already dead, or its manager gone: make sure, then go on)
            self.log.debug("kernel %s: %s", what, exc)
        kill_kernel_process(km)
        if what == "shutdown":
            self.kc = self.km = None

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped:
            cell.outputs = [_error(f"not run: {self._stopped}")]
            return cell, resources
        self._chars = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except Exception as exc:  # noqa: BLE001 (DeadKernelError, CellTimeoutError: nbclient's own)
            name = type(exc).__name__
            if time.monotonic() >= self._deadline - 1:
                why = f"the time limit for the whole notebook ({self.notebook_timeout} s) was reached"
            elif "Dead" in name:
                why = f"the kernel died: a memory or process limit was reached, or the code crashed it ({name})"
            else:
                why = f"this cell did not stop when interrupted ({name})"
            cell.outputs = list(cell.get("outputs", [])) + [_error(why)]
            self._stop(why)
            return cell, resources
        if time.monotonic() >= self._deadline:
            why = f"the time limit for the whole notebook ({self.notebook_timeout} s) was reached"
            cell.outputs = list(cell.outputs) + [_error(why)]
            self._stop(why)
        return cell, resources

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and out.get("output_type") == "stream":
            text = out.get("text", "")
            left = self.max_output_chars - getattr(self, "_chars", 0)
            self._chars = getattr(self, "_chars", 0) + len(text)
            if len(text) > left:  # keep what fits, then one note
                note = f"[output truncated by the grader after {self.max_output_chars} characters]\n"
                if left > 0:
                    out["text"] = text[:left] + "\n"
                elif outs and outs[-1] is out:
                    outs.pop()
                if not any(o.get("text") == note for o in outs):
                    outs.append(NotebookNode(output_type="stream", name="stderr", text=note))
        return out


def kill_kernel_process(km) -> bool:
    """SIGKILL the process a kernel manager started (the bwrap sandbox or the bare kernel); True if one was."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None or process.poll() is not None:
        return False
    process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a process stuck in the kernel (D state): nothing more a grader can do
        pass
    return True


class HideHiddenTests(ClearHiddenTests):
    """Feedback preprocessor: strip hidden-test code, the tracebacks that would quote it, and outputs quoting it."""

    def preprocess(self, nb, resources):
        hidden = set()
        for cell in nb.cells:
            if self._is_test_cell(cell):
                hidden |= self._hidden_lines(cell.source)
        self._hidden = {line for line in hidden if len(line) >= 20}
        return super().preprocess(nb, resources)

    @staticmethod
    def _is_test_cell(cell) -> bool:
        return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"

    def _hidden_lines(self, source: str) -> set[str]:
        lines, inside = set(), False
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                inside = True
            elif self.end_test_delimeter in line:
                inside = False
            elif inside and line.strip():
                lines.add(line.strip())
        return lines

    def preprocess_cell(self, cell, resources, cell_index):
        # Only the instructor's test cells (restored from the gradebook by autograde) carry hidden tests; a student
        # cell that merely contains the markers is not parsed (an unmatched marker would crash the feedback).
        if self._is_test_cell(cell) and self._remove_hidden_test_region(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        outputs = []
        for output in cell.get("outputs", []):
            text = _output_text(output)
            if any(line in text for line in self._hidden):
                output = NotebookNode(output_type="stream", name="stderr",
                                      text="[output removed by the grader: it quoted hidden tests]\n")
            outputs.append(output)
        if cell.cell_type == "code":
            cell.outputs = outputs
        return cell, resources


def _output_text(output) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    parts += [v if isinstance(v, str) else "".join(v) for v in output.get("data", {}).values()
              if isinstance(v, (str, list))]
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def original(qualname: str):
    """The genuine object ``module:attribute`` (or ``module.attribute``), from a fresh import of its module.

    The module is executed anew from its file, outside ``sys.modules``, so names a submission rebinds or
    attributes it patches on the imported module (``course_lib.core.receptive.conv_output_size = mine``,
    ``torch.testing.assert_close = lambda *a, **k: None``) do not reach what a test cell gets. A fresh
    ``torch.testing`` would mean a second torch: for torch, the function is taken from the submodule that defines
    it (``torch.testing._comparison``), loaded afresh the same way.

    Examples
    --------
    >>> original("course_lib.core.receptive:conv_output_size")(32, 3, padding=1)
    32
    """
    module_name, _, attribute = qualname.replace(":", ".").rpartition(".")
    if module_name == "torch.testing":
        module_name = "torch.testing._comparison"
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or spec.loader is None:
        raise ValueError(f"original() needs a module with a source file; got {module_name!r}")
    fresh = importlib.util.spec_from_file_location(f"_original_.{module_name}", spec.origin)
    module = importlib.util.module_from_spec(fresh)
    module.__package__ = module_name.rpartition(".")[0] if not spec.submodule_search_locations else module_name
    fresh.loader.exec_module(module)
    # (course_lib.core.exercises.is_grading itself reads the sandbox's marker directory, which the kernel cannot
    # remove, so clearing os.environ["NBGRADER_EXECUTION"] does not bring back the reference fallback.)
    if not hasattr(module, attribute):
        raise ValueError(f"{module_name} has no attribute {attribute!r}")
    sys.modules.pop(fresh.name, None)
    return getattr(module, attribute)


# Names a lecture never needs and a submission that tampers with the grading would: the kernel's own machinery.
KERNEL_INTERNALS = {"get_ipython", "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
                    "run_cell", "settrace", "setprofile", "__builtins__", "builtins", "ctypes", "__code__",
                    "__globals__", "_getframe", "get_referrers", "putenv", "unsetenv"}


def tampering(notebook) -> list[str]:
    """Why a submitted notebook deserves a look by hand: kernel internals it names, modules it patches.

    The sandbox and :func:`original` stop a submission from reading hidden tests or swapping the checking
    helpers; a submission that rewrites the kernel itself (``get_ipython().run_cell``, AST transformers) could
    still fake a passing test cell, since nbgrader runs the tests in the student's kernel. This static scan flags
    such code, ``sys.modules`` and ``os.environ`` edits, and assignments to attributes of imported modules
    (``torch.testing.assert_close = ...``). A flag is a reason to look, not a verdict.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": "import torch\\ntorch.testing.assert_close = print"}]}
    >>> tampering(nb)
    ['assigns torch.testing.assert_close']
    """
    import ast  # noqa: PLC0415

    if not isinstance(notebook, dict):
        notebook = json.loads(pathlib.Path(notebook).read_text())
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        lines = "".join(cell.get("source", "")).splitlines()
        try:  # IPython magics and shell escapes are not Python
            tree = ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}

        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in KERNEL_INTERNALS:
                found.append(f"uses {node.id}")
            elif isinstance(node, ast.Attribute) and node.attr in KERNEL_INTERNALS:
                found.append(f"uses {node.attr}")
            elif isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.modules":
                found.append("uses sys.modules")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "pop", "popitem", "clear", "update", "setdefault") and ast.unparse(node.func.value) == "os.environ":
                found.append(f"calls {ast.unparse(node.func)}")
            targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                       else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                    "setattr", "delattr") and node.args and _on_module(node.args[0], modules):
                found.append(f"{node.func.id} on {ast.unparse(node.args[0])}")
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)) and _on_module(target, modules):
                    found.append(f"assigns {ast.unparse(target)}")
    return list(dict.fromkeys(found))


def _on_module(node, modules: set[str]) -> bool:
    """True for ``module.a.b`` or ``module.a[k]`` where ``module`` is a name the cell imported."""
    import ast  # noqa: PLC0415

    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id in modules


# ---------------------------------------------------------------------------------------------------------------
# make grade: every submission autograded by its own nbgrader process, JOBS at a time.


STALLED = 124  # the exit code _run gives a command it had to stop
STALL_NOTE = "was stopped"


def _run(command: list[str], env: dict, cwd=None, timeout: float | None = None) -> tuple[int, str, float]:
    """Run ``command``; past ``timeout`` seconds kill it and its process group (the kernel, in a session of its
    own, dies with its parent: see ``sandbox._die_with_parent``) and return :data:`STALLED` with a log that says
    so."""
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            log, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a survivor still holds the pipe: give up on the rest of the log
            log = ""
        log += (f"\n{os.path.basename(command[0])} {' '.join(command[1:3])} {STALL_NOTE} after {timeout:.0f} s: "
                "it had not finished, although the notebook's own time limit had passed (the grader stalled, not "
                "the student's code)\n")
        return STALLED, log, time.monotonic() - start
    return proc.returncode, log, time.monotonic() - start


def _kill_group(proc: subprocess.Popen) -> None:
    import signal  # noqa: PLC0415

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # gone already; Windows has no killpg
        proc.kill()


def _nbgrader(args: list[str], env: dict, cwd=None, timeout: float | None = None) -> tuple[int, str, float]:
    return _run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), *args, "--log-level=WARN"], env, cwd,
                timeout)


def autograde_timeout(environ=None) -> float:
    """Seconds one ``nbgrader autograde`` may take: the notebook's limit, plus kernel start and gradebook writes."""
    from .sandbox import Limits  # noqa: PLC0415

    return Limits.from_env(environ).notebook_s + 180


def autograde(lecture: str, student: str, db_args: list[str], env: dict, cwd, attempts: int = 2
              ) -> tuple[int, str, float]:
    """``nbgrader autograde`` of one submission, bounded by :func:`autograde_timeout`; a grader that stalls is
    killed and the submission graded again (up to ``attempts`` times): its grades depend only on the submission."""
    timeout, logs, seconds = autograde_timeout(env), [], 0.0
    for _ in range(attempts):
        code, log, took = _nbgrader(["autograde", lecture, "--student", student, "--force", *db_args], env, cwd,
                                    timeout)
        logs.append(log)
        seconds += took
        if code != STALLED:
            break
    return code, "".join(logs), seconds


def _stopped_reason(notebook: pathlib.Path) -> str | None:
    """The GradingLimit line BoundedExecute wrote into an autograded notebook, if any."""
    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        for output in cell.get("outputs", []):
            if output.get("ename") == STOPPED:
                return output.get("evalue")
    return None


def grade_class(root=".", *, jobs: int | None = None, lectures: list[str] | None = None, db: str | None = None,
                scheduler: str | None = None, cluster: str | None = None, connect_timeout_s: float = 10,
                out=sys.stdout) -> dict:
    """Autograde ``submitted/<student>/<lecture>/`` with ``jobs`` submissions at a time, then feedback and export.

    Each submission is one ``nbgrader autograde LECTURE --student S`` process (its own sandboxed kernel, its own
    runtime folder); they share the gradebook, whose SQLite writes wait for each other (``timeout`` in the
    database URL). The gradebook ends as a serial run leaves it: a submission's grades depend only on it.

    ``db``: the gradebook's database URL (default: ``nbgrader_config.py``'s SQLite file). ``scheduler`` (a Dask
    scheduler's address) or ``cluster`` (``"local:N"``): autograde on Dask workers instead, ``jobs`` defaulting
    to the cluster's worker threads (see :mod:`course_lib.core.scaleout`).

    Returns ``{"results": [(lecture, student, seconds, status)], "failed": [...], "review": [...],
    "seconds": total}``; ``review`` lists the submissions :func:`tampering` flags.
    """
    from . import sandbox, scaleout  # noqa: PLC0415

    root = pathlib.Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir():
        raise FileNotFoundError(f"nothing to grade: expected {submitted}/<student>/<lecture>/<lecture>.ipynb")
    distributed = scheduler is not None or cluster is not None
    if distributed:
        db = db or scaleout.sqlite_url(root)  # absolute: workers grade in folders of their own
    if db is not None:
        db = scaleout.check_db_url(db)
        scaleout.check_db_reachable(db)
    db_args = [f"--db={db}"] if db else []
    found = sorted({p.name for p in submitted.glob("*/*") if p.is_dir() and p.name[:2].isdigit()})
    lectures = found if lectures is None else [name for name in lectures if name in found]
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    ok, why = sandbox.availability()
    if not ok:
        out.write(sandbox.WARNING.format(why=why))
    client = local_cluster = None
    if distributed:
        client, local_cluster = scaleout.connect(scheduler=scheduler, cluster=cluster, timeout_s=connect_timeout_s)
        grader = scaleout.ClusterGrader(root, client, db)
        jobs = jobs or grader.slots
        where = grader.describe()
        if db.startswith("sqlite") and scheduler is not None:
            out.write(f"note: the gradebook is SQLite ({scaleout.masked(db)}): every worker must reach that path; "
                      f"across machines use --db postgresql://...\n")

        def grade_one(lecture, student):
            return grader.grade(lecture, student)
    else:
        jobs = jobs or os.cpu_count() or 1
        where = "this machine"
        # JOBS kernels share the cores: one torch thread pool each, sized to its share, not oversubscribed.
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))

        def grade_one(lecture, student):
            return autograde(lecture, student, db_args, env, root)
    try:
        return _grade_lectures(root, lectures, jobs, where, grade_one, db_args, env, out)
    finally:
        if client is not None:
            client.close()
        if local_cluster is not None:
            local_cluster.close()


def _grade_lectures(root, lectures, jobs, where, grade_one, db_args, env, out) -> dict:
    submitted = root / "submitted"
    start, results, failed, review = time.monotonic(), [], [], []
    for lecture in lectures:
        # generate_assignment registers the lecture and its graded cells in the gradebook (lectures/ is rewritten
        # identically); done once, before the parallel part.
        code, log, _ = _nbgrader(["generate_assignment", lecture, "--force", *db_args], env, cwd=root)
        if code:
            raise RuntimeError(f"nbgrader generate_assignment {lecture} failed ({code}):\n{log}")
        students = sorted(p.parent.name for p in submitted.glob(f"*/{lecture}") if p.is_dir())
        total = len(students)
        out.write(f"== {lecture}: {total} submissions, {jobs} at a time on {where}\n")
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_one, lecture, s): s for s in students}
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                student = futures[future]
                try:
                    code, log, seconds = future.result()
                except Exception as exc:  # noqa: BLE001 (a worker lost, a task that could not run: next student)
                    code, log, seconds = 1, f"{type(exc).__name__}: {exc}\n", 0.0
                notebook = root / "autograded" / student / lecture / f"{lecture}.ipynb"
                if code:
                    status = "FAILED (see the log above)"
                    failed.append((lecture, student))
                    out.write(log[-3000:])
                else:
                    stopped = _stopped_reason(notebook)
                    status = f"stopped: {stopped}" if stopped else "ok"
                    if STALL_NOTE in log:
                        status += " (graded again: the first grader stalled and was stopped)"
                flags = tampering(submitted / student / lecture / f"{lecture}.ipynb")
                if flags:
                    status += f"; REVIEW BY HAND: {', '.join(flags[:5])}"
                    review.append((lecture, student))
                results.append((lecture, student, seconds, status))
                out.write(f"[{done}/{total}] {lecture} {student}: {seconds:.1f} s, {status}\n")
                out.flush()
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(jobs, os.cpu_count() or 1)) as pool:
            graded = [s for s in students if (lecture, s) not in failed]
            feedback = [["generate_feedback", lecture, "--student", s, "--force", *db_args] for s in graded]
            for student, (code, log, _) in zip(graded, pool.map(_nbgrader, feedback, [env] * len(graded),
                                                                   [root] * len(graded))):
                if code:
                    failed.append((lecture, f"{student} (feedback)"))
                    out.write(log[-3000:])
    code, log, _ = _nbgrader(["export", "--to", "grades.csv", *db_args], env, cwd=root)
    if code:
        raise RuntimeError(f"nbgrader export failed ({code}):\n{log}")
    seconds = time.monotonic() - start
    slowest = sorted(results, key=lambda r: -r[2])[:3]
    out.write(f"graded {len(results)} submissions in {seconds:.0f} s ({jobs} at a time); slowest: "
              + ", ".join(f"{lec}/{s} {t:.0f} s" for lec, s, t, _ in slowest) + "\n")
    if review:
        out.write("review by hand (code that tampers with the kernel or patches modules): "
                  + ", ".join(f"{lec}/{s}" for lec, s in review) + "\n")
    if failed:
        out.write("FAILED: " + ", ".join(f"{lec}/{s}" for lec, s in failed) + "\n")
    return {"results": results, "failed": failed, "review": review, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m course_lib.core.grading",
                                     description="Autograde submitted/ in parallel, then feedback/ and grades.csv.")
    parser.add_argument("lectures", nargs="*", help="lectures to grade (default: every one in submitted/)")
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="submissions at a time (default: cores, or the cluster's worker threads)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="gradebook database, e.g. postgresql://USER:PASSWORD@HOST/DB (default: SQLite "
                             "gradebook.db, as nbgrader_config.py says)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="autograde on an existing Dask cluster, e.g. tcp://HOST:8786")
    where.add_argument("--cluster", default=None, metavar="local:N",
                       help="autograde on a Dask LocalCluster of N workers on this machine")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    from . import scaleout  # noqa: PLC0415

    try:
        if args.cluster is not None:
            scaleout.parse_cluster(args.cluster)
        if args.db is not None:
            scaleout.check_db_url(args.db)
        summary = grade_class(".", jobs=args.jobs, lectures=args.lectures or None, db=args.db,
                              scheduler=args.scheduler, cluster=args.cluster)
    except (ValueError, RuntimeError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
