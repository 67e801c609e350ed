"""The grading round trip on lecture 00: release, fabricated submissions, autograde, export; points checked.

Graded serially with plain nbgrader commands, then by `make grade`'s driver in parallel (JOBS=2), on a Dask
LocalCluster of 2 workers into a real PostgreSQL server started by the test (into SQLite, saying why, where the
distribution's PostgreSQL is not installed), and on a real cluster (`dask scheduler` and two `dask worker`
processes) into SQLite; every gradebook must hold the serial scores.
"""

import contextlib
import csv
import os
import subprocess
import sys

import pytest
from nbtools import (
    BIN,
    STUB,
    course_copy,
    dask_cluster,
    gradebook_scores,
    nbgrader,
    postgres_server,
    postgres_unavailable,
    read,
    submit,
)

LECTURE = "00_welcome"
ANSWERS = {
    "ex_conv_output_size": "    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1\n",
    "ex_receptive_field": (
        "    r, j = 1, 1\n"
        "    for layer in layers:\n"
        "        d = layer[3] if len(layer) == 4 else 1\n"
        "        r += d * (layer[0] - 1) * j\n"
        "        j *= layer[1]\n"
        "    return r, j\n"
    ),
}
# Right on the visible tests (padding 0 and stride 1 cases), wrong on hidden ones: dilation is ignored.
WRONG = {"ex_receptive_field": (
    "    r, j = 1, 1\n"
    "    for layer in layers:\n"
    "        r += (layer[0] - 1) * j\n"
    "        j *= layer[1]\n"
    "    return r, j\n"
)}


# The parallel and cluster runs below grade lecture 00's graded cells only (nbtools.course_copy(graded_only=True):
# the same exercises and checks, seconds instead of the lecture's minute) with a fixed notebook limit, so the driver
# does not first time the solution (calibration has its own tests in test_grading_checker.py). Their point is that
# the gradebook equals the serial one, which grades the whole lecture.
FIXED_LIMIT = {"COURSE_GRADE_NOTEBOOK_S": "240"}


