"""Lecture 03_localization: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("03_localization", "ex_spatial_dropout", "test_spatial_dropout", {
        "per-pixel dropout": """
def my_spatial_dropout(x, p, generator=None):
    keep = (torch.rand(x.shape, generator=generator) >= p).to(x.dtype)
    return x * keep / (1 - p)
""",
        "whole samples dropped (B, 1, 1, 1)": """
def my_spatial_dropout(x, p, generator=None):
    keep = (torch.rand(x.shape[0], 1, 1, 1, generator=generator) >= p).to(x.dtype)
    return x * keep / (1 - p)
""",
        "one mask for the batch (1, C, 1, 1)": """
def my_spatial_dropout(x, p, generator=None):
    keep = (torch.rand(1, x.shape[1], 1, 1, generator=generator) >= p).to(x.dtype)
    return x * keep / (1 - p)
""",
        "survivors not rescaled": """
def my_spatial_dropout(x, p, generator=None):
    B, C, H, W = x.shape
    return x * (torch.rand(B, C, 1, 1, generator=generator) >= p).to(x.dtype)
""",
    }),
    ("03_localization", "ex_crop_to_image", "test_crop_to_image", {
        "sample corner instead of centre": """
def my_crop_to_image(uv, centres, *, crop, size):
    return centres - crop / 2 + crop / size * uv
""",
    }),
    ("03_localization", "ex_cascade_loss", "test_cascade_loss", {
        "mean over cells instead of sum / (B J)": """
def my_cascade_loss(coarse, coarse_target, fine, fine_target, *, lam=1.0):
    return ((coarse - coarse_target) ** 2).mean() + lam * ((fine - fine_target) ** 2).mean()
""",
        "lambda ignored": """
def my_cascade_loss(coarse, coarse_target, fine, fine_target, *, lam=1.0):
    n = coarse.shape[0] * coarse.shape[1]
    return (((coarse - coarse_target) ** 2).sum() + ((fine - fine_target) ** 2).sum()) / n
""",
        "cannot backpropagate (detached)": """
def my_cascade_loss(coarse, coarse_target, fine, fine_target, *, lam=1.0):
    n = coarse.shape[0] * coarse.shape[1]
    e = ((coarse - coarse_target) ** 2).sum() / n + lam * ((fine - fine_target) ** 2).sum() / n
    return e.detach()
""",
    }),
]
