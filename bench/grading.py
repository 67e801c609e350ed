"""Grading throughput on lecture 00: submissions per hour with JOBS = 1 and 2 and on a 2-worker Dask LocalCluster,
the sandbox's cost, a hostile submission's cost.

Fabricates N correct submissions of 00_welcome in a throw-away course, grades them with `make grade`'s driver
(`python -m course_lib.grading --jobs J`) at J = 1 and 2, on a Dask LocalCluster of 2 workers
(`--cluster local:2`; again into a PostgreSQL server started for the run, where the distribution's PostgreSQL is
installed), once more serially with the sandbox off (COURSE_SANDBOX=off) to price it, and grades one submission
that loops forever under the *calibrated* notebook limit (max(120 s, 10 x the solution's run time)). The sandbox's
overhead is the difference of the mean autograde time per submission (as the driver reports it) between the serial
runs with and without it; the trusted checker's is timed directly (``checker.check_notebook`` on one submission:
the answer server's sandbox and start, loading the answer cells, every check), and the two are added.
A last serial run with COURSE_GRADE_FORKSERVER=off prices the forkserver of launcher.py (issue 21).
Goals (issues 14 and 18): JOBS=2 at least 1.8x JOBS=1 on 2 cores; sandbox plus checker overhead at most 2 s per
submission; a looping submission costs at most 5 minutes.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
import nbformat  # noqa: E402
from _common import write_results  # noqa: E402
from nbtools import BIN, course_copy, postgres_server, postgres_unavailable, submit  # noqa: E402
from test_grading import ANSWERS  # noqa: E402

from course_lib.grading import checker  # noqa: E402
from course_lib.grading.driver import calibrate  # noqa: E402

LECTURE = "00_welcome"
N = int(os.environ.get("BENCH_GRADING_N", "6"))


def grade(course: pathlib.Path, args: list[str], *, correct: bool = True, **env) -> tuple[float, float]:
    """Seconds for the whole driver run, and the mean autograde seconds per submission it reports. ``correct``: every
    submission is a correct one, and each must be graded "ok" (else the run is a bug, not a measurement)."""
    for folder in ("autograded", "feedback"):
        subprocess.run(["rm", "-rf", str(course / folder)], check=True)
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROFILE": "fast",
            "MPLBACKEND": "Agg", **env}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "course_lib.grading", *args], cwd=course, env=full,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"grading failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(proc.stdout.strip().splitlines()[-1])
    each = [float(t) for t in re.findall(r"^\[\d+/\d+\] \S+ \S+: ([0-9.]+) s,", proc.stdout, re.M)]
    if correct:  # a correct submission stopped by a limit, or failed, is a grading bug: no timing of it counts
        wrong = [line for line in re.findall(r"^\[\d+/\d+\] .*$", proc.stdout, re.M) if not line.endswith(" s, ok")]
        if wrong or not each:
            raise RuntimeError(f"correct submissions not graded ok ({' '.join(args)}):\n" + "\n".join(wrong)
                               + f"\n{proc.stdout[-3000:]}")
    return seconds, sum(each) / max(1, len(each))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = course_copy(pathlib.Path(tmp), [LECTURE])
        for i in range(N):
            submit(course, LECTURE, f"student{i:02d}", ANSWERS)
        runs = {}
        plan = [("jobs1", 1, ["--jobs", "1"], {}), ("jobs2", 2, ["--jobs", "2"], {}),
                ("local_cluster2", 2, ["--cluster", "local:2"], {}),
                ("jobs1_no_sandbox", 1, ["--jobs", "1"], {"COURSE_SANDBOX": "off"}),
                ("jobs1_plain_nbgrader", 1, ["--jobs", "1"], {"COURSE_GRADE_FORKSERVER": "off"})]
        for label, jobs, args, env in plan:
            seconds, each = grade(course, args, **env)
            runs[label] = {"jobs": jobs, "args": " ".join(args), "seconds": round(seconds, 1),
                           "per_hour": round(3600 * N / seconds), "autograde_s_mean": round(each, 2)}
            print(f"{label}: {seconds:.1f} s for {N} submissions")
        why_not = postgres_unavailable()
        if why_not is None:
            with postgres_server() as url:
                seconds, each = grade(course, ["--cluster", "local:2", "--db", url])
            runs["local_cluster2_postgresql"] = {"jobs": 2, "args": "--cluster local:2 --db postgresql://...",
                                                 "seconds": round(seconds, 1), "per_hour": round(3600 * N / seconds),
                                                 "autograde_s_mean": round(each, 2)}
        else:
            print(f"no PostgreSQL row: {why_not}")
        (pathlib.Path(tmp) / "loop").mkdir()
        loop_course = course_copy(pathlib.Path(tmp) / "loop", [LECTURE])
        loop = ("import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                "    except KeyboardInterrupt:\n        pass\n")
        submit(loop_course, LECTURE, "looper", cells={"ex_conv_output_size": loop})
        env = {k: v for k, v in os.environ.items() if k != "COURSE_GRADE_NOTEBOOK_S"}
        calibrate_start = time.perf_counter()
        limit = calibrate(loop_course, LECTURE, {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
        calibration_s = time.perf_counter() - calibrate_start
        hostile, _ = grade(loop_course, ["--jobs", "1"], correct=False)
        checks = []
        notebook = nbformat.read(course / "submitted" / "student00" / LECTURE / f"{LECTURE}.ipynb", 4)
        for _ in range(3):
            start = time.perf_counter()
            verdicts = checker.check_notebook(notebook, course / "solutions" / LECTURE / "checks.py")
            checks.append(time.perf_counter() - start)
            assert all(ok for ok, _ in verdicts.values()), verdicts
    speedup = runs["jobs1"]["seconds"] / runs["jobs2"]["seconds"]
    # launcher.py: each nbgrader command forked from a server that imported nbgrader and torch, against a new process
    fork_saves = runs["jobs1_plain_nbgrader"]["autograde_s_mean"] - runs["jobs1"]["autograde_s_mean"]
    speedup_cluster = runs["jobs1"]["seconds"] / runs["local_cluster2"]["seconds"]
    sandbox_s = runs["jobs1"]["autograde_s_mean"] - runs["jobs1_no_sandbox"]["autograde_s_mean"]
    checker_s = sorted(checks)[1]  # the median of 3
    overhead = sandbox_s + checker_s
    # The autograde phase alone (what grows with the class): 2 at a time, each taking autograde_s_mean.
    speedup_phase = runs["jobs1"]["autograde_s_mean"] / (runs["jobs2"]["autograde_s_mean"] / 2)
    data = {"lecture": LECTURE, "submissions": N, "runs": runs, "speedup_jobs2": round(speedup, 2),
            "speedup_local_cluster2": round(speedup_cluster, 2),
            "speedup_jobs2_autograde_phase": round(speedup_phase, 2),
            "sandbox_overhead_s_per_submission": round(sandbox_s, 2), "checker_s_per_submission": round(checker_s, 2),
            "sandbox_and_checker_overhead_s": round(overhead, 2),
            "forked_nbgrader_saves_s_per_submission": round(fork_saves, 2),
            "hostile_loop": {"calibrated_limit_s": limit, "calibration_s": round(calibration_s, 1),
                             "seconds": round(hostile, 1)},
            "goals": {"speedup_jobs2": 1.8, "sandbox_and_checker_overhead_s": 2.0, "hostile_loop_s": 300}}
    table = ("| run | driver arguments | at a time | seconds | submissions per hour | autograde s each |\n"
             "|---|---|---|---|---|---|\n" + "\n".join(
                 f"| {label} | `{r['args']}` | {r['jobs']} | {r['seconds']:.1f} | {r['per_hour']} | "
                 f"{r['autograde_s_mean']:.1f} |" for label, r in runs.items()))
    noise = "; the sandbox's part below zero: smaller than the noise of one run" if sandbox_s < 0 else ""
    write_results("grading", data, (
        f"`make grade` driver on {N} correct submissions of {LECTURE} (fast profile, sandboxed unless noted; "
        f"includes nbgrader's own start-up, generate_assignment, feedback and export).\n\n{table}\n\n"
        f"JOBS=2 vs 1: **{speedup:.2f}x** (goal 1.8x) for the whole run, whose serial part (generate_assignment, "
        f"export, start-up) weighs more with few submissions; **{speedup_phase:.2f}x** for the autograde phase alone "
        f"(mean autograde time per submission, 2 at a time). A 2-worker Dask LocalCluster vs JOBS=1: "
        f"**{speedup_cluster:.2f}x** (each submission shipped to a worker process, graded in a private folder, "
        f"sent back). Forking each nbgrader command from one server (launcher.py) instead of starting it afresh "
        f"saves **{fork_saves:.1f} s per submission** (mean autograde time, JOBS=1, `COURSE_GRADE_FORKSERVER=off` "
        f"for the plain run). Sandbox plus trusted checker: **{overhead:.2f} s per submission** ({sandbox_s:.2f} s "
        f"sandbox: "
        f"mean autograde time, JOBS=1, with and without it; {checker_s:.2f} s checker: median of 3 direct runs; "
        f"goal ≤ 2 s{noise}). A submission looping forever under the calibrated limit "
        f"({limit} s, the solution's run time measured once in {calibration_s:.0f} s) cost **{hostile:.0f} s** to "
        f"grade, generate_assignment, feedback and export included (goal ≤ 300 s)."))


if __name__ == "__main__":
    main()
