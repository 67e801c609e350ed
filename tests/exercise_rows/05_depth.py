"""Lecture 05_depth: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("05_depth", "ex_si_loss", "test_si_loss", {
        "plus instead of minus": """
def scale_invariant_loss(pred_log, gt_log, mask, lam=0.5):
    m = mask.to(pred_log.dtype)
    d = (pred_log - gt_log) * m
    n = m.flatten(1).sum(1)
    return ((d**2).flatten(1).sum(1) / n + lam * d.flatten(1).sum(1) ** 2 / n**2).mean()
""",
        "mask forgotten": """
def scale_invariant_loss(pred_log, gt_log, mask, lam=0.5):
    d = pred_log - gt_log
    n = d[0].numel()
    return ((d**2).flatten(1).sum(1) / n - lam * d.flatten(1).sum(1) ** 2 / n**2).mean()
""",
        "cannot backpropagate (no_grad)": """
def scale_invariant_loss(pred_log, gt_log, mask, lam=0.5):
    with torch.no_grad():
        m = mask.to(pred_log.dtype)
        d = (pred_log - gt_log) * m
        n = m.flatten(1).sum(1)
        return ((d**2).flatten(1).sum(1) / n - lam * d.flatten(1).sum(1) ** 2 / n**2).mean()
""",
        "one n for the batch": """
def scale_invariant_loss(pred_log, gt_log, mask, lam=0.5):
    m = mask.to(pred_log.dtype)
    d = (pred_log - gt_log) * m
    n = m.sum()
    return (d**2).sum() / n - lam * d.sum() ** 2 / n**2
""",
    }),
    ("05_depth", "ex_delta", "test_delta", {
        "<= instead of <": """
def delta_accuracy(pred, gt, mask, t=1.25):
    ratio = torch.maximum(pred / gt, gt / pred)
    hit = ((ratio <= t) & mask).flatten(1).sum(1).double()
    return float((hit / mask.flatten(1).sum(1)).mean())
""",
        "pooled over the batch, not per image": """
def delta_accuracy(pred, gt, mask, t=1.25):
    ratio = torch.maximum(pred / gt, gt / pred)
    return float(((ratio < t) & mask).sum() / mask.sum())
""",
        "a 0-dim tensor, not a float": """
def delta_accuracy(pred, gt, mask, t=1.25):
    ratio = torch.maximum(pred / gt, gt / pred)
    hit = ((ratio < t) & mask).flatten(1).sum(1).double()
    return (hit / mask.flatten(1).sum(1)).mean()
""",
    }),
    ("05_depth", "ex_angle", "test_angle", {
        "not normalised": """
def angular_error(pred, gt):
    return torch.rad2deg(torch.acos((pred * gt).sum(1).clamp(-1.0, 1.0)))
""",
        "radians": """
def angular_error(pred, gt):
    cos = (torch.nn.functional.normalize(pred, dim=1) * torch.nn.functional.normalize(gt, dim=1)).sum(1)
    return torch.acos(cos.clamp(-1.0, 1.0))
""",
        "float32 arccosine (0.03 degrees for parallel normals)": """
def angular_error(pred, gt):
    cos = (torch.nn.functional.normalize(pred, dim=1) * torch.nn.functional.normalize(gt, dim=1)).sum(1)
    return torch.rad2deg(torch.acos(cos.clamp(-1.0, 1.0)))
""",
        "cosine clamped inside (-1, 1) for finite gradients": """
def angular_error(pred, gt):
    p, g = torch.nn.functional.normalize(pred.double(), dim=1), torch.nn.functional.normalize(gt.double(), dim=1)
    return torch.rad2deg(torch.acos((p * g).sum(1).clamp(-1 + 1e-7, 1 - 1e-7))).float()
""",
    }),
]

RIGHT = [
    # Kahan's angle formula, in float32: exact for a vector and itself, well inside 1e-4 degrees otherwise.
    ("05_depth", "ex_angle", "test_angle", {
        "2 atan2(|u - v|, |u + v|) in float32": """
def angular_error(pred, gt):
    u, v = torch.nn.functional.normalize(pred, dim=1), torch.nn.functional.normalize(gt, dim=1)
    return torch.rad2deg(2 * torch.atan2((u - v).norm(dim=1), (u + v).norm(dim=1)))
""",
    }),
]
