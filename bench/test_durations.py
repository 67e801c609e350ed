"""How long the test suite takes: `make test` and `make test-fast`, as the Makefile runs them, wall time and per file.

Goals (issue 21): `make test` at most 6 minutes on a 2-core machine, `make test-fast` (unit tests: no notebooks, no
grading, no checkpoint re-evaluation) at most 90 s. Each run writes a JUnit XML file; the seconds of every test
(setup + call + teardown) are summed per file. `make test` is run first, and its per-file seconds are what
conftest.py reads to start the longest files first (``files`` in bench/results/test_durations.json).

Usage: ``python bench/test_durations.py [--only fast|full]``. The machine should be quiet: the numbers are wall
times, and a second job on 2 cores doubles them. ``--junit FILE --wall-s S [--only ...]`` records a run made
elsewhere instead (e.g. ``.ci/run`` on a fresh clone with ``PYTEST_ADDOPTS=--junitxml=FILE``).
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
GOALS_S = {"test": 360.0, "test-fast": 90.0}


def read_junit(report: pathlib.Path) -> list[tuple[str, str, float]]:
    tests = []
    for case in ET.parse(report).iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        tests.append((file, case.get("name", ""), float(case.get("time", 0.0))))
    return tests


def run(target: str) -> dict:
    """``make <target>`` (lint included), timed, with a JUnit report; returns wall seconds and per-test times."""
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "junit.xml"
        env = {**os.environ, "PYTEST_ADDOPTS": f"--junitxml={report} -o junit_family=xunit1"}
        start = time.monotonic()
        proc = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"make {target} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
        tests = read_junit(report)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return {"wall_s": round(wall, 1), "summary": summary, "tests": tests}


def per_file(tests) -> dict[str, float]:
    files: dict[str, float] = collections.defaultdict(float)
    for file, _, seconds in tests:
        files[file] += seconds
    return {k: round(v, 1) for k, v in sorted(files.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["fast", "full"], help="run one of the two targets")
    parser.add_argument("--junit", type=pathlib.Path, help="record this JUnit report of a run made elsewhere")
    parser.add_argument("--wall-s", type=float, help="that run's wall seconds (with --junit)")
    args = parser.parse_args()
    targets = {"fast": ["test-fast"], "full": ["test"], None: ["test", "test-fast"]}[args.only]
    data: dict = {"jobs": os.environ.get("TEST_JOBS") or os.cpu_count(), "goals_s": GOALS_S, "runs": {}}
    for target in targets:
        if args.junit:
            if args.wall_s is None or len(targets) != 1:
                raise SystemExit("--junit needs --wall-s and --only")
            result = {"wall_s": args.wall_s, "summary": f"recorded from {args.junit.name}",
                      "tests": read_junit(args.junit)}
        else:
            result = run(target)
        data["runs"][target] = {"wall_s": result["wall_s"], "summary": result["summary"],
                                "n_tests": len(result["tests"]), "cpu_seconds_in_tests": round(sum(
                                    t[2] for t in result["tests"]), 1),
                                "slowest": [{"file": f, "test": n, "s": round(s, 1)} for f, n, s in
                                            sorted(result["tests"], key=lambda t: -t[2])[:25]]}
        if target == "test":
            data["files"] = per_file(result["tests"])
        print(f"make {target}: {result['wall_s']:.0f} s, {len(result['tests'])} tests ({result['summary']})",
              flush=True)
    if args.only == "fast" and (ROOT / "bench/results/test_durations.json").is_file():
        import json

        old = json.loads((ROOT / "bench/results/test_durations.json").read_text())
        data["files"] = old.get("files", {})  # keep the full run's per-file costs for conftest's ordering
        data["runs"] = {**old.get("runs", {}), **data["runs"]}
    lines = ["| target | wall | goal | tests | summed test time |", "|---|---|---|---|---|"]
    for target, r in data["runs"].items():
        lines.append(f"| make {target} | {r['wall_s']:.0f} s | {GOALS_S[target]:.0f} s | {r['n_tests']} | "
                     f"{r['cpu_seconds_in_tests']:.0f} s |")
    md = "\n".join(lines) + f"\n\nWorkers: {data['jobs']} (pytest-xdist, whole files per worker, longest first).\n"
    if "files" in data:
        md += "\n## Seconds per file (make test, summed over its tests)\n\n| file | s |\n|---|---|\n"
        md += "\n".join(f"| {f} | {s:.1f} |" for f, s in list(data["files"].items())[:30]) + "\n"
    for target, r in data["runs"].items():
        md += f"\n## Slowest tests of make {target}\n\n| file | test | s |\n|---|---|---|\n"
        md += "\n".join(f"| {t['file']} | {t['test'][:80]} | {t['s']:.1f} |" for t in r["slowest"][:15]) + "\n"
    write_results("test_durations", data, md)


if __name__ == "__main__":
    main()
