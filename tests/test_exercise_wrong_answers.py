"""Exercises that a wrong answer cannot pass: each graded test cell, decided by the trusted checker, on plausible
mistakes.

For every row, the lecture's answer cells run in the checker's answer server (``course_lib.grading.answers``, the
sandboxed student side, with the lecture's references withheld) with one answer replaced by a *wrong* version; the
check of ``solutions/<lecture>/checks.py`` for its graded test cell must fail. The control: the instructor's own
answer passes the same check, so a failure is the wrong answer's, not the harness's. ``RIGHT`` holds answers that
differ from the instructor's but meet the specification (they must pass). Every graded test cell of every lecture
has a row and a check.

The exploits of issue 14 (h), as student code in the answer server: the same wrong answers followed by code that
replaces the checking helpers (``torch.testing.assert_close`` a no-op, ``exercise`` returning the reference, the
answer rebound to ``exercise(answer, reference=...)``) or makes every module attribute bound to the reference
mirror the wrong answer. The checker compares on its own side with its own references, so these fail too, and
an answer that only calls the course_lib reference finds it withheld.

One answer server per lecture, reused across rows (each ``load`` starts a fresh namespace); the exploit rows, which
patch modules, share one fresh server of their own, with every lecture's references withheld.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import re
import tempfile

import nbformat
import pytest
from nbtools import ROOT

from course_lib.grading import checker

# (lecture, grade_id of the answer cell, grade_id of the test cell, {mistake: wrong answer source})
ROWS = [
    ("00_welcome", "ex_conv_output_size", "test_conv_output_size", {
        "dilation ignored": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - (kernel - 1) - 1) // stride + 1
""",
        "true division (a float)": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
""",
        "padding counted once": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1
""",
    }),
    ("00_welcome", "ex_receptive_field", "test_receptive_field", {
        "dilation ignored": """
def receptive_field(layers):
    r, j = 1, 1
    for layer in layers:
        r += (layer[0] - 1) * j
        j *= layer[1]
    return r, j
""",
        "jump updated before the field": """
def receptive_field(layers):
    r, j = 1, 1
    for layer in layers:
        d = layer[3] if len(layer) == 4 else 1
        j *= layer[1]
        r += d * (layer[0] - 1) * j
    return r, j
""",
    }),
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
    ("06_restoration", "ex_psnr", "test_psnr", {
        "uint8 arithmetic wraps around": """
def psnr_db(x, y, data_range=1.0):
    err = ((x - y).double() ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(data_range**2 / err)
""",
        "data range ignored": """
def psnr_db(x, y, data_range=1.0):
    err = ((x.double() - y.double()) ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(1.0 / err)
""",
    }),
    ("06_restoration", "ex_gaussian_kernel", "test_gaussian_kernel", {
        "not normalised": """
def gaussian_kernel(sigma, *, size):
    if size % 2 == 0:
        raise ValueError(f"size must be odd, but found {size}")
    r = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    return (g[:, None] * g[None, :]).float()
""",
        "even sizes accepted": """
def gaussian_kernel(sigma, *, size):
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]
    return (k / k.sum()).float()
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
    ("06_restoration", "ex_average_patches", "test_average_patches", {
        "overlaps summed, not averaged": """
import torch.nn.functional as F

def average_patches(patches, size, patch, stride):
    return F.fold(patches.transpose(1, 2), output_size=size, kernel_size=patch, stride=stride)
""",
        "divided by the patch area, not the count": """
import torch.nn.functional as F

def average_patches(patches, size, patch, stride):
    summed = F.fold(patches.transpose(1, 2), output_size=size, kernel_size=patch, stride=stride)
    return summed / (patch * patch / stride**2)
""",
    }),
    ("06_restoration", "ex_residual_loss", "test_residual_loss", {
        "predicts the clean image": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - x) ** 2)
""",
        "noise sign flipped": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - (x - y)) ** 2)
""",
        "sum, not mean": """
def residual_loss(noise_net, y, x):
    return torch.sum((noise_net(y) - (y - x)) ** 2)
""",
        "cannot backpropagate (detached)": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - (y - x)) ** 2).detach()
""",
        "a Python float": """
def residual_loss(noise_net, y, x):
    return float(torch.mean((noise_net(y) - (y - x)) ** 2))
""",
        "per-image squared norm, then the mean over images": """
def residual_loss(noise_net, y, x):
    return ((noise_net(y) - (y - x)) ** 2).sum(dim=(1, 2, 3)).mean()
""",
    }),
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


