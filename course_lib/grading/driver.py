"""``make grade``: every submission autograded by its own nbgrader process (forked: :mod:`.launcher`), JOBS at a
time, then feedback and ``grades.csv``.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

from . import launcher
from .launcher import STALL_NOTE, STALLED
from .report import similarity_report, write_grades, write_not_graded_feedback
from .review import tampering
from .sandbox import STOPPED
from .sanitize import sanitize_feedback_file


def _nbgrader(args: list[str], env: dict, cwd=None, timeout: float | None = None) -> tuple[int, str, float]:
    return launcher.nbgrader([*args, "--log-level=WARN"], env, cwd, timeout)


def autograde_timeout(environ=None) -> float:
    """Seconds one ``nbgrader autograde`` may take: the notebook's limit, plus kernel start and gradebook writes."""
    from .sandbox import Limits  # noqa: PLC0415

    # + kernel start, the trusted checker (its answer server, 30 s a call at most) and the gradebook writes
    return Limits.from_env(environ).notebook_s + 240


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


def course_lectures(root: pathlib.Path) -> list[str]:
    """The course's lectures: the folders of ``solutions/`` named like ``00_welcome``."""
    return sorted(p.name for p in (root / "solutions").glob("[0-9][0-9]_*") if p.is_dir() and not p.is_symlink())


def calibrate(root: pathlib.Path, lecture: str, env: dict, out=sys.stdout) -> int:
    """The notebook time limit for ``lecture``: ``COURSE_GRADE_NOTEBOOK_S`` when set, else max(120 s, 10 x the
    instructor's solution run time on this machine), measured once per version of the solution notebook (cached
    in ``.grading/calibration.json``) and printed."""
    from .sandbox import Limits  # noqa: PLC0415

    if env.get("COURSE_GRADE_NOTEBOOK_S"):
        return Limits.from_env(env).notebook_s
    import hashlib  # noqa: PLC0415

    solution = root / "solutions" / lecture / f"{lecture}.ipynb"
    digest = hashlib.sha256(solution.read_bytes()).hexdigest()
    cache = root / ".grading" / "calibration.json"
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    entry = known.get(lecture, {})
    if entry.get("sha256") != digest or entry.get("cpus") != os.cpu_count():
        start = time.monotonic()
        try:
            _run_solution(solution, {**env, "COURSE_PROFILE": env.get("COURSE_PROFILE", "fast")})
        except Exception as exc:  # noqa: BLE001 (the instructor's notebook: say what failed)
            raise RuntimeError(f"the solution of {lecture} does not run ({type(exc).__name__}: {str(exc)[-1500:]}), "
                               f"so no time limit can be calibrated; set COURSE_GRADE_NOTEBOOK_S to grade anyway"
                               ) from None
        seconds = time.monotonic() - start
        entry = {"sha256": digest, "seconds": round(seconds, 1), "cpus": os.cpu_count()}
        known[lecture] = entry
        cache.parent.mkdir(exist_ok=True)
        cache.write_text(json.dumps(known, indent=1) + "\n")
    limit = int(max(CALIBRATION_FLOOR_S, CALIBRATION_FACTOR * entry["seconds"]))
    out.write(f"time limit for {lecture}: {limit} s per notebook (the solution runs in {entry['seconds']} s here; "
              f"max({CALIBRATION_FLOOR_S} s, {CALIBRATION_FACTOR} x); COURSE_GRADE_NOTEBOOK_S overrides it)\n")
    return limit


