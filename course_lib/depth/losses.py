"""The three training losses of Eigen & Fergus (ICCV 2015): scale-invariant depth, normals, labels.

Depth (the slide "Losses"), with ``d = D − D*`` the difference of predicted and true *log* depth at the ``n``
valid pixels of an image:

.. math::

    L_{depth}(D, D^*) = \\frac{1}{n}\\sum_i d_i^2 - \\frac{\\lambda}{n^2}\\Big(\\sum_i d_i\\Big)^2
                        + \\frac{1}{n}\\sum_i \\big[(\\nabla_x d_i)^2 + (\\nabla_y d_i)^2\\big]

The first two terms are the scale-invariant error of Eigen, Puhrsch & Fergus (NIPS 2014): multiplying the
prediction by a constant ``s`` adds ``log s`` to every ``d_i``; with ``λ = 1`` the two terms are the variance of
``d`` and do not change at all, with ``λ = 0`` it is plain L2 in log space, and the paper's ``λ = ½`` sits in
between (a little absolute scale is learned). The gradient term (new in the ICCV paper) compares *local
structure*: it is zero when the prediction's log-depth changes between neighbours exactly as the truth does, so
it rewards sharp, correctly placed depth edges. ``∇`` is a difference between horizontal/vertical neighbours,
counted only when both pixels are valid; the sums are divided by the number of valid pixels ``n``, as on the
slide.

Normals: ``L = −(1/n) Σ N_i · N*_i`` with the prediction normalised to unit length (the paper normalises the
network's output), i.e. minus the mean cosine of the angle between predicted and true normals.

Labels: pixel-wise cross-entropy, pixels labelled 255 ignored.

Every loss is computed per image (its own ``n``) and averaged over the images of the batch.

Lecture: 05_depth
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.core import check_number, check_same_shape, check_tensor

from .rooms import IGNORE_INDEX


def _as_mask(mask, ref: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """Return a float mask of ``ref``'s shape (all ones when ``mask`` is None); refuse images with no pixel."""
    check_tensor(ref, "the prediction", nonempty=True)
    if mask is None:
        return torch.ones_like(ref)
    check_tensor(mask, name, dtype="bool")
    if mask.shape != ref.shape:
        raise ValueError(f"{name} must have the shape of the prediction {tuple(ref.shape)}; got {tuple(mask.shape)}")
    empty = (mask.flatten(1).sum(1) == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"{name} selects no pixel in image(s) {empty[:5]}: every image needs valid pixels")
    return mask.to(ref.dtype)


def scale_invariant_loss(pred_log: torch.Tensor, gt_log: torch.Tensor, mask: torch.Tensor | None = None, *,
                         lam: float = 0.5, grad: bool = True) -> torch.Tensor:
    """The slide's depth loss on log depths, averaged over the images of the batch.

    Parameters
    ----------
    pred_log, gt_log : Tensor[B, 1, H, W]
        Predicted and true log depth (natural log of metres).
    mask : Tensor[B, 1, H, W] of bool, optional
        Valid pixels (default: all). Invalid pixels contribute to no term, and a gradient term needs both
        neighbours valid. Every image needs at least one valid pixel.
    lam : float
        Weight λ of the scale term, in [0, 1]: 1 = fully scale invariant, 0 = L2 of log depth, ½ in the paper
        (above 1 the loss rewards a wrong global scale and can go negative).
    grad : bool
        Add the gradient-matching term (ICCV 2015); ``False`` gives the NIPS 2014 loss.

    Returns
    -------
    Tensor[] (scalar)

    Examples
    --------
    >>> gt = torch.rand(2, 1, 4, 4) + 1
    >>> abs(float(scale_invariant_loss(gt + 0.7, gt, lam=1.0, grad=False))) < 1e-6  # a global scale is free
    True

    Lecture: 05_depth
    """
    check_tensor(pred_log, "pred_log", dims="B 1 H W", dtype="float", finite=True, nonempty=True)
    check_tensor(gt_log, "gt_log", dims="B 1 H W", dtype="float", finite=True)
    check_same_shape(pred_log, gt_log, "pred_log", "gt_log")
    lam = check_number(lam, "lam", low=0.0, high=1.0, unit="1: scale invariant, 0: L2 of log depth, 0.5 in the paper")
    m = _as_mask(mask, pred_log)  # (B, 1, H, W) float
    d = (pred_log - gt_log) * m  # (B, 1, H, W), zero where invalid
    n = m.flatten(1).sum(1)  # (B,) valid pixels per image
    loss = (d**2).flatten(1).sum(1) / n - lam * d.flatten(1).sum(1) ** 2 / n**2  # (B,)
    if grad:
        mx = m[..., :, 1:] * m[..., :, :-1]  # (B, 1, H, W-1): both horizontal neighbours valid
        my = m[..., 1:, :] * m[..., :-1, :]  # (B, 1, H-1, W)
        gx = (d[..., :, 1:] - d[..., :, :-1]) * mx
        gy = (d[..., 1:, :] - d[..., :-1, :]) * my
        loss = loss + ((gx**2).flatten(1).sum(1) + (gy**2).flatten(1).sum(1)) / n
    return loss.mean()


