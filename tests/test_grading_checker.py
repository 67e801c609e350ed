"""The pieces of issue 18 that need no nbgrader run: the plain-data channel, the withheld course_lib, the trusted
checker on a lecture's checks, intake, grades.csv quoting and the calibrated time limit.

The whole pipeline, with hostile submissions, is graded by the real driver in tests/test_grading_sandbox.py.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import pathlib
import subprocess
import sys

import nbformat
import pytest
import torch
from nbtools import ROOT

from course_lib.grading import answers, checker, driver, intake, report

LECTURE = "00_welcome"
CHECKS = ROOT / "solutions" / LECTURE / "checks.py"


# -- the channel ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, True, 3, -2.5, "text", [1, [2.0]], (1, 2), {"a": (1, [2])},
                                   float("inf"), float("-inf")])
def test_plain_values_cross_the_channel_unchanged(value):
    back = answers.decode(json.loads(json.dumps(answers.encode(value))))
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.uint8, torch.bool])
def test_tensors_are_rebuilt_from_their_bytes(dtype):
    x = (torch.arange(24).reshape(2, 3, 4) % 5).to(dtype)
    back = answers.decode(json.loads(json.dumps(answers.encode(x))))
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == x.shape
    assert torch.equal(back, x)


def test_what_is_not_plain_data_crosses_as_unsupported_and_equals_nothing():
    class Always(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    import numpy as np

    for value in (Always(3), np.float64(1.0), object(), torch.nn.Parameter(torch.zeros(2)), {1: 2}):
        back = answers.decode(answers.encode(value))
        assert isinstance(back, answers.Unsupported) and back != back, value


@pytest.mark.parametrize("message, match", [
    ({"$tensor": {"dtype": "float32", "shape": [2, 2], "data": base64.b64encode(bytes(12)).decode()}}, "bytes for"),
    ({"$tensor": {"dtype": "object", "shape": [1], "data": ""}}, "dtype must be"),
    ({"$tensor": {"dtype": "float32", "shape": [-1], "data": ""}}, "shape must be"),
    ({"$tensor": {"dtype": "uint8", "shape": [2**30], "data": ""}}, "elements is over"),
    ({"$eval": "1+1"}, "unknown tag"),
    ({"a": 1, "b": 2}, "one-key tag"),
])
def test_a_forged_message_is_refused(message, match):
    with pytest.raises(answers.ChannelError, match=match):
        answers.decode(message)


# -- the withheld course_lib and the checker ----------------------------------------------------------------------


def test_withheld_references_raise_and_everything_else_is_intact(tmp_path):
    copy = checker.withheld_course_lib(["course_lib.core.receptive:conv_output_size"], tmp_path)
    assert not list(copy.rglob("__pycache__")), "compiled bytecode would still hold the reference"
    source = (copy / "core" / "receptive.py").read_text()
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import course_lib.core.receptive as r\n"
             "assert r.__file__.startswith(sys.argv[1]), r.__file__\n"
             "print(r.receptive_field([(3, 1), (3, 1)]))\n"
             "r.conv_output_size(32, 3, padding=1)\n")
    proc = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True)
    assert proc.stdout.strip() == "(5, 1)", "other functions keep their bodies: " + proc.stderr[-2000:]
    assert "withheld while this exercise is graded" in proc.stderr, proc.stderr[-2000:]
    assert '"""' in source.split("def conv_output_size")[1].split("raise RuntimeError")[0], "the docstring stays"
    with pytest.raises(ValueError, match="defines no function"):
        checker.withheld_course_lib(["course_lib.core.receptive:nothing_here"], tmp_path / "other")


def _with_answers(answers_by_id: dict) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / LECTURE / f"{LECTURE}.ipynb", 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers_by_id:
            cell.source = answers_by_id[grade_id]
    return nb


SIGNATURE = "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"


def test_the_instructors_answers_pass_and_the_release_stubs_fail():
    verdicts = checker.check_notebook(_with_answers({}), CHECKS, call_s=30)
    assert verdicts == {"test_conv_output_size": (True, checker.PASSED_NOTE),
                        "test_receptive_field": (True, checker.PASSED_NOTE)}
    released = nbformat.read(ROOT / "lectures" / LECTURE / f"{LECTURE}.ipynb", 4)
    assert not any(ok for ok, _ in checker.check_notebook(released, CHECKS, call_s=30).values())


