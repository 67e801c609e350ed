"""Grading throughput on lecture 00: submissions per hour with JOBS = 1 and 2, the sandbox's cost, a hostile cost.

Fabricates N correct submissions of 00_welcome in a throw-away course, grades them with `make grade`'s driver
(`python -m course_lib.core.grading --jobs J`) at J = 1 and 2, once more serially with the sandbox off
(COURSE_SANDBOX=off) to price it, and grades one submission that loops forever under a 60 s notebook limit.
Goals (issue 14): JOBS=2 at least 1.8x JOBS=1 on 2 cores; sandbox overhead at most 2 s per submission.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from _common import write_results  # noqa: E402
from nbtools import BIN, course_copy, submit  # noqa: E402
from test_grading import ANSWERS  # noqa: E402

LECTURE = "00_welcome"
N = int(os.environ.get("BENCH_GRADING_N", "6"))
LOOP_LIMIT_S = 60


def grade(course: pathlib.Path, jobs: int, **env) -> float:
    for folder in ("autograded", "feedback"):
        subprocess.run(["rm", "-rf", str(course / folder)], check=True)
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROFILE": "fast",
            "MPLBACKEND": "Agg", **env}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "course_lib.core.grading", "--jobs", str(jobs)], cwd=course,
                          env=full, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"grading failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(proc.stdout.strip().splitlines()[-1])
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = course_copy(pathlib.Path(tmp), [LECTURE])
        for i in range(N):
            submit(course, LECTURE, f"student{i:02d}", ANSWERS)
        runs = {}
        plan = [("jobs1", 1, {}), ("jobs2", 2, {}), ("jobs1_no_sandbox", 1, {"COURSE_SANDBOX": "off"})]
        for label, jobs, env in plan:
            seconds = grade(course, jobs, **env)
            runs[label] = {"jobs": jobs, "seconds": round(seconds, 1), "per_hour": round(3600 * N / seconds)}
            print(f"{label}: {seconds:.1f} s for {N} submissions")
        (pathlib.Path(tmp) / "loop").mkdir()
        loop_course = course_copy(pathlib.Path(tmp) / "loop", [LECTURE])
        loop = ("import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                "    except KeyboardInterrupt:\n        pass\n")
        submit(loop_course, LECTURE, "looper", cells={"ex_conv_output_size": loop})
        hostile = grade(loop_course, 1, COURSE_GRADE_NOTEBOOK_S=str(LOOP_LIMIT_S))
    speedup = runs["jobs1"]["seconds"] / runs["jobs2"]["seconds"]
    overhead = (runs["jobs1"]["seconds"] - runs["jobs1_no_sandbox"]["seconds"]) / N
    data = {"lecture": LECTURE, "submissions": N, "runs": runs, "speedup_jobs2": round(speedup, 2),
            "sandbox_overhead_s_per_submission": round(overhead, 2),
            "hostile_loop": {"notebook_limit_s": LOOP_LIMIT_S, "seconds": round(hostile, 1)},
            "goals": {"speedup_jobs2": 1.8, "sandbox_overhead_s": 2.0}}
    table = "| run | jobs | seconds | submissions per hour |\n|---|---|---|---|\n" + "\n".join(
        f"| {label} | {r['jobs']} | {r['seconds']:.1f} | {r['per_hour']} |" for label, r in runs.items())
    write_results("grading", data, (
        f"`make grade` driver on {N} correct submissions of {LECTURE} (fast profile, sandboxed unless noted; "
        f"includes nbgrader's own start-up, generate_assignment, feedback and export).\n\n{table}\n\n"
        f"JOBS=2 vs 1: **{speedup:.2f}x** (goal 1.8x). Sandbox overhead: **{overhead:.2f} s per submission** "
        f"(goal ≤ 2 s). A submission looping forever under a {LOOP_LIMIT_S} s notebook limit cost "
        f"**{hostile:.0f} s** to grade, generate_assignment, feedback and export included."))


if __name__ == "__main__":
    main()
