"""Test-suite plumbing for `make test` (all of it, in parallel) and `make test-fast` (the inner loop).

* **slow**: notebooks (nbval over solutions/ and lectures/), grading a class (sandbox, checker, clusters) and
  re-evaluating or training models. Marked here by file, so that `pytest -m "not slow"` is the inner loop; every
  slow test still runs in `make test`.
* **Order for pytest-xdist.** `make test` distributes whole files (`--dist loadfile`, so a module's fixtures, e.g.
  one graded class, are built once) in collection order (`--no-loadscope-reorder`). The longest files go first,
  so that no worker starts a 3-minute file when the others are done. Their costs are the measured wall seconds of
  bench/results/test_durations.json (`python bench/test_durations.py`); a file not in it counts as short.
* **Threads.** Each of N workers (and the notebook kernels and graders it starts, which inherit its environment)
  gets cores/N math threads, unless OMP_NUM_THREADS is set. With torch's default of one thread per core on every
  worker, the spinning thread pools fought over the cores: the eight solutions/ notebooks took 445 s on two workers
  instead of 119 s (2 cores, measured 2026-12-07), and a 3.6 s notebook cell took 71 s in CI.
* **solutions/ notebooks run their graded cells and what those need** (tests/notebook_slice.py): every cell runs
  whole in lectures/, which is solutions/ released; what solutions/ adds is the instructor's answers passing their
  visible test cells in the notebook. The rest of solutions/ took 150 of its 227 s (2 cores, 2026-12-07).
  ``COURSE_TEST_SOLUTIONS=whole`` (``make test-solutions``) runs solutions/ whole.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re

WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1 and "OMP_NUM_THREADS" not in os.environ:  # before anything imports torch
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // WORKERS))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw their examples from a seed fixed per test, and remember nothing between runs: a run gives
# what the last one gave. (A random draw once turned CI red on an edge no earlier run had met: sRGB's threshold,
# now an explicit example in test_colorization_core.py.) HYPOTHESIS_PROFILE=explore draws afresh, to hunt for more.
settings.register_profile("course", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))

ROOT = pathlib.Path(__file__).resolve().parent
DURATIONS = ROOT / "bench" / "results" / "test_durations.json"

# Files that are slow by what they do (the other tests are unit tests of seconds).
SLOW_FILES = {
    "tests/test_grading.py",  # grades lecture 00 with nbgrader, in parallel, on Dask, into PostgreSQL
    "tests/test_grading_sandbox.py",  # a class of hostile submissions, graded in the sandbox
    "tests/test_grading_limits.py",  # an endless loop graded, grading as a normal user
    "tests/test_exercise_wrong_answers.py",  # every lecture's checks, through the checker's answer server
    "tests/test_grading_checker.py",  # answer servers in the sandbox, one per case
    "tests/test_project.py",  # releases every lecture with nbgrader
}
SLOW_PREFIXES = ("solutions/", "lectures/")  # the notebooks, executed by nbval
SLOW_SUFFIXES = ("_checkpoints.py",)  # re-evaluate every shipped checkpoint on its test split
# ... and the tests elsewhere that do the same (test_localization_metrics.py, test_pose_detector.py, ...)
SLOW_NAMES = re.compile(r"checkpoints?_reproduce|shipped_.*checkpoint")


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def is_slow(path: str, name: str = "") -> bool:
    return (path in SLOW_FILES or path.startswith(SLOW_PREFIXES) or path.endswith(SLOW_SUFFIXES)
            or SLOW_NAMES.search(name) is not None)


def _costs() -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(DURATIONS.read_text())["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _graded_slice():
    spec = importlib.util.spec_from_file_location("notebook_slice", ROOT / "tests" / "notebook_slice.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.graded_slice


def _slice_solutions(config, items) -> None:
    """Deselect the cells of solutions/ notebooks that no graded cell needs (see the module docstring)."""
    if os.environ.get("COURSE_TEST_SOLUTIONS", "").lower() == "whole":
        return
    graded_slice, keep, dropped = _graded_slice(), {}, []
    for item in items:
        notebook = item.parent
        if not (_file(item).startswith("solutions/") and _file(item).endswith(".ipynb") and hasattr(item, "cell_num")):
            continue
        if notebook not in keep:
            code = [c for c in notebook.nb.cells if c.cell_type == "code"]
            keep[notebook] = graded_slice([c.source for c in code], ["nbgrader" in c.metadata for c in code])
        if item.cell_num not in keep[notebook]:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]


def pytest_collection_modifyitems(config, items):
    _slice_solutions(config, items)
    slow = pytest.mark.slow
    for item in items:
        if is_slow(_file(item), item.name):
            item.add_marker(slow)
    costs = _costs()
    # Longest file first; within a file the collected order stays (nbval's cells must run in order).
    first_seen = {}
    for i, item in enumerate(items):
        first_seen.setdefault(_file(item), i)
    items.sort(key=lambda item: (-costs.get(_file(item), 0.0), first_seen[_file(item)]))
