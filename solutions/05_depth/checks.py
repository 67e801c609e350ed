"""Trusted checks of lecture 05 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded (the exercise-shaped
references of ``course_lib.depth.exercises`` and the library functions they wrap). Stronger than the old tests:
the loss must backpropagate (its gradient is compared with the reference's), δ must be a Python float, and a
normal's angle with itself (or a positive multiple) must be 0° to 1e-4°, not merely under 0.1°.
"""

import torch

from course_lib.depth.exercises import delta_accuracy, si_loss_without_gradient_term
from course_lib.depth.losses import scale_invariant_loss
from course_lib.depth.metrics import angular_error, depth_metrics
from course_lib.grading.checker import expect_close as _close

# Several references per test cell: the keys beyond the grade_id only name them (the checker withholds the values).
REFERENCES = {
    "test_si_loss": "course_lib.depth.exercises:si_loss_without_gradient_term",
    "test_si_loss, library": "course_lib.depth.losses:scale_invariant_loss",
    "test_delta": "course_lib.depth.exercises:delta_accuracy",
    "test_delta, library": "course_lib.depth.metrics:depth_metrics",
    "test_angle": "course_lib.depth.exercises:angular_error_map",
    "test_angle, library": "course_lib.depth.metrics:angular_error",
}
PARALLEL_DEG = 1e-4  # a normal's angle with itself: 0 up to rounding (float32 acos of a rounded cosine is 0.02-0.04°)


def _scalar(got, why):
    assert type(got) is torch.Tensor and got.shape == (), f"{why}: expected a 0-dim tensor, got {got!r}"
    return got


def check_si_loss(student):
    f = student.function("scale_invariant_loss")
    d4 = torch.tensor([0.2, -0.1, 0.4, 0.0]).view(1, 1, 2, 2)
    all4 = torch.ones(1, 1, 2, 2, dtype=torch.bool)
    _close(_scalar(f(d4, torch.zeros(1, 1, 2, 2), all4, lam=0.5), "the worked example"),
           torch.tensor(0.21 / 4 - 0.5 * 0.25 / 16), "the worked example d = (0.2, -0.1, 0.4, 0), lam = 0.5")
    g = torch.Generator().manual_seed(0)
    gt_log = torch.randn(2, 1, 4, 5, generator=g)
    pred_log = gt_log + 0.2 * torch.randn(2, 1, 4, 5, generator=g)
    valid = torch.ones(2, 1, 4, 5, dtype=torch.bool)
    _close(f(pred_log + 1.1, gt_log, valid, lam=1.0), f(pred_log, gt_log, valid, lam=1.0),
           "lam = 1 must ignore a global scale (log depth + 1.1)")
    g = torch.Generator().manual_seed(5)
    gt_h = torch.randn(3, 1, 5, 6, generator=g, dtype=torch.float64)
    pr_h = gt_h + 0.3 * torch.randn(3, 1, 5, 6, generator=g, dtype=torch.float64)
    m_h = torch.rand(3, 1, 5, 6, generator=g) > 0.4
    m_h[2] = False
    m_h[2, 0, 0, :2] = True  # image 2 has 2 valid pixels only: per-image n, not one n for the batch
    for lam in (0.0, 0.5, 1.0):
        got, grads = student.call_with_grad("scale_invariant_loss", [pr_h, gt_h, m_h], grad=[0], lam=lam)
        why = f"3 float64 images with masks (one of 2 valid pixels), lam = {lam}"
        _close(_scalar(got, why).double(), si_loss_without_gradient_term(pr_h, gt_h, m_h, lam=lam), why)
        assert grads is not None, (f"{why}: the loss must backpropagate to pred_log (a 0-dim tensor built from it "
                                   "with torch operations, not a float or a detached value), or training cannot use it")
        pred = pr_h.clone().requires_grad_(True)
        si_loss_without_gradient_term(pred, gt_h, m_h, lam=lam).backward()
        _close(grads[0].double(), pred.grad, why + ": the gradient reaching pred_log (zero on masked pixels)")
    wild = pr_h.clone()
    wild[~m_h] = 50.0
    _close(_scalar(f(wild, gt_h, m_h, lam=0.5), "masked pixels set to 50").double(),
           scale_invariant_loss(pr_h, gt_h, m_h, lam=0.5, grad=False), "masked pixels (set to 50) must not matter")
    low, high = f(pr_h + 1.0, gt_h, m_h, lam=0.5), f(pr_h + 1.0, gt_h, m_h, lam=0.0)
    assert bool(_scalar(low, "lam = 0.5") < _scalar(high, "lam = 0")), (
        "the sign of the lam term: lam = 0.5 must give less than lam = 0 when the mean of d is not zero")


