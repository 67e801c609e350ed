"""Exercises that a wrong answer cannot pass: each graded test cell, decided by the trusted checker, on plausible
mistakes.

For every row, the lecture's answer cells run in the checker's answer server (``course_lib.grading.answers``, the
sandboxed student side, with the lecture's references withheld) with one answer replaced by a *wrong* version; the
check of ``solutions/<lecture>/checks.py`` for its graded test cell must fail. The control: the instructor's own
answer passes the same check, so a failure is the wrong answer's, not the harness's. ``RIGHT`` holds answers that
differ from the instructor's but meet the specification (they must pass). Every graded test cell of every lecture
has a row and a check. The rows live with their lecture, in ``tests/exercise_rows/<lecture>.py``.

The exploits of issue 14 (h), as student code in the answer server: the same wrong answers followed by code that
replaces the checking helpers (``torch.testing.assert_close`` a no-op, ``exercise`` returning the reference, the
answer rebound to ``exercise(answer, reference=...)``) or makes every module attribute bound to the reference
mirror the wrong answer. The checker compares on its own side with its own references, so these fail too, and
an answer that only calls the course_lib reference finds it withheld.

One answer server per lecture, reused across rows (each ``load`` starts a fresh namespace); the exploit rows, which
patch modules, share one fresh server of their own, with every lecture's references withheld.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import re
import runpy
import tempfile

import nbformat
import pytest
from nbtools import ROOT

from course_lib.grading import checker

# Every lecture's rows live with that lecture, in tests/exercise_rows/<lecture>.py: ``ROWS`` of (lecture, grade_id
# of the answer cell, grade_id of the test cell, {mistake: wrong answer source}) and ``RIGHT`` of answers that meet
# the specification in another form. This driver collects them; adding a lecture adds a file, not rows here.
ROW_FILES = sorted((pathlib.Path(__file__).parent / "exercise_rows").glob("*.py"))
ROWS, RIGHT = [], []
for _path in ROW_FILES:
    _rows = runpy.run_path(str(_path))
    assert all(row[0] == _path.stem for row in _rows["ROWS"] + _rows.get("RIGHT", [])), _path.name
    ROWS += _rows["ROWS"]
    RIGHT += _rows.get("RIGHT", [])

CASES = [(lec, ans, test, name, src) for lec, ans, test, wrong in ROWS for name, src in wrong.items()]
RIGHT_CASES = [(lec, ans, test, name, src) for lec, ans, test, right in RIGHT for name, src in right.items()]
LECTURES = sorted({row[0] for row in ROWS})


class _Lecture:
    """A lecture's solutions notebook as the checker sees it: its answer cells, and the test cells' bindings."""

    def __init__(self, lecture: str):
        self.nb = nbformat.read(ROOT / "solutions" / lecture / f"{lecture}.ipynb", 4)
        self.checks_path = ROOT / "solutions" / lecture / "checks.py"
        self.checks, self.references = checker.load_checks(self.checks_path)
        code = [c for c in self.nb.cells if c.cell_type == "code"]
        self.cells = checker.answer_cells(self.nb)
        self.index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(code)}
        self.tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in checker.graded_test_cells(self.nb)}

    def cells_with(self, answer_id: str, source: str, *more: str) -> list[dict]:
        """The answer cells with ``answer_id``'s replaced by ``source``, then ``more`` student cells."""
        cells = [dict(c) for c in self.cells]
        cells[self.index[answer_id]] = {"source": source, "solution": True}
        return cells + [{"source": s, "solution": True} for s in more]

    def binding(self, test_id: str) -> tuple[str, str]:
        """(answer name, reference expression) of the test cell's ``name = exercise(name, reference=...)``."""
        found = re.search(r'^(\w+) = (?:exercise|original\("[^"]*"\))\(\s*\1, reference=(.+)\)$', self.tests[test_id],
                          re.M)
        assert found, f"{test_id}: no `name = exercise(name, reference=...)` line"
        return found.groups()


class _Servers:
    """Answer servers, started together (their imports overlap) and reused; closed at the end of the module."""

    def __init__(self):
        self.lectures = {lec: _Lecture(lec) for lec in LECTURES}
        self.tmp = tempfile.TemporaryDirectory(prefix="convnet-wrong-answers-")
        self.students: dict[str, checker.Student] = {}
        union = [ref for lec in self.lectures.values() for ref in lec.references.values()]
        keys = {**{lec: list(data.references.values()) for lec, data in self.lectures.items()}, "exploits": union}
        for key, references in keys.items():
            self.students[key] = self._start(key, references)
        with concurrent.futures.ThreadPoolExecutor(len(self.students)) as pool:  # the first loads import in parallel
            warm = {key: pool.submit(s.load, self.lectures[LECTURES[0] if key == "exploits" else key].cells)
                    for key, s in self.students.items()}
            for key, future in warm.items():
                assert future.result() == [], f"{key}: the instructor's answer cells did not load"

    def _start(self, key, references):
        root = pathlib.Path(self.tmp.name, key)
        checker.withheld_course_lib(references, root)
        for folder, _, files in os.walk(self.tmp.name):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        return checker.start_student(root)

    def verdict(self, key: str, lecture: str, test_id: str, cells: list[dict]) -> tuple[bool, str]:
        student = self.students[key]
        errors = student.load(cells)
        assert errors == [], f"the answer cells did not load (a slip of the harness): {errors}"
        return checker.run_checks(self.lectures[lecture].checks, student, [test_id])[test_id]

    def close(self):
        for student in self.students.values():
            student.close()
        self.tmp.cleanup()


