"""What `make test` costs in CPU, part by part: the bound under its wall time on N cores is the sum divided by N.

Each part of the suite runs alone and serially (one pytest process, one math thread: what each of `make test`'s
workers gets on 2 cores), and its cost is the whole machine's busy CPU time over the run (``/proc/stat``), so that
the notebook kernels, sandboxed graders, answer servers, Dask workers and PostgreSQL servers a test starts count
too (``/usr/bin/time`` misses those that leave their parent). The machine must be quiet: another job's CPU counts
as the suite's. Linux only.

Usage: ``python bench/test_cpu.py`` (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
GRADING = ["tests/test_grading_sandbox.py", "tests/test_grading.py", "tests/test_grading_limits.py",
           "tests/test_grading_checker.py"]
OTHER_SLOW = ["tests/test_exercise_wrong_answers.py", "tests/test_project.py"]
CHECKPOINTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*_checkpoints.py")) + [
    "tests/test_localization_metrics.py", "tests/test_pose_joint.py"]
PARTS = {  # name -> pytest arguments (after the common ones)
    **{f: [f] for f in GRADING + OTHER_SLOW},
    "checkpoint re-evaluation (" + ", ".join(pathlib.Path(f).stem[5:] for f in CHECKPOINTS) + ")": CHECKPOINTS,
    "lectures/ notebooks (whole)": ["lectures"],
    "solutions/ notebooks (graded cells and what they need)": ["solutions"],
    "the rest (unit, property and docstring tests)": ["tests", "course_lib", *(
        f"--ignore={f}" for f in GRADING + OTHER_SLOW + CHECKPOINTS)],
}


def busy_seconds() -> float:
    """CPU seconds the machine has been busy (user, nice, system, irq, softirq) since boot."""
    fields = pathlib.Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(args: list[str]) -> dict:
    env = {**os.environ, "COURSE_PROFILE": "fast", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "pytest"), "-p", "no:cacheprovider", "-p", "no:xdist", "--doctest-modules", "--nbval-lax", "-q",
           *args]
    cpu0, wall0 = busy_seconds(), time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    cpu, wall = busy_seconds() - cpu0, time.monotonic() - wall0
    if proc.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    return {"cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "summary": proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""}


def main() -> None:
    parts = {}
    for name, args in PARTS.items():
        parts[name] = measure(args)
        print(f"{parts[name]['cpu_s']:7.1f} CPU-s {parts[name]['wall_s']:7.1f} s  {name}", flush=True)
    start = measure(["--collect-only", "tests/test_core_stats.py"])  # one pytest start, for the reader's correction
    total = sum(p["cpu_s"] for p in parts.values())
    cores = os.cpu_count() or 1
    data = {"parts": parts, "total_cpu_s": round(total, 1), "pytest_start_cpu_s": start["cpu_s"],
            "bound_wall_s": {str(n): round(total / n, 1) for n in (2, 4, 8)}}
    lines = ["| part | CPU-s | share | serial wall s |", "|---|---|---|---|"]
    lines += [f"| {name} | {p['cpu_s']:.1f} | {100 * p['cpu_s'] / total:.0f} % | {p['wall_s']:.1f} |"
              for name, p in sorted(parts.items(), key=lambda kv: -kv[1]["cpu_s"])]
    lines.append(f"| **all** | **{total:.0f}** | | |")
    md = "\n".join(lines) + (
        f"\n\nEach row is one serial pytest run with one math thread; its CPU is the whole machine's busy time "
        f"(/proc/stat), so kernels, sandboxes and clusters count. Each row includes one pytest start "
        f"({start['cpu_s']:.1f} CPU-s measured alone), which `make test` pays once per worker.\n\n"
        f"Lower bound on `make test`'s wall time (all cores busy all the time): {total / 2:.0f} s on 2 cores, "
        f"{total / 4:.0f} s on 4, {total / 8:.0f} s on 8 (this machine: {cores} cores). The goal of 360 s on 2 "
        f"cores needs at most {2 * 360:.0f} CPU-s.\n")
    write_results("test_cpu", data, md)


if __name__ == "__main__":
    main()