def _run_solution(solution: pathlib.Path, env: dict) -> None:
    """Execute the instructor's solution notebook headless, in its folder, with ``env`` (the grading settings)."""
    import nbformat  # noqa: PLC0415

    from course_lib.core.notebooks import SteadyNotebookClient  # noqa: PLC0415

    nb = nbformat.read(solution, 4)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("COURSE_", "MPL", "OMP_"))})
    try:
        SteadyNotebookClient(nb, timeout=1800, kernel_name="python3",
                             resources={"metadata": {"path": str(solution.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)


CALIBRATION_FLOOR_S = 120
CALIBRATION_FACTOR = 10


def grade_class(root=".", *, jobs: int | None = None, lectures: list[str] | None = None, db: str | None = None,
                scheduler: str | None = None, cluster: str | None = None, connect_timeout_s: float = 10,
                out=sys.stdout) -> dict:
    """Autograde ``submitted/<student>/<lecture>/`` with ``jobs`` submissions at a time, then feedback and
    ``grades.csv``.

    Intake first (:mod:`course_lib.grading.intake`): a submission that is misnamed, holds a link or a special file,
    is too large, or has no valid notebook is not graded, and gets a ``grades.csv`` row and a feedback line that
    say why; the rest of the class is graded. Each accepted submission is one ``nbgrader autograde LECTURE
    --student S`` process (its own sandboxed kernel, then the trusted checker); they share the gradebook, whose
    SQLite writes wait for each other. The gradebook ends as a serial run leaves it.

    ``db``: the gradebook's database URL (default: ``nbgrader_config.py``'s SQLite file); it reaches nbgrader
    through the environment (``CONVNET_GRADEBOOK_URL``), never a command line. ``scheduler`` (a Dask scheduler's
    address) or ``cluster`` (``"local:N"``): autograde on Dask workers instead (:mod:`course_lib.grading.scaleout`).

    Returns ``{"results": [(lecture, student, seconds, status)], "failed": [...], "not_graded": [(lecture,
    student, reason)], "review": [...], "similar": [...], "seconds": total}``.
    """
    from . import intake, sandbox, scaleout  # noqa: PLC0415

    root = pathlib.Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir() or submitted.is_symlink():
        raise FileNotFoundError(f"nothing to grade: expected {submitted}/<student>/<lecture>/<lecture>.ipynb")
    distributed = scheduler is not None or cluster is not None
    if distributed:
        db = db or scaleout.sqlite_url(root)  # absolute: workers grade in folders of their own
    if db is not None:
        db = scaleout.check_db_url(db)
        scaleout.check_db_reachable(db)
    accepted, refused = intake.check_class(str(submitted), course_lectures(root))
    wanted = [name for name, students in accepted.items() if students]
    wanted += [name for name, _, _ in refused if name in accepted and name not in wanted]
    lectures = sorted(wanted) if lectures is None else [name for name in lectures if name in wanted]
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    if db:
        env[DB_ENV] = db
    ok, why = sandbox.availability()
    if not ok:
        out.write(sandbox.WARNING.format(why=why))
    elif not sandbox.cgroups_available():
        out.write("note: no cgroup can be made here, so memory and process limits apply per process only "
                  "(a submission may hold several times COURSE_GRADE_MEMORY_MB across its processes)\n")
    for lecture, student, reason in refused:
        out.write(f"not graded: {lecture} {student}: {reason}\n")
    client = local_cluster = None
    if distributed:
        client, local_cluster = scaleout.connect(scheduler=scheduler, cluster=cluster, timeout_s=connect_timeout_s)
        grader = scaleout.ClusterGrader(root, client, db)
        jobs = jobs or grader.slots
        where = grader.describe()
        if db.startswith("sqlite") and scheduler is not None:
            out.write(f"note: the gradebook is SQLite ({scaleout.masked(db)}): every worker must reach that path; "
                      f"across machines use --db postgresql://...\n")

        def grade_one(lecture, student, env):
            return grader.grade(lecture, student, env)
    else:
        jobs = jobs or os.cpu_count() or 1
        where = "this machine"
        # JOBS kernels share the cores: one torch thread pool each, sized to its share, not oversubscribed.
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))

        def grade_one(lecture, student, env):
            return autograde(lecture, student, [], env, root)
    try:
        summary = _grade_lectures(root, lectures, accepted, jobs, where, grade_one, env, out)
    finally:
        if client is not None:
            client.close()
        if local_cluster is not None:
            local_cluster.close()
    not_graded = [r for r in refused if r[0] in lectures or r[0] not in accepted]
    write_not_graded_feedback(root, not_graded)
    write_grades(root, summary.pop("export"), not_graded)
    return {**summary, "not_graded": not_graded}


DB_ENV = "CONVNET_GRADEBOOK_URL"  # read by nbgrader_config.py; see sandbox.SECRETS


def generate_feedback(root: pathlib.Path, lecture: str, students: list[str], env: dict) -> list[tuple[str, str]]:
    """The feedback pages of ``students`` for ``lecture``, sanitized; returns ``(student, log)`` for each whose page
    could not be made.

    One ``nbgrader generate_feedback`` for all of them (the students of autograded/ not listed are excluded): a
    process per student spent 5 s each starting nbgrader, against 6 s for 20 students in one. nbgrader converts
    each student on its own and removes a failed one's folder, so a student whose page is missing afterwards is
    tried again alone, and only what still fails is reported, with its own log.
    """
    if not students:
        return []
    for student in students:  # a page left from an earlier run must not pass for one made now
        shutil.rmtree(root / "feedback" / student / lecture, ignore_errors=True)
    listed = set(students)
    others = sorted(p.name for p in (root / "autograded").iterdir() if p.is_dir() and p.name not in listed)
    batch_log = ""
    if not any("," in name for name in others):  # (else nbgrader could not read the list: one by one below)
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
        _, batch_log, _ = _nbgrader(["generate_feedback", lecture, "--force", *exclude], env, cwd=root)
    problems = []
    for student in students:
        folder = root / "feedback" / student / lecture
        if not any(folder.glob("*.html")):
            code, log, _ = _nbgrader(["generate_feedback", lecture, "--student", student, "--force"], env, cwd=root)
            if code or not any(folder.glob("*.html")):
                problems.append((student, log or batch_log))
        for page in folder.glob("*.html"):
            sanitize_feedback_file(page)  # a second line after SanitizeOutputs: the finished page
    return problems


def _grade_lectures(root, lectures, accepted, jobs, where, grade_one, env, out) -> dict:
    submitted = root / "submitted"
    start, results, failed, flagged, similar = time.monotonic(), [], [], [], []
    for lecture in lectures:
        # generate_assignment registers the lecture and its graded cells in the gradebook (lectures/ is rewritten
        # identically); done once, before the parallel part.
        code, log, _ = _nbgrader(["generate_assignment", lecture, "--force"], env, cwd=root)
        if code:
            raise RuntimeError(f"nbgrader generate_assignment {lecture} failed ({code}):\n{log}")
        lecture_env = {**env, "COURSE_GRADE_NOTEBOOK_S": str(calibrate(root, lecture, env, out))}
        students = accepted.get(lecture, [])
        total = len(students)
        out.write(f"== {lecture}: {total} submissions, {jobs} at a time on {where}\n")
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_one, lecture, s, lecture_env): s for s in students}
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
                    flagged.append((lecture, student))
                results.append((lecture, student, seconds, status))
                out.write(f"[{done}/{total}] {lecture} {student}: {seconds:.1f} s, {status}\n")
                out.flush()
        graded = [s for s in students if (lecture, s) not in failed]
        for student, log in generate_feedback(root, lecture, graded, env):
            failed.append((lecture, f"{student} (feedback)"))
            out.write(log[-3000:])
        similar += similarity_report(root, lecture, graded, out)
    with tempfile.TemporaryDirectory(prefix="convnet-export-") as tmp:
        code, log, _ = _nbgrader(["export", "--to", os.path.join(tmp, "grades.csv")], env, cwd=root)
        if code:
            raise RuntimeError(f"nbgrader export failed ({code}):\n{log}")
        with open(os.path.join(tmp, "grades.csv"), newline="") as f:
            export = list(csv.DictReader(f))
    seconds = time.monotonic() - start
    slowest = sorted(results, key=lambda r: -r[2])[:3]
    out.write(f"graded {len(results)} submissions in {seconds:.0f} s ({jobs} at a time); slowest: "
              + ", ".join(f"{lec}/{s} {t:.0f} s" for lec, s, t, _ in slowest) + "\n")
    if flagged:
        out.write("review by hand (code that tampers with the kernel or patches modules): "
                  + ", ".join(f"{lec}/{s}" for lec, s in flagged) + "\n")
    if failed:
        out.write("FAILED: " + ", ".join(f"{lec}/{s}" for lec, s in failed) + "\n")
    return {"results": results, "failed": failed, "review": flagged, "similar": similar, "seconds": seconds,
            "export": export}


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    launcher.use_forkserver()  # the make grade command: its nbgrader commands are forks (see launcher)

    parser = argparse.ArgumentParser(prog="python -m course_lib.grading",
                                     description="Autograde submitted/ in parallel, then feedback/ and grades.csv.")
    parser.add_argument("lectures", nargs="*", help="lectures to grade (default: every one in submitted/)")
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="submissions at a time (default: cores, or the cluster's worker threads)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="gradebook database, e.g. postgresql://USER:PASSWORD@HOST/DB (default: the environment's "
                             f"{DB_ENV}, else SQLite gradebook.db, as nbgrader_config.py says); prefer the environment "
                             "variable: a command line is visible to every process on the machine")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="autograde on an existing Dask cluster, e.g. tcp://HOST:8786")
    where.add_argument("--cluster", default=None, metavar="local:N",
                       help="autograde on a Dask LocalCluster of N workers on this machine")
    args = parser.parse_args(argv)
    args.db = args.db or os.environ.get(DB_ENV) or None
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
