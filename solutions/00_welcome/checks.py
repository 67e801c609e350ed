"""Trusted checks of lecture 00 (the visible tests and the hidden ones), run by the grader's checker
(course_lib.grading.checker), never in the student's kernel and never released (nbgrader_config.py ignores this file).

Each check gets ``student``: ``student.call(name, *args)`` returns what the student's function returned, as plain
data the checker rebuilt; the reference is the grader's own course_lib (withheld on the student's side).
"""

import torch
from torch import nn

from course_lib.core import receptive

REFERENCES = {
    "test_conv_output_size": "course_lib.core.receptive:conv_output_size",
    "test_receptive_field": "course_lib.core.receptive:receptive_field",
}


def check_conv_output_size(student):
    f = student.function("conv_output_size")
    visible = [((32, 3), {"padding": 1}, 32, "a 3x3 'same' convolution keeps the size"),
               ((224, 7), {"stride": 2, "padding": 3}, 112, "ResNet's first layer halves 224"),
               ((64, 2), {"stride": 2}, 32, "2x2 pooling with stride 2 halves the size")]
    for args, kwargs, want, why in visible:
        got = f(*args, **kwargs)
        assert type(got) is int and got == want, f"{why}: expected the int {want}, got {got!r}"
    for size, k, s, p, d in [(17, 3, 2, 1, 1), (100, 5, 3, 0, 1), (31, 3, 1, 2, 2), (8, 8, 1, 0, 1),
                             (500, 11, 4, 2, 1)]:
        expected = receptive.conv_output_size(size, k, s, p, d)
        got = f(size, k, s, p, d)
        assert type(got) is int and got == expected, (
            f"size={size}, k={k}, s={s}, p={p}, d={d}: expected the int {expected}, got {got!r}")
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        assert conv(torch.zeros(1, 1, size, size)).shape[-1] == got


def check_receptive_field(student):
    f = student.function("receptive_field")
    for layers, want, why in [([(3, 1)], (3, 1), "one 3x3 conv"),
                              ([(3, 1), (3, 1), (2, 2)], (6, 2), "two 3x3 convs then a 2x2 pool")]:
        got = f(layers)
        assert type(got) in (tuple, list) and tuple(got) == want, f"{why}: expected {want}, got {got!r}"
    cases = [[(7, 2, 3), (3, 2, 1)], [(3, 1, 1, 2), (3, 1, 2, 4)], [(5, 1)] * 4, [(2, 2)] * 5,
             [(11, 4, 2), (3, 2), (5, 1, 2), (3, 2)]]
    for layers in cases:
        expected = receptive.receptive_field(layers)
        got = f([tuple(layer) for layer in layers])
        assert type(got) in (tuple, list) and all(type(v) is int for v in got) and tuple(got) == expected, (
            f"{layers}: expected {expected}, got {got!r}")


CHECKS = {"test_conv_output_size": check_conv_output_size, "test_receptive_field": check_receptive_field}