# Answers that differ from the instructor's but meet the specification: they must pass.
RIGHT = [
    # The specification names no dtype for the kernel: a correct kernel in float64 is right (issue 22).
    ("06_restoration", "ex_gaussian_kernel", "test_gaussian_kernel", {
        "float64 kernel": """
def gaussian_kernel(sigma, *, size):
    if size % 2 == 0:
        raise ValueError(f"size must be odd, but found {size}")
    r = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]
    return k / k.sum()
""",
    }),
    # Kahan's angle formula, in float32: exact for a vector and itself, well inside 1e-4 degrees otherwise.
    ("05_depth", "ex_angle", "test_angle", {
        "2 atan2(|u - v|, |u + v|) in float32": """
def angular_error(pred, gt):
    u, v = torch.nn.functional.normalize(pred, dim=1), torch.nn.functional.normalize(gt, dim=1)
    return torch.rad2deg(2 * torch.atan2((u - v).norm(dim=1), (u + v).norm(dim=1)))
""",
    }),
]

CASES = [(lec, ans, test, name, src) for lec, ans, test, wrong in ROWS for name, src in wrong.items()]
RIGHT_CASES = [(lec, ans, test, name, src) for lec, ans, test, right in RIGHT for name, src in right.items()]
LECTURES = sorted({row[0] for row in ROWS})


class _Lecture:
    """A lecture's solutions notebook as the checker sees it: its answer cells, and the test cells' bindings."""

    def __init__(self, lecture: str):
        self.nb = nbformat.read(ROOT / "solutions" / lecture / f"{lecture}.ipynb", 4)
        self.checks_path = ROOT / "solutions" / lecture / "checks.py"
        self.checks, self.references = checker.load_checks(self.checks_path)
        code = [c for c in self.nb.cells if c.cell_type == "code"]
        self.cells = checker.answer_cells(self.nb)
        self.index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(code)}
        self.tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in checker.graded_test_cells(self.nb)}

    def cells_with(self, answer_id: str, source: str, *more: str) -> list[dict]:
        """The answer cells with ``answer_id``'s replaced by ``source``, then ``more`` student cells."""
        cells = [dict(c) for c in self.cells]
        cells[self.index[answer_id]] = {"source": source, "solution": True}
        return cells + [{"source": s, "solution": True} for s in more]

    def binding(self, test_id: str) -> tuple[str, str]:
        """(answer name, reference expression) of the test cell's ``name = exercise(name, reference=...)``."""
        found = re.search(r'^(\w+) = (?:exercise|original\("[^"]*"\))\(\s*\1, reference=(.+)\)$', self.tests[test_id],
                          re.M)
        assert found, f"{test_id}: no `name = exercise(name, reference=...)` line"
        return found.groups()


class _Servers:
    """Answer servers, started together (their imports overlap) and reused; closed at the end of the module."""

    def __init__(self):
        self.lectures = {lec: _Lecture(lec) for lec in LECTURES}
        self.tmp = tempfile.TemporaryDirectory(prefix="convnet-wrong-answers-")
        self.students: dict[str, checker.Student] = {}
        union = [ref for lec in self.lectures.values() for ref in lec.references.values()]
        keys = {**{lec: list(data.references.values()) for lec, data in self.lectures.items()}, "exploits": union}
        for key, references in keys.items():
            self.students[key] = self._start(key, references)
        with concurrent.futures.ThreadPoolExecutor(len(self.students)) as pool:  # the first loads import in parallel
            warm = {key: pool.submit(s.load, self.lectures[LECTURES[0] if key == "exploits" else key].cells)
                    for key, s in self.students.items()}
            for key, future in warm.items():
                assert future.result() == [], f"{key}: the instructor's answer cells did not load"

    def _start(self, key, references):
        root = pathlib.Path(self.tmp.name, key)
        checker.withheld_course_lib(references, root)
        for folder, _, files in os.walk(self.tmp.name):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        return checker.start_student(root)

    def verdict(self, key: str, lecture: str, test_id: str, cells: list[dict]) -> tuple[bool, str]:
        student = self.students[key]
        errors = student.load(cells)
        assert errors == [], f"the answer cells did not load (a slip of the harness): {errors}"
        return checker.run_checks(self.lectures[lecture].checks, student, [test_id])[test_id]

    def close(self):
        for student in self.students.values():
            student.close()
        self.tmp.cleanup()


@pytest.fixture(scope="module")
def servers():
    pool = _Servers()
    yield pool
    pool.close()


def _slip(message: str) -> bool:
    """A failure of the harness, not of the answer: the function was not defined, or the check did not run."""
    return "no function" in message or message.startswith("not checked") or "answer process" in message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_the_instructors_answer_passes_its_check(servers, lecture, answer_id, test_id):
    data = servers.lectures[lecture]
    passed, message = servers.verdict(lecture, lecture, test_id, data.cells)
    assert passed, message