@pytest.mark.parametrize("name, source, why", [
    ("calls the library's reference", "import course_lib\n" + SIGNATURE +
     "    return course_lib.core.receptive.conv_output_size(size, kernel, stride, padding, dilation)\n", "withheld"),
    ("fetches it afresh with original()", "from course_lib.core.exercises import original\n" + SIGNATURE +
     "    return original('course_lib.core.receptive:conv_output_size')(size, kernel, stride, padding, dilation)\n",
     "withheld"),
    ("compiles the reference from its file", SIGNATURE + "    import ast, course_lib.core.receptive as r\n"
     "    tree = ast.parse(open(r.__file__).read())\n"
     "    fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == 'conv_output_size']\n"
     "    ns = {}\n    exec(compile(ast.Module(fn, []), 'x', 'exec'), ns)\n"
     "    return ns['conv_output_size'](size, kernel, stride, padding, dilation)\n", "withheld"),
    ("an int whose == is always true", "class I(int):\n    def __eq__(self, o):\n        return True\n"
     "    __hash__ = int.__hash__\n" + SIGNATURE + "    return I(1)\n", "specification does not allow"),
    ("a float where the spec says int", SIGNATURE +
     "    return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1\n", "expected the int"),
    ("an endless loop", SIGNATURE + "    while True:\n        pass\n", "no answer within"),
    ("exits the answer process", "import os\nos._exit(0)\n", "could not be loaded"),
    ("prints into the channel", "import os\n" + SIGNATURE +
     "    os.write(1, b'{\"ok\": true, \"value\": 32}\\n')\n    return 0\n", "expected the int"),
    # The protocol's own descriptor is in the student's process: replies written there ahead of time would be read
    # as the answers to later requests, unless each reply must echo the checker's random id.
    ("writes replies into the protocol's descriptor", "import os\n"
     "forged = b'{\"ok\": true, \"errors\": []}\\n' + b'{\"ok\": true, \"value\": 112}\\n' * 20\n"
     "for fd in range(3, 30):\n    try:\n        os.write(fd, forged)\n    except OSError:\n        pass\n"
     + SIGNATURE + "    return 0\n", "did not send"),
])
def test_tricks_on_the_students_side_earn_nothing(name, source, why):
    ok, message = checker.check_notebook(_with_answers({"ex_conv_output_size": source}), CHECKS,
                                         call_s=5)["test_conv_output_size"]
    assert not ok and why in message, (name, message)


def test_loading_has_its_own_budget_and_an_endless_loop_there_is_stopped():
    # The answer cells import torch and course_lib, which on a busy machine takes longer than a call's 5 s: the
    # load is bounded by load_s, not call_s (a CI run once failed two cases above on exactly that).
    student = checker.Student(["true"], call_s=5)
    assert student.load_s == checker.LOAD_S > 5
    student.close()
    source = "while True:\n    pass\n"
    verdicts = checker.check_notebook(_with_answers({"ex_conv_output_size": source}), CHECKS, call_s=5, load_s=8)
    assert verdicts == {g: (False, "your answer cells could not be loaded: no answer within 8 s (an endless loop?)")
                        for g in ("test_conv_output_size", "test_receptive_field")}


def test_cells_from_where_the_notebook_was_stopped_are_not_run_again():
    """The grader's limits stopped the notebook in an answer cell (BoundedExecute records where): that cell and the
    ones after it are not loaded into the answer server, so an endless loop costs the notebook's time limit once,
    not the load's 60 s again. The test cells the notebook never reached are not checked and say so; the ones
    before it are decided as usual."""
    nb = _with_answers({"ex_conv_output_size": "while True:\n    pass\n"})
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    stop = ids.index("ex_conv_output_size")
    assert checker.answer_cells(nb, stopped_at=stop) == [], "no answer cell before the one stopped: nothing to run"
    assert sum(c["solution"] for c in checker.answer_cells(nb, stopped_at=ids.index("ex_receptive_field"))) == 1
    verdicts = checker.check_notebook(nb, CHECKS, call_s=5, load_s=60, stopped_at=stop)
    assert verdicts == {g: (False, checker.STOPPED_NOTE) for g in ("test_conv_output_size", "test_receptive_field")}
    after = _with_answers({"ex_receptive_field": "while True:\n    pass\n"})
    verdicts = checker.check_notebook(after, CHECKS, call_s=5, load_s=60,
                                      stopped_at=ids.index("ex_receptive_field"))
    assert verdicts == {"test_conv_output_size": (True, checker.PASSED_NOTE),
                        "test_receptive_field": (False, checker.STOPPED_NOTE)}, verdicts
    # Stopped in the last test cell: every answer cell finished and is loaded; only that cell is not checked.
    verdicts = checker.check_notebook(_with_answers({}), CHECKS, call_s=5, load_s=60,
                                      stopped_at=ids.index("test_receptive_field"))
    assert verdicts == {"test_conv_output_size": (True, checker.PASSED_NOTE),
                        "test_receptive_field": (False, checker.STOPPED_NOTE)}, verdicts


def test_a_verdict_replaces_what_nbgrader_would_read_as_points():
    def cell(outputs):
        return nbformat.v4.new_code_cell("x", outputs=[nbformat.from_dict(o) for o in outputs])

    fooled = cell([{"output_type": "execute_result", "data": {"text/plain": "2.0"}, "metadata": {},
                    "execution_count": 1}])
    assert checker.apply_verdict(fooled, False, "wrong") is False
    assert fooled.outputs[0].output_type == "error" and fooled.outputs[1].output_type == "display_data"
    noisy = cell([{"output_type": "stream", "name": "stderr", "text": "warning"}])
    assert checker.apply_verdict(noisy, True, "passed") is False, "stderr in a graded cell scores 0"
    clean = cell([{"output_type": "stream", "name": "stdout", "text": "fine"}])
    assert checker.apply_verdict(clean, True, checker.PASSED_NOTE) is True
    assert all(o.output_type != "error" for o in clean.outputs)