def normals_loss(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Minus the mean dot product of unit-normalised predicted normals and true normals.

    Parameters
    ----------
    pred : Tensor[B, 3, H, W]
        Predicted normals, any length (normalised here; a zero vector gives a zero dot product).
    gt : Tensor[B, 3, H, W]
        True unit normals (length 1 ± 0.01 on valid pixels; a longer gt would scale the loss below −1).
    mask : Tensor[B, 1, H, W] of bool, optional
        Valid pixels (default: all); each image needs at least one.

    Returns
    -------
    Tensor[] in [−1, 1]: −1 when every predicted normal points exactly along the truth.

    Lecture: 05_depth
    """
    check_tensor(pred, "pred", dims="B 3 H W", shape=(None, 3, None, None), dtype="float", finite=True,
                 nonempty=True)
    check_tensor(gt, "gt", dims="B 3 H W", shape=(None, 3, None, None), dtype="float", finite=True)
    check_same_shape(pred, gt, "pred", "gt")
    m = _as_mask(mask, pred[:, :1])  # (B, 1, H, W)
    length = gt.norm(dim=1, keepdim=True)[m.bool()]  # (n,) on valid pixels
    if ((length - 1).abs() > 1e-2).any():
        raise ValueError(f"gt must hold unit normals on valid pixels; got lengths in [{float(length.min()):.4g}, "
                         f"{float(length.max()):.4g}]")
    cos = (F.normalize(pred, dim=1, eps=1e-8) * gt).sum(1, keepdim=True) * m  # (B, 1, H, W)
    return -(cos.flatten(1).sum(1) / m.flatten(1).sum(1)).mean()


def labels_loss(logits: torch.Tensor, labels: torch.Tensor, *, ignore_index: int = 255) -> torch.Tensor:
    """Pixel-wise cross-entropy of ``logits`` Tensor[B, K, H, W] against ``labels`` Tensor[B, H, W] (int64),
    ``ignore_index`` pixels not counted; mean over counted pixels. Labels must be in 0..K−1 or ``ignore_index``,
    and at least one pixel must be counted (a mean over none is NaN). Lecture: 05_depth"""
    check_tensor(logits, "logits", dims="B K H W", dtype="float", finite=True, nonempty=True)
    check_tensor(labels, "labels", dims="B H W", dtype="int")
    if logits.shape[0] != labels.shape[0] or logits.shape[2:] != labels.shape[1:]:
        raise ValueError(f"logits (B, K, H, W) and labels (B, H, W) disagree: {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    K = logits.shape[1]
    counted = labels != ignore_index
    if not counted.any():
        raise ValueError(f"labels are all ignore_index={ignore_index}: no pixel to compute the loss on")
    bad = counted & ((labels < 0) | (labels >= K))
    if bad.any():
        raise ValueError(f"labels must be in [0, {K - 1}] or ignore_index={ignore_index}; found "
                         f"{sorted(set(labels[bad].tolist()))[:5]}")
    return F.cross_entropy(logits, labels.long(), ignore_index=ignore_index)


# ------------------------------------------------------------------------------------------------------------
# The training loss of lecture 05: the three maps' losses summed, on randomly mirrored rooms.


def flip_batch(batch: dict, flip: torch.Tensor) -> dict:
    """Mirror the images of ``batch`` (a dict of room tensors) where ``flip`` Tensor[B] bool is True.

    Mirroring x negates the x component of the normals (camera frame, x right). Lecture: 05_depth
    """
    B = next(iter(batch.values())).shape[0] if batch else 0
    check_tensor(flip, "flip", shape=(B,), dtype="bool")
    out = {}
    for key, v in batch.items():
        f = flip.view(-1, *([1] * (v.dim() - 1)))  # (B, 1, ...)
        mirrored = v.flip(-1)
        if key == "normals":
            mirrored = mirrored * torch.tensor([-1.0, 1.0, 1.0], device=v.device).view(1, 3, 1, 1)
        out[key] = torch.where(f, mirrored, v)
    return out


def multitask_loss(model: torch.nn.Module, batch: dict, *, lam: float = 0.5, w_normals: float = 1.0,
                   w_labels: float = 1.0, flip: bool = True) -> torch.Tensor:
    """The training loss of one batch of rooms (``rgb``, ``depth``, ``normals``, ``labels``, ``valid``).

    Lecture: 05_depth
    """
    if flip and model.training:
        batch = flip_batch(batch, torch.rand(batch["rgb"].shape[0], device=batch["rgb"].device) < 0.5)
    out = model(batch["rgb"])
    valid = batch["valid"]
    loss = torch.zeros((), device=batch["rgb"].device)
    if "depth" in out:
        loss = loss + scale_invariant_loss(out["depth"].float(), batch["depth"].clamp_min(1e-3).log(), valid,
                                           lam=lam)
    if "normals" in out:
        loss = loss + w_normals * normals_loss(out["normals"].float(), batch["normals"], valid)
    if "labels" in out:
        loss = loss + w_labels * labels_loss(out["labels"].float(), batch["labels"], ignore_index=IGNORE_INDEX)
    return loss
