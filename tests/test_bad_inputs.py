"""The permanent bad-input suite: every public boundary of course_lib answers a wrong input with a clear error.

One row per (public function, bad input): the error type, and a fragment of the message that names the offending
value (a shape, a dtype, a range, a number, a path). Each subpackage's rows live in ``tests/bad_inputs/<topic>.py``
(core's in ``core.py``) and are collected here, so a new subpackage adds its own file; a row whose call does not
raise, raises something else, or raises without naming the value fails.

Each row is ``(id, thunk, error type, regex)``; the thunk builds the bad input and calls the function.
"""

from __future__ import annotations

import pathlib
import re
import runpy

import pytest
import torch
from bad_input_helpers import seg

from course_lib.core.environment import environment_report

ROW_FILES = sorted((pathlib.Path(__file__).parent / "bad_inputs").glob("*.py"))
ROWS = [row for path in ROW_FILES for row in runpy.run_path(str(path))["ROWS"]]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_gets_a_clear_error(row, tmp_path):
    _, thunk, error, fragment = row
    with pytest.raises(error) as info:
        thunk(tmp_path)
    message = str(info.value)
    assert re.search(fragment, message), f"message does not name the value: {message!r}"
    assert "Traceback" not in message


def test_rows_have_unique_ids():
    ids = [r[0] for r in ROWS]
    assert len(ids) == len(set(ids))


def test_environment_report_survives_an_unavailable_device(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: COURSE_DEVICE=cuda is available here")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    report = environment_report()
    assert report["device"].startswith("unavailable:") and "cuda" in report["device"]
    assert report["gpu"] == "none"


def test_evaluate_segmentation_refuses_a_model_of_another_class_count():
    model = seg.FCN(3, "32s", width=2)
    with pytest.raises(ValueError, match=r"the model gives \(1, 3, 32, 32\) logits, but num_classes=5"):
        seg.evaluate_segmentation(model, torch.rand(1, 3, 32, 32), torch.zeros(1, 32, 32, dtype=torch.long), 5)