def test_every_graded_test_cell_of_every_lecture_has_a_trusted_check():
    for solution in sorted((ROOT / "solutions").glob("[0-9][0-9]_*/*.ipynb")):
        checks, references = checker.load_checks(solution.parent / "checks.py")
        graded = [c.metadata["nbgrader"]["grade_id"] for c in checker.graded_test_cells(nbformat.read(solution, 4))]
        assert graded and sorted(checks) == sorted(graded), solution.name
        # (a cell with several references names the others "grade_id, what")
        assert {key.split(",")[0] for key in references} <= set(checks), solution.name
        assert "BEGIN HIDDEN TESTS" not in solution.read_text(), f"{solution.name}: hidden tests in the notebook"


def test_checks_are_never_released():
    assert not list((ROOT / "lectures").rglob("checks.py"))


# -- intake, grades.csv, the calibrated limit --------------------------------------------------------------------


def test_intake_accepts_a_clean_submission_and_says_why_it_refuses_others(tmp_path):
    submitted = tmp_path / "submitted"
    good = (ROOT / "lectures" / LECTURE / f"{LECTURE}.ipynb").read_text()

    def folder(student, lecture=LECTURE):
        path = submitted / student / lecture
        path.mkdir(parents=True)
        return path

    (folder("ada") / f"{LECTURE}.ipynb").write_text(good)
    (submitted / "ada" / LECTURE / "notes.txt").write_text("mine")
    (folder("big") / f"{LECTURE}.ipynb").write_bytes(b" " * (3 * 2**20))
    (folder("other", "99_unknown") / "x.ipynb").write_text(good)
    os.symlink("/etc/passwd", folder("dangling") / f"{LECTURE}.ipynb")
    (folder("empty_nb") / f"{LECTURE}.ipynb").write_text("{}")
    accepted, refused = intake.check_class(str(submitted), [LECTURE],
                                           intake.IntakeLimits(max_file_mb=2, max_submission_mb=5, max_files=5))
    assert accepted == {LECTURE: ["ada"]}
    reasons = {student: why for _, student, why in refused}
    assert "over the 2 MB per file" in reasons["big"]
    assert "not a lecture of this course" in reasons["other"]
    assert "symbolic link" in reasons["dangling"]
    assert "not a version 4 notebook" in reasons["empty_nb"]


def test_intake_limits_come_from_the_environment_and_are_checked():
    assert intake.IntakeLimits.from_env({"COURSE_GRADE_MAX_FILE_MB": "5"}).max_file_mb == 5
    with pytest.raises(ValueError, match="COURSE_GRADE_MAX_FILES must be positive"):
        intake.IntakeLimits.from_env({"COURSE_GRADE_MAX_FILES": "0"})


def test_grades_csv_keeps_every_cell_in_its_column(tmp_path):
    export = [{"assignment": LECTURE, "student_id": "ada", "raw_score": "4.0", "score": "4.0", "max_score": "4.0"}]
    refused = [(LECTURE, "eve\\,4.0", 'the student id is not accepted, "quoted"'),
               (LECTURE, "=cmd|' /C calc'!A0", "formula")]
    report.write_grades(tmp_path, export, refused)
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert all(len(row) == len(report.GRADES_COLUMNS) for row in rows)
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["eve\\,4.0"][2].startswith("not graded:") and by_id["eve\\,4.0"][5] == "0"
    assert "'=cmd|' /C calc'!A0" in by_id, "a cell a spreadsheet would run as a formula is defused"


def test_the_time_limit_is_calibrated_once_per_solution(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "solutions" / LECTURE).mkdir(parents=True)
    solution = course / "solutions" / LECTURE / f"{LECTURE}.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)")])
    nbformat.write(nb, solution)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_GRADE_NOTEBOOK_S"}
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    out = []

    class Out:
        write = out.append

    assert driver.calibrate(course, LECTURE, env, Out) == driver.CALIBRATION_FLOOR_S
    cached = json.loads((course / ".grading" / "calibration.json").read_text())[LECTURE]
    assert cached["seconds"] >= 1.5 and "time limit for 00_welcome: 120 s" in "".join(out)
    cached["seconds"] = 30.0  # as if the solution took 30 s: 10 x that
    (course / ".grading" / "calibration.json").write_text(json.dumps({LECTURE: cached}))
    assert driver.calibrate(course, LECTURE, env, Out) == 300, "the cached measure is used, not a new run"
    assert driver.calibrate(course, LECTURE, {**env, "COURSE_GRADE_NOTEBOOK_S": "77"}, Out) == 77