@pytest.fixture(scope="module")
def servers():
    pool = _Servers()
    yield pool
    pool.close()


def _slip(message: str) -> bool:
    """A failure of the harness, not of the answer: the function was not defined, or the check did not run."""
    return "no function" in message or message.startswith("not checked") or "answer process" in message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_the_instructors_answer_passes_its_check(servers, lecture, answer_id, test_id):
    data = servers.lectures[lecture]
    passed, message = servers.verdict(lecture, lecture, test_id, data.cells)
    assert passed, message


@pytest.mark.parametrize("lecture,answer_id,test_id,variant,source", RIGHT_CASES,
                         ids=[f"{c[2]}: {c[3]}" for c in RIGHT_CASES])
def test_a_right_answer_in_another_form_passes(servers, lecture, answer_id, test_id, variant, source):
    cells = servers.lectures[lecture].cells_with(answer_id, source)
    passed, message = servers.verdict(lecture, lecture, test_id, cells)
    assert passed, message


@pytest.mark.parametrize("lecture,answer_id,test_id,mistake,source", CASES, ids=[f"{c[2]}: {c[3]}" for c in CASES])
def test_a_plausible_wrong_answer_fails_its_check(servers, lecture, answer_id, test_id, mistake, source):
    cells = servers.lectures[lecture].cells_with(answer_id, source)
    passed, message = servers.verdict(lecture, lecture, test_id, cells)
    assert not passed, f"{mistake!r} passed"
    assert not _slip(message), message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_an_answer_that_calls_the_reference_fails(servers, lecture, answer_id, test_id):
    data = servers.lectures[lecture]
    name, reference = data.binding(test_id)
    source = f"def {name}(*args, **kwargs):\n    return ({reference})(*args, **kwargs)\n"
    passed, message = servers.verdict(lecture, lecture, test_id, data.cells_with(answer_id, source))
    assert not passed and "withheld" in message, message


_PATCH_HELPERS = """
import torch
import course_lib.core
import course_lib.core.exercises

def exercise(student, *, reference, name=None):
    return reference

torch.testing.assert_close = lambda *args, **kwargs: None
course_lib.core.exercise = course_lib.core.exercises.exercise = exercise
"""


def _replace_helpers(name: str, reference: str) -> list[str]:
    """(h) Checks that check nothing, and an ``exercise`` that hands back the reference instead of the answer."""
    return [_PATCH_HELPERS, f"{name} = exercise({name}, reference={reference})\n"]


def _mirror_reference(name: str, reference: str) -> list[str]:
    """(h) Every module attribute bound to the exercise's reference now calls the student's answer instead."""
    return [f"""
import sys
_genuine, _answer = ({reference}), {name}

def _mirror(*args, **kwargs):
    return _answer(*args, **kwargs)

for _module in list(sys.modules.values()):
    for _key, _value in list(getattr(_module, "__dict__", {{}}).items()):
        if _value is _genuine:
            setattr(_module, _key, _mirror)
"""]


H_CASES = [pytest.param(*case, tamper, id=f"{case[2]}: {case[3]}, {tamper.__name__.strip('_')}")
           for case in CASES for tamper in (_replace_helpers, _mirror_reference)]


@pytest.mark.parametrize("lecture,answer_id,test_id,mistake,source,tamper", H_CASES)
def test_h_a_wrong_answer_fails_even_with_the_helpers_replaced(servers, lecture, answer_id, test_id, mistake, source,
                                                               tamper):
    data = servers.lectures[lecture]
    passed, message = servers.verdict("exploits", lecture, test_id,
                                      data.cells_with(answer_id, source, *tamper(*data.binding(test_id))))
    assert not passed, f"{mistake!r} with {tamper.__name__} passed"
    assert not _slip(message), message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_h_the_instructors_answer_still_passes_beside_the_tampering(servers, lecture, answer_id, test_id):
    # The control: the tampering itself (helpers patched, references mirrored) does not break the harness.
    data = servers.lectures[lecture]
    name, reference = data.binding(test_id)
    cells = data.cells_with(answer_id, data.cells[data.index[answer_id]]["source"], _PATCH_HELPERS,
                            *_mirror_reference(name, reference))
    passed, message = servers.verdict("exploits", lecture, test_id, cells)
    assert passed, message


def test_every_graded_test_cell_is_covered():
    covered = {(r[0], r[2]) for r in ROWS}
    assert len(covered) == len(ROWS), "one row per test cell"
    for lecture, _, test_id, wrong in ROWS:
        assert wrong, f"{lecture}/{test_id}: no wrong answer"
    graded = set()
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*/*.ipynb")):
        ids = {meta["grade_id"] for cell in json.loads(path.read_text())["cells"]
               if (meta := cell["metadata"].get("nbgrader", {})).get("grade") and not meta.get("solution")}
        graded |= {(path.parent.name, i) for i in ids}
        checks, _ = checker.load_checks(path.parent / "checks.py")
        assert ids - set(checks) == set(), f"{path.parent.name}: graded test cells with no trusted check"
    assert graded - covered == set(), "graded test cells with no wrong answers here"
    assert covered <= graded, "rows naming test cells that do not exist"
