"""Lecture 01_pose_detector: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("01_pose_detector", "ex_heatmap_target", "test_heatmap_target", {
        "cell corner instead of centre": """
def my_gaussian_heatmaps(coords, size, *, stride, sigma):
    n = size // stride
    centres = stride * torch.arange(n, dtype=torch.float32)
    dx2 = (centres[None, None, :] - coords[..., 0:1]) ** 2
    dy2 = (centres[None, None, :] - coords[..., 1:2]) ** 2
    return torch.exp(-(dy2[..., :, None] + dx2[..., None, :]) / (2 * sigma**2))
""",
        "x and y swapped": """
def my_gaussian_heatmaps(coords, size, *, stride, sigma):
    n = size // stride
    centres = stride * torch.arange(n, dtype=torch.float32) + (stride - 1) / 2
    dx2 = (centres[None, None, :] - coords[..., 0:1]) ** 2
    dy2 = (centres[None, None, :] - coords[..., 1:2]) ** 2
    return torch.exp(-(dx2[..., :, None] + dy2[..., None, :]) / (2 * sigma**2))
""",
    }),
    ("01_pose_detector", "ex_argmax", "test_argmax", {
        "row and column swapped": """
def my_heatmap_argmax(heatmaps, *, stride=1):
    B, J, h, w = heatmaps.shape
    idx = heatmaps.reshape(B, J, h * w).argmax(dim=-1)
    u, v = (idx % w).float(), (idx // w).float()
    return stride * torch.stack([v, u], dim=-1) + (stride - 1) / 2
""",
        "stride ignored": """
def my_heatmap_argmax(heatmaps, *, stride=1):
    B, J, h, w = heatmaps.shape
    idx = heatmaps.reshape(B, J, h * w).argmax(dim=-1)
    return torch.stack([(idx % w).float(), (idx // w).float()], dim=-1)
""",
    }),
    ("01_pose_detector", "ex_detection_rate", "test_detection_rate", {
        "strict < at the radius": """
def my_detection_rate(pred, target, r):
    lhip, rsho = JOINTS.index("lhip"), JOINTS.index("rsho")
    torso = (target[:, lhip] - target[:, rsho]).norm(dim=-1)
    dist = (pred - target).norm(dim=-1)
    return 100.0 * (dist < r / 100.0 * torso[:, None]).float().mean(dim=0)
""",
        "r as a fraction, not percent": """
def my_detection_rate(pred, target, r):
    lhip, rsho = JOINTS.index("lhip"), JOINTS.index("rsho")
    torso = (target[:, lhip] - target[:, rsho]).norm(dim=-1)
    dist = (pred - target).norm(dim=-1)
    return 100.0 * (dist <= r * torso[:, None]).float().mean(dim=0)
""",
    }),
]