def _submit(course, student, answers):
    submit(course, LECTURE, student, answers)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = course_copy(tmp_path_factory.mktemp("grading"), [LECTURE])
    _submit(course, "ada", ANSWERS)
    _submit(course, "bob", {**ANSWERS, **WRONG})
    _submit(course, "cyd", {})
    nbgrader(["autograde", LECTURE, "--force"], cwd=course, COURSE_PROFILE="fast", MPLBACKEND="Agg")
    nbgrader(["generate_feedback", LECTURE, "--force"], cwd=course)
    nbgrader(["export", "--to", "grades.csv"], cwd=course)
    with open(course / "grades.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    return course, rows


def test_points_per_submission(graded):
    _, rows = graded
    assert float(rows["ada"]["max_score"]) == 4.0
    assert float(rows["ada"]["score"]) == 4.0, "all correct: full marks"
    assert float(rows["bob"]["score"]) == 2.0, "one exercise wrong on hidden tests: half marks"
    assert float(rows["cyd"]["score"]) == 0.0, "nothing done: the reference fallback must not earn points"


def test_feedback_exists_and_hides_hidden_tests(graded):
    course, _ = graded
    for student in ("ada", "bob", "cyd"):
        html = (course / "feedback" / student / LECTURE / f"{LECTURE}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html
        assert "expected = reference(size, k, s, p, d)" not in html, "hidden test code leaked"


def test_release_replaces_each_solution_by_a_stub(graded):
    course, _ = graded
    # That the stubbed notebook still runs (reference fallback) is checked by nbval over lectures/.
    nb = read(course / "lectures" / LECTURE / f"{LECTURE}.ipynb")
    stubs = [c for c in nb["cells"] if STUB in "".join(c["source"])]
    assert len(stubs) == len(ANSWERS)


def test_parallel_grading_gives_the_serial_gradebook(graded, tmp_path):
    serial_course, _ = graded
    course = course_copy(tmp_path, [LECTURE], graded_only=True)
    _submit(course, "ada", ANSWERS)
    _submit(course, "bob", {**ANSWERS, **WRONG})
    _submit(course, "cyd", {})
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROFILE": "fast",
           "MPLBACKEND": "Agg", **FIXED_LIMIT}
    proc = subprocess.run([sys.executable, "-m", "course_lib.grading", "--jobs", "2"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"make grade's driver failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "[3/3]" in proc.stdout and "slowest:" in proc.stdout, proc.stdout
    serial, parallel = gradebook_scores(serial_course, LECTURE), gradebook_scores(course, LECTURE)
    assert len(serial) == 6, serial
    assert parallel == serial
    for student in ("ada", "bob", "cyd"):
        assert (course / "feedback" / student / LECTURE / f"{LECTURE}.html").exists()


def _drive(course, *args) -> subprocess.CompletedProcess:
    """`make grade`'s driver, as `make grade` runs it (with a fixed notebook limit: see FIXED_LIMIT)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROFILE": "fast",
           "MPLBACKEND": "Agg", **FIXED_LIMIT}
    proc = subprocess.run([sys.executable, "-m", "course_lib.grading", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"the driver failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _serial_scores(graded, students) -> dict:
    scores = {k: v for k, v in gradebook_scores(graded[0], LECTURE).items() if k[0] in students}
    assert len(scores) == 2 * len(students), scores
    return scores


def test_a_local_dask_cluster_gives_the_serial_gradebook(graded, tmp_path):
    """`--cluster local:2`, grading into a PostgreSQL server started by the test where the distribution's PostgreSQL
    is installed (else into the default SQLite gradebook, saying so). One run for both: the LocalCluster is three
    lines of scaleout.connect, and the real cluster below grades into SQLite through its workers."""
    course = course_copy(tmp_path, [LECTURE], graded_only=True)
    _submit(course, "ada", ANSWERS)
    _submit(course, "cyd", {})
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_server()) if postgres_unavailable() is None else None
        proc = _drive(course, "--cluster", "local:2", *(["--db", url] if url else []))
        assert "2 at a time on Dask scheduler" in proc.stdout and "(2 workers)" in proc.stdout, proc.stdout
        assert "[2/2]" in proc.stdout, proc.stdout
        assert gradebook_scores(course, LECTURE, url) == _serial_scores(graded, ("ada", "cyd"))
    if url is None:
        print(f"graded into SQLite: {postgres_unavailable()}")
    else:
        assert not (course / "gradebook.db").exists() or gradebook_scores(course, LECTURE) == {}, \
            "with --db the SQLite gradebook must not receive grades"
    for student in ("ada", "cyd"):
        assert (course / "autograded" / student / LECTURE / f"{LECTURE}.ipynb").exists()
        assert (course / "feedback" / student / LECTURE / f"{LECTURE}.html").exists()
    with open(course / "grades.csv") as f:
        assert {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)} == {"ada": 4.0, "cyd": 0.0}


def test_a_real_dask_cluster_gives_the_serial_gradebook(graded, tmp_path):
    """`dask scheduler` and two `dask worker` processes started as an instructor would, working in a folder of
    their own: the submission, config and grades travel with each task; the gradebook still matches."""
    pytest.importorskip("distributed")
    course = course_copy(tmp_path, [LECTURE], graded_only=True)
    _submit(course, "ada", ANSWERS)
    _submit(course, "bob", {**ANSWERS, **WRONG})
    with dask_cluster(2, tmp_path / "cluster") as address:
        proc = _drive(course, "--scheduler", address)
    assert f"on Dask scheduler {address} (2 workers)" in proc.stdout, proc.stdout
    assert "[2/2]" in proc.stdout, proc.stdout
    assert gradebook_scores(course, LECTURE) == _serial_scores(graded, ("ada", "bob"))
    assert not list((tmp_path / "cluster").rglob("*.ipynb")), "a worker left a student's notebook behind"
    with open(course / "grades.csv") as f:
        assert {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)} == {"ada": 4.0, "bob": 2.0}