def _fraction(student, why, *args, **kwargs):
    got = student.call("delta_accuracy", *args, **kwargs)
    assert type(got) is float, f"{why}: expected a Python float (float(...)), got {type(got).__name__} {got!r}"
    return got


def check_delta(student):
    gt4 = torch.ones(1, 1, 1, 4)
    pred4 = torch.tensor([1.1, 1.0, 0.5, 3.0]).view(1, 1, 1, 4)
    all4 = torch.ones(1, 1, 1, 4, dtype=torch.bool)
    for t, want in ((1.25, 0.5), (2.5, 0.75)):
        got = _fraction(student, f"the worked example, t = {t}", pred4, gt4, all4, t=t)
        assert abs(got - want) < 1e-9, f"the worked example (ratios 1.1, 1, 2, 3), t = {t}: expected {want}, got {got}"
    exact = torch.tensor([1.25, 0.8, 1.0, 1.0]).view(1, 1, 1, 4)  # ratios 1.25 and 1.25 (1 / 0.8): not < 1.25
    got = _fraction(student, "ratios exactly 1.25", exact, gt4, all4)
    assert abs(got - 0.5) < 1e-9, f"a ratio of exactly t is not strictly below t: expected 0.5, got {got}"
    m2 = torch.tensor([[True, True, False, False], [True, False, False, False]]).view(2, 1, 1, 4)
    p2 = torch.tensor([[1.0, 2.0, 9.0, 9.0], [1.0, 9.0, 9.0, 9.0]]).view(2, 1, 1, 4)
    got = _fraction(student, "two images", p2, torch.ones(2, 1, 1, 4), m2)
    assert abs(got - 0.75) < 1e-9, f"per image, then the mean over images: (1/2 + 1/1) / 2 = 0.75, got {got}"
    g = torch.Generator().manual_seed(7)
    gt_h = torch.rand(3, 1, 6, 5, generator=g) * 4 + 0.5
    pr_h = gt_h * torch.exp(0.4 * torch.randn(3, 1, 6, 5, generator=g))
    m_h = torch.rand(3, 1, 6, 5, generator=g) > 0.3
    metrics = depth_metrics(pr_h, gt_h, m_h)
    for t, key in ((1.25, "delta1"), (1.25**2, "delta2"), (1.25**3, "delta3")):
        got = _fraction(student, f"random depths, t = {t:.4g}", pr_h, gt_h, m_h, t=t)
        assert abs(got - metrics[key]) < 1e-6, (
            f"random depths with masks, t = {t:.4g}: expected {metrics[key]}, got {got}")
        assert abs(got - delta_accuracy(pr_h, gt_h, m_h, t=t)) < 1e-6


def check_angle(student):
    f = student.function("angular_error")
    up = torch.tensor([0.0, -1.0, 0.0]).view(1, 3, 1, 1)
    tilted = torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)  # 45 degrees from "up", not unit length
    _close(f(tilted, up), torch.full((1, 1, 1), 45.0), "(1, -1, 0) against (0, -1, 0): 45 degrees, Tensor[1, 1, 1]",
           atol=1e-4, rtol=0)
    g = torch.Generator().manual_seed(9)
    a_h = torch.randn(2, 3, 4, 5, generator=g) * 3
    b_h = torch.randn(2, 3, 4, 5, generator=g) * 0.2
    got = f(a_h, b_h)
    _close(got.double() if type(got) is torch.Tensor else got, angular_error(a_h, b_h)[:, 0],
           "random normals of any length", atol=1e-3, rtol=0)
    same = torch.randn(1, 3, 8, 8, generator=g)
    for scale in (1.0, 7.0, 0.3):
        err = f(scale * same, same)
        why = f"a normal and {scale:g} times itself"
        assert type(err) is torch.Tensor and err.shape == (1, 8, 8), f"{why}: expected Tensor[1, 8, 8], got {err!r}"
        assert bool(torch.isfinite(err).all()), f"{why}: the angle must never be NaN"
        worst = float(err.abs().max())
        assert worst <= PARALLEL_DEG, (
            f"{why}: the angle must be 0 (up to {PARALLEL_DEG}°); got up to {worst:.3g}°. The arccosine magnifies "
            "rounding near 1: a float32 cosine off by 6e-8 gives 0.02°")
    _close(f(-same, same), torch.full((1, 8, 8), 180.0), "a normal and its negative: 180 degrees", atol=0.1, rtol=0)


CHECKS = {"test_si_loss": check_si_loss, "test_delta": check_delta, "test_angle": check_angle}
