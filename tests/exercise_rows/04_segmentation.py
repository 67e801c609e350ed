"""Lecture 04_segmentation: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("04_segmentation", "ex_bilinear_kernel", "test_bilinear_kernel", {
        "every channel pair filled": """
def bilinear_kernel(channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float32)
    filt = 1 - (og - center).abs() / factor
    return (filt[:, None] * filt[None, :]).expand(channels, channels, kernel_size, kernel_size).clone()
""",
        "centre at factor - 1 for even k": """
def bilinear_kernel(channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1
    og = torch.arange(kernel_size, dtype=torch.float32)
    filt = 1 - (og - center).abs() / factor
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    for c in range(channels):
        weight[c, c] = filt[:, None] * filt[None, :]
    return weight
""",
    }),
    ("04_segmentation", "ex_fuse_skip", "test_fuse_skip", {
        "centre crop instead of the offset": """
def fuse_skip(upscored, skip_score, *, offset):
    H, W = skip_score.shape[-2:]
    top, left = (upscored.shape[-2] - H) // 2, (upscored.shape[-1] - W) // 2
    return upscored[..., top:top + H, left:left + W] + skip_score
""",
        "crop from the corner": """
def fuse_skip(upscored, skip_score, *, offset):
    H, W = skip_score.shape[-2:]
    return upscored[..., :H, :W] + skip_score
""",
    }),
    ("04_segmentation", "ex_confusion_matrix", "test_confusion_matrix", {
        "rows = prediction": """
def confusion_matrix(pred, target, num_classes, ignore_index=255):
    valid = target != ignore_index
    pair = pred[valid].long() * num_classes + target[valid].long()
    return torch.bincount(pair, minlength=num_classes ** 2).reshape(num_classes, num_classes)
""",
        "ignore label counted": """
def confusion_matrix(pred, target, num_classes, ignore_index=255):
    t = target.clamp(max=num_classes - 1)
    pair = t.flatten().long() * num_classes + pred.flatten().long()
    return torch.bincount(pair, minlength=num_classes ** 2).reshape(num_classes, num_classes)
""",
    }),
    ("04_segmentation", "ex_mean_iou", "test_mean_iou", {
        "NaN classes counted as 0": """
def mean_iou(hist):
    hist = hist.double()
    iu = hist.diag() / (hist.sum(0) + hist.sum(1) - hist.diag())
    return float(torch.nan_to_num(iu).mean())
""",
        "union without subtracting the intersection": """
def mean_iou(hist):
    hist = hist.double()
    return float((hist.diag() / (hist.sum(0) + hist.sum(1))).nanmean())
""",
        "a 0-dim tensor, not a float": """
def mean_iou(hist):
    hist = hist.double()
    return (hist.diag() / (hist.sum(0) + hist.sum(1) - hist.diag())).nanmean()
""",
    }),
]
