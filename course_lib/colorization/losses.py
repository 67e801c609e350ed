"""The two losses the slides compare: L2 regression on ab, and multinomial cross-entropy over ab bins.

Zhang, Isola, Efros, ECCV 2016, equations (1)-(2):

    L2(Ŷ, Y) = ½ Σ_{h,w} ‖Y_{h,w} − Ŷ_{h,w}‖²
    L(Ẑ, Z)  = − Σ_{h,w} v(Z_{h,w}) Σ_q Z_{h,w,q} log Ẑ_{h,w,q}

L2 is minimised by the conditional mean of the colour: when a shape is red half the time and green the other
half, the mean of the two is a dull brown-grey, and that is what L2 regression paints. The cross-entropy is
minimised by the whole conditional distribution, which keeps both modes; a decoder picks a colour afterwards.
v is the class-rebalancing weight (``rebalance.py``), 1 without rebalancing.

Deviation: both losses are averaged over pixels (and the batch) rather than summed, so that their size does not
depend on the image size (the slides' cross-entropy already has the 1/HW); this only rescales the learning rate.

Lecture: 07_colorization
"""

from __future__ import annotations

import torch

from course_lib.core import check_same_shape, check_tensor


def multinomial_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                              weights: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy between soft targets Z and the predicted distribution softmax(logits), optionally weighted.

    Parameters
    ----------
    logits : Tensor[B, Q, H, W], float
        Unnormalised scores (the network output); the softmax is taken inside, in log space (stable).
    target : Tensor[B, Q, H, W], float
        Target distributions Z (e.g. ``soft_encode``), non-negative, summing to 1 over Q.
    weights : Tensor[B, H, W], optional
        Per-pixel weights v(Z_{h,w}) (``pixel_weights``); default 1.

    Returns
    -------
    Tensor[] (scalar)
        −(1/(B·H·W)) Σ_{b,h,w} v Σ_q Z log Ẑ, in nats.

    Lecture: 07_colorization
    """
    check_tensor(logits, "logits", dims="B Q H W", dtype="float")
    check_tensor(target, "target", dims="B Q H W", dtype="float")
    check_same_shape(logits, target, "logits", "target")
    per_pixel = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1)  # (B, H, W)
    if weights is not None:
        B, _, H, W = logits.shape
        check_tensor(weights, "weights", dims="B H W", shape=(B, H, W), dtype="float")
        per_pixel = per_pixel * weights
    return per_pixel.mean()


def l2_loss(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    """The L2 regression loss ½‖Y − Ŷ‖², averaged over pixels.

    Parameters
    ----------
    pred_ab, true_ab : Tensor[B, 2, H, W], float
        Predicted and true chroma in ab units.

    Returns
    -------
    Tensor[] (scalar)
        (1/(B·H·W)) Σ ½ ‖Y_{h,w} − Ŷ_{h,w}‖², in squared ab units.

    Lecture: 07_colorization
    """
    check_tensor(pred_ab, "pred_ab", dims="B 2 H W", shape=(None, 2, None, None), dtype="float")
    check_same_shape(pred_ab, true_ab, "pred_ab", "true_ab")
    return 0.5 * ((pred_ab - true_ab) ** 2).sum(dim=1).mean()