@pytest.mark.parametrize("lecture,answer_id,test_id,variant,source", RIGHT_CASES,
                         ids=[f"{c[2]}: {c[3]}" for c in RIGHT_CASES])
def test_a_right_answer_in_another_form_passes(servers, lecture, answer_id, test_id, variant, source):
    cells = servers.lectures[lecture].cells_with(answer_id, source)
    passed, message = servers.verdict(lecture, lecture, test_id, cells)
    assert passed, message


@pytest.mark.parametrize("lecture,answer_id,test_id,mistake,source", CASES, ids=[f"{c[2]}: {c[3]}" for c in CASES])
def test_a_plausible_wrong_answer_fails_its_check(servers, lecture, answer_id, test_id, mistake, source):
    cells = servers.lectures[lecture].cells_with(answer_id, source)
    passed, message = servers.verdict(lecture, lecture, test_id, cells)
    assert not passed, f"{mistake!r} passed"
    assert not _slip(message), message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_an_answer_that_calls_the_reference_fails(servers, lecture, answer_id, test_id):
    data = servers.lectures[lecture]
    name, reference = data.binding(test_id)
    source = f"def {name}(*args, **kwargs):\n    return ({reference})(*args, **kwargs)\n"
    passed, message = servers.verdict(lecture, lecture, test_id, data.cells_with(answer_id, source))
    assert not passed and "withheld" in message, message


_PATCH_HELPERS = """
import torch
import course_lib.core
import course_lib.core.exercises

def exercise(student, *, reference, name=None):
    return reference

torch.testing.assert_close = lambda *args, **kwargs: None
course_lib.core.exercise = course_lib.core.exercises.exercise = exercise
"""


def _replace_helpers(name: str, reference: str) -> list[str]:
    """(h) Checks that check nothing, and an ``exercise`` that hands back the reference instead of the answer."""
    return [_PATCH_HELPERS, f"{name} = exercise({name}, reference={reference})\n"]


def _mirror_reference(name: str, reference: str) -> list[str]:
    """(h) Every module attribute bound to the exercise's reference now calls the student's answer instead."""
    return [f"""
import sys
_genuine, _answer = ({reference}), {name}

def _mirror(*args, **kwargs):
    return _answer(*args, **kwargs)

for _module in list(sys.modules.values()):
    for _key, _value in list(getattr(_module, "__dict__", {{}}).items()):
        if _value is _genuine:
            setattr(_module, _key, _mirror)
"""]


H_CASES = [pytest.param(*case, tamper, id=f"{case[2]}: {case[3]}, {tamper.__name__.strip('_')}")
           for case in CASES for tamper in (_replace_helpers, _mirror_reference)]


@pytest.mark.parametrize("lecture,answer_id,test_id,mistake,source,tamper", H_CASES)
def test_h_a_wrong_answer_fails_even_with_the_helpers_replaced(servers, lecture, answer_id, test_id, mistake, source,
                                                               tamper):
    data = servers.lectures[lecture]
    passed, message = servers.verdict("exploits", lecture, test_id,
                                      data.cells_with(answer_id, source, *tamper(*data.binding(test_id))))
    assert not passed, f"{mistake!r} with {tamper.__name__} passed"
    assert not _slip(message), message


@pytest.mark.parametrize("lecture,answer_id,test_id", [r[:3] for r in ROWS], ids=[r[2] for r in ROWS])
def test_h_the_instructors_answer_still_passes_beside_the_tampering(servers, lecture, answer_id, test_id):
    # The control: the tampering itself (helpers patched, references mirrored) does not break the harness.
    data = servers.lectures[lecture]
    name, reference = data.binding(test_id)
    cells = data.cells_with(answer_id, data.cells[data.index[answer_id]]["source"], _PATCH_HELPERS,
                            *_mirror_reference(name, reference))
    passed, message = servers.verdict("exploits", lecture, test_id, cells)
    assert passed, message


def test_every_graded_test_cell_is_covered():
    covered = {(r[0], r[2]) for r in ROWS}
    assert len(covered) == len(ROWS), "one row per test cell"
    for lecture, _, test_id, wrong in ROWS:
        assert wrong, f"{lecture}/{test_id}: no wrong answer"
    graded = set()
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*/*.ipynb")):
        ids = {meta["grade_id"] for cell in json.loads(path.read_text())["cells"]
               if (meta := cell["metadata"].get("nbgrader", {})).get("grade") and not meta.get("solution")}
        graded |= {(path.parent.name, i) for i in ids}
        checks, _ = checker.load_checks(path.parent / "checks.py")
        assert ids - set(checks) == set(), f"{path.parent.name}: graded test cells with no trusted check"
    assert graded - covered == set(), "graded test cells with no wrong answers here"
    assert covered <= graded, "rows naming test cells that do not exist"
