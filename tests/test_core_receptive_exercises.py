import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.core import exercise
from course_lib.core.receptive import conv_output_size, receptive_field
from course_lib.core.toy import bars


@settings(max_examples=40, deadline=None)
@given(size=st.integers(8, 40), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2))
def test_output_size_matches_torch(size, k, s, p, d):
    if size + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_output_size(size, k, s, p, d)
        return
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv_output_size(size, k, s, p, d) == conv(torch.zeros(1, 1, size, size)).shape[-1]


def test_receptive_field_matches_gradient_support():
    layers = [(3, 1), (3, 2), (3, 1), (2, 2), (3, 1)]
    stack = nn.Sequential(*[nn.Conv2d(1, 1, k, s) if k == 3 else nn.AvgPool2d(k, s) for k, s in layers])
    for m in stack:
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    y = stack(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    width = int((x.grad[0, 0].abs() > 0).any(dim=0).sum())
    assert receptive_field(layers) == (width, 4)


def test_receptive_field_rejects_bad_layers():
    with pytest.raises(ValueError, match=r"layer 1 must be \(kernel, stride"):
        receptive_field([(3, 1), (3,)])


def test_exercise_falls_back_when_not_implemented(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def todo(size, kernel, stride=1, padding=0, dilation=1):
        raise NotImplementedError()

    f = exercise(todo, reference=conv_output_size)
    assert f(32, 3, 1, 1) == 32
    assert "not implemented yet: using the reference implementation" in capsys.readouterr().out
    assert f.uses_reference()


def test_exercise_uses_student_code_when_done(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    f = exercise(lambda *a, **k: 41, reference=conv_output_size)
    assert f(32, 3) == 41 and not f.uses_reference()


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_exercise_never_falls_back_while_grading(monkeypatch, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)

    def todo(*args):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        exercise(todo, reference=conv_output_size)(32, 3)


def test_bars_are_deterministic_and_labelled():
    x1, y1 = bars(16, seed=5)
    x2, y2 = bars(16, seed=5)
    torch.testing.assert_close(x1, x2)
    assert x1.shape == (16, 1, 16, 16) and y1.dtype == torch.int64
    clean, labels = bars(32, seed=1, noise=0.0)
    rows = (clean[:, 0].sum(dim=2) > 0).sum(dim=1)  # rows touched by the bar: few for a horizontal bar
    assert ((rows <= 2) == (labels == 0)).all()


def test_under_grading_an_answer_that_calls_the_reference_earns_nothing(monkeypatch):
    import course_lib.core.receptive as receptive_module

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def borrowed(size, kernel, stride=1, padding=0, dilation=1):
        return receptive_module.conv_output_size(size, kernel, stride, padding, dilation)  # any alias

    f = exercise(borrowed, reference=conv_output_size)
    with pytest.raises(RuntimeError, match="reference of the exercise being graded"):
        f(32, 3)
    # The reference is restored at once: the hidden tests may call it to compute expected values.
    assert conv_output_size(32, 3) == 30 and receptive_module.conv_output_size(32, 3, padding=1) == 32
    honest = exercise(lambda size, kernel, stride=1, padding=0, dilation=1:
                      (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1, reference=conv_output_size)
    assert honest(32, 3) == 30


def test_outside_grading_calling_the_reference_is_allowed(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    f = exercise(lambda *a, **k: conv_output_size(*a, **k), reference=conv_output_size)
    assert f(32, 3) == 30


def test_tests_passed_says_whose_code_ran(monkeypatch, capsys):
    from course_lib.core import tests_passed

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def todo(size, kernel, stride=1, padding=0, dilation=1):
        raise NotImplementedError()

    f = exercise(todo, reference=conv_output_size)
    f(8, 3)
    capsys.readouterr()
    tests_passed(f)
    assert capsys.readouterr().out == ("visible tests: ran on course_lib's reference, not on your code: "
                                       "todo not implemented yet\n")
    done = exercise(lambda *a, **k: 1, reference=conv_output_size, name="output size")
    done(8, 3)
    tests_passed(done, what="output size")
    assert capsys.readouterr().out == "output size passed on your code\n"


def test_the_sandbox_marks_grading_where_exercises_look():
    from course_lib.core import exercises
    from course_lib.grading import sandbox

    assert sandbox.GRADING_MARKER == exercises.GRADING_MARKER
