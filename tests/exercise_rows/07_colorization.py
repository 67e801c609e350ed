"""Lecture 07_colorization: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("07_colorization", "ex_soft_encode", "test_soft_encode", {
        "Gaussian not normalised": """
def soft_encode(ab, bins, k=5, sigma=5.0):
    B, _, H, W = ab.shape
    dist = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins.to(ab))
    d, idx = dist.topk(k, dim=1, largest=False)
    z = torch.zeros_like(dist).scatter_(1, idx, torch.exp(-d**2 / (2 * sigma**2)))
    return z.reshape(B, H, W, -1).permute(0, 3, 1, 2)
""",
        "distance not squared": """
def soft_encode(ab, bins, k=5, sigma=5.0):
    B, _, H, W = ab.shape
    dist = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins.to(ab))
    d, idx = dist.topk(k, dim=1, largest=False)
    z = torch.zeros_like(dist).scatter_(1, idx, torch.softmax(-d / (2 * sigma**2), dim=1))
    return z.reshape(B, H, W, -1).permute(0, 3, 1, 2)
""",
        "k fixed at 5": """
def soft_encode(ab, bins, k=5, sigma=5.0):
    B, _, H, W = ab.shape
    dist = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins.to(ab))
    d, idx = dist.topk(5, dim=1, largest=False)
    z = torch.zeros_like(dist).scatter_(1, idx, torch.softmax(-d**2 / (2 * sigma**2), dim=1))
    return z.reshape(B, H, W, -1).permute(0, 3, 1, 2)
""",
    }),
    ("07_colorization", "ex_rebalance", "test_rebalance", {
        "not normalised": """
def rebalance_weights(prior, lam=0.5):
    return 1.0 / ((1 - lam) * prior + lam / prior.shape[0])
""",
        "weights summing to one": """
def rebalance_weights(prior, lam=0.5):
    w = 1.0 / ((1 - lam) * prior + lam / prior.shape[0])
    return w / w.sum()
""",
        "lam on the wrong term": """
def rebalance_weights(prior, lam=0.5):
    w = 1.0 / (lam * prior + (1 - lam) / prior.shape[0])
    return w / (prior * w).sum()
""",
    }),
    ("07_colorization", "ex_annealed_mean", "test_annealed_mean", {
        "T multiplies the log": """
def annealed_mean(probs, bins, T=0.38):
    f = torch.softmax(torch.log(probs.clamp_min(1e-30)) * T, dim=1)
    return torch.einsum("bqhw,qc->bchw", f, bins.to(probs))
""",
        "not renormalised": """
def annealed_mean(probs, bins, T=0.38):
    return torch.einsum("bqhw,qc->bchw", probs ** (1 / T), bins.to(probs))
""",
        "the mode, whatever T": """
def annealed_mean(probs, bins, T=0.38):
    return bins.to(probs)[probs.argmax(1)].permute(0, 3, 1, 2)
""",
    }),
]
