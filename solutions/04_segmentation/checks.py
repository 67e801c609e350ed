"""Trusted checks of lecture 04 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded.
"""

import math

import torch

from course_lib.core.confusion import confusion_matrix, mean_iou
from course_lib.grading.checker import expect_close as _close
from course_lib.segmentation.fcn import fuse_skip
from course_lib.segmentation.upsample import bilinear_kernel

# Several references per test cell: the keys beyond the grade_id only name them (the checker withholds the values).
REFERENCES = {
    "test_bilinear_kernel": "course_lib.segmentation.upsample:bilinear_kernel",
    "test_bilinear_kernel, loop": "course_lib.segmentation.upsample:bilinear_kernel_loop",
    "test_fuse_skip": "course_lib.segmentation.fcn:fuse_skip",
    "test_confusion_matrix": "course_lib.core.confusion:confusion_matrix",
    "test_confusion_matrix, loop": "course_lib.core.confusion:confusion_matrix_loop",
    "test_mean_iou": "course_lib.core.confusion:mean_iou",
}


def check_bilinear_kernel(student):
    f = student.function("bilinear_kernel")
    w4 = f(2, 4)
    assert type(w4) is torch.Tensor and w4.shape == (2, 2, 4, 4), (
        f"bilinear_kernel(2, 4): expected (2, 2, 4, 4) float32; got {w4!r}")
    one_d = torch.tensor([0.25, 0.75, 0.75, 0.25])
    _close(w4[0, 0], one_d[:, None] * one_d[None, :], "k = 4: the filter of channel 0 (float32)")
    _close(w4[0, 1], torch.zeros(4, 4), "classes must not mix: off-diagonal filters are zero")
    _close(f(1, 3)[0, 0, 1], torch.tensor([0.5, 1.0, 0.5]), "k = 3: the middle row")
    for channels, k in [(1, 1), (3, 2), (5, 5), (2, 16), (4, 64)]:
        _close(f(channels, k), bilinear_kernel(channels, k), f"channels={channels}, kernel_size={k}")


def check_fuse_skip(student):
    f = student.function("fuse_skip")
    up = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    _close(f(up, torch.ones(2, 3, 4, 4), offset=1), up[:, :, 1:5, 1:5] + 1,
           "8x8 scores onto a 4x4 skip, offset=1 (not the centre crop, which would start 2 px in)")
    g = torch.Generator().manual_seed(1)
    for shape_up, shape_skip, offset in [((1, 5, 10, 12), (1, 5, 7, 9), 1), ((3, 2, 8, 8), (3, 2, 3, 5), 2),
                                         ((2, 4, 5, 5), (2, 4, 4, 4), 0)]:
        u, s = torch.randn(shape_up, generator=g), torch.randn(shape_skip, generator=g)
        _close(f(u, s, offset=offset), fuse_skip(u, s, offset=offset),
               f"scores {list(shape_up)} onto a skip {list(shape_skip)}, offset={offset}")


def check_confusion_matrix(student):
    f = student.function("confusion_matrix")
    t = torch.tensor([[0, 0, 1], [2, 255, 1]])
    p = torch.tensor([[0, 1, 1], [1, 2, 1]])
    _close(f(p, t, 3), torch.tensor([[1, 1, 0], [0, 2, 0], [0, 1, 0]]),
           "the worked example (rows = true class, 255 ignored; int64 counts)")
    g = torch.Generator().manual_seed(2)
    for k in (2, 5, 21):
        t = torch.randint(0, k, (3, 17, 13), generator=g)
        t[torch.rand(t.shape, generator=g) < 0.1] = 255
        p = torch.randint(0, k, t.shape, generator=g)
        _close(f(p, t, k), confusion_matrix(p, t, k), f"random labels of {k} classes, 10 % ignored")


def check_mean_iou(student):
    f = student.function("mean_iou")
    for hist, want, why in [(torch.tensor([[3, 1], [0, 0]]), 0.375, "the worked example"),
                            (torch.tensor([[4, 0, 0], [0, 2, 0], [0, 0, 0]]), 1.0,
                             "a class absent and never predicted is skipped")]:
        got = f(hist)
        assert type(got) is float, f"{why}: expected a Python float, got {type(got).__name__} {got!r}"
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-7), f"{why}: expected {want}, got {got}"
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        hist = torch.randint(0, 30, (6, 6), generator=g)
        hist[2] = 0
        hist[:, 2] = 0
        got, want = f(hist), mean_iou(hist)
        assert type(got) is float, f"expected a Python float, got {type(got).__name__} {got!r}"
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-7), (
            f"a random 6x6 matrix with class 2 absent: expected {want}, got {got}")


CHECKS = {"test_bilinear_kernel": check_bilinear_kernel, "test_fuse_skip": check_fuse_skip,
          "test_confusion_matrix": check_confusion_matrix, "test_mean_iou": check_mean_iou}
