"""Lecture 02_pose_spatial: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("02_pose_spatial", "ex_bp_message", "test_bp_message", {
        "incoming ignored": """
def my_bp_message(unary, incoming, pairwise):
    m = unary @ pairwise
    return m / m.sum()
""",
        "pairwise transposed": """
def my_bp_message(unary, incoming, pairwise):
    m = (unary * incoming) @ pairwise.T
    return m / m.sum()
""",
    }),
    ("02_pose_spatial", "ex_conv_message", "test_conv_message", {
        "correlation, not convolution": """
import torch.nn.functional as F
def my_conv_message(unary, kernel, background=0.0):
    k = kernel.shape[-1]
    return F.conv2d(unary[None, None], kernel[None, None], padding=k // 2)[0, 0] + background
""",
        "background dropped": """
import torch.nn.functional as F
def my_conv_message(unary, kernel, background=0.0):
    k = kernel.shape[-1]
    return F.conv2d(unary[None, None], torch.flip(kernel, dims=(0, 1))[None, None], padding=k // 2)[0, 0]
""",
    }),
    ("02_pose_spatial", "ex_star_belief", "test_star_belief", {
        "pairwise transposed": """
def my_star_belief(unary, sources, pairwise):
    b = unary.clone()
    for i in range(sources.shape[0]):
        b = b * (sources[i] @ pairwise[i].T)
    return b / b.sum()
""",
        "messages added, not multiplied": """
def my_star_belief(unary, sources, pairwise):
    b = unary * sum(sources[i] @ pairwise[i] for i in range(sources.shape[0]))
    return b / b.sum()
""",
        "not normalised": """
def my_star_belief(unary, sources, pairwise):
    b = unary.clone()
    for i in range(sources.shape[0]):
        b = b * (sources[i] @ pairwise[i])
    return b
""",
    }),
]
