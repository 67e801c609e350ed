"""Trusted checks of lecture 01 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded.
"""

import math

import torch

from course_lib.core.keypoints import gaussian_heatmaps, heatmap_argmax
from course_lib.grading.checker import expect_close as _close
from course_lib.pose import JOINTS
from course_lib.pose.metrics import detection_rate

REFERENCES = {
    "test_heatmap_target": "course_lib.core.keypoints:gaussian_heatmaps",
    "test_argmax": "course_lib.core.keypoints:heatmap_argmax",
    "test_detection_rate": "course_lib.pose.metrics:detection_rate",
}


def check_heatmap_target(student):
    f = student.function("my_gaussian_heatmaps")
    hm = f(torch.tensor([[[2.5, 4.5]]]), 8, stride=2, sigma=1.0)
    expected = torch.tensor([[[[math.exp(-((2 * u + 0.5 - 2.5) ** 2 + (2 * v + 0.5 - 4.5) ** 2) / 2)
                                for u in range(4)] for v in range(4)]]])
    _close(hm, expected, "one joint at (2.5, 4.5) on an 8x8 image, stride 2 (Tensor[1, 1, 4, 4] float32)")
    _close(hm[0, 0, 2, 1], torch.tensor(1.0), "cell (u=1, v=2) is centred exactly on the joint: its value is 1")
    g = torch.Generator().manual_seed(1)
    coords = torch.rand(3, 9, 2, generator=g) * 64
    for stride, sigma in [(1, 1.5), (2, 2.0), (4, 3.0)]:
        _close(f(coords, 64, stride=stride, sigma=sigma), gaussian_heatmaps(coords, 64, stride=stride, sigma=sigma),
               f"3 images x 9 joints on 64x64, stride={stride}, sigma={sigma}")


def check_argmax(student):
    f = student.function("my_heatmap_argmax")
    hm = torch.zeros(1, 2, 4, 5)
    hm[0, 0, 1, 3] = 1.0  # joint 0: row v = 1, column u = 3
    hm[0, 1, 3, 0] = 2.0  # joint 1: row v = 3, column u = 0
    _close(f(hm), torch.tensor([[[3.0, 1.0], [0.0, 3.0]]]), "maxima at (u=3, v=1) and (u=0, v=3), stride 1")
    _close(f(hm, stride=4), torch.tensor([[[13.5, 5.5], [1.5, 13.5]]]), "the same maps at stride 4")
    g = torch.Generator().manual_seed(2)
    for stride in (1, 2, 4):
        maps = torch.rand(3, 9, 6, 7, generator=g)
        _close(f(maps, stride=stride), heatmap_argmax(maps, stride=stride),
               f"random 6x7 maps (h != w), stride={stride}")


def check_detection_rate(student):
    f = student.function("my_detection_rate")
    target = torch.zeros(2, 9, 2)
    target[:, JOINTS.index("lhip")] = torch.tensor([0.0, 100.0])  # torso |lhip - rsho| = 100 px: r % = r pixels
    pred = target.clone()
    pred[0, 0] += torch.tensor([3.0, 4.0])  # face of image 0 is 5 px off
    pred[1, 0] += torch.tensor([0.0, 12.0])  # face of image 1 is 12 px off
    expected = torch.full((9,), 100.0)
    expected[0] = 50.0
    _close(f(pred, target, 10), expected, "torso 100 px, faces 5 and 12 px off, r = 10 %")
    _close(f(pred, target, 5)[0], torch.tensor(50.0), "r = 5 %: a face exactly at the radius counts")
    g = torch.Generator().manual_seed(3)
    target = torch.rand(20, 9, 2, generator=g) * 64
    pred = target + torch.randn(20, 9, 2, generator=g) * 4
    for r in (2.5, 10, 20):
        _close(f(pred, target, r), detection_rate(pred, target, r), f"20 random poses, r = {r} %")


CHECKS = {"test_heatmap_target": check_heatmap_target, "test_argmax": check_argmax,
          "test_detection_rate": check_detection_rate}
