"""Reference answers of lecture 05's exercises, with the exercises' own signatures.

The lecture's exercises ask for slightly different functions than the library's public ones (one term of a
loss, one threshold of a metric, a per-pixel map); ``reference(name)`` returns the library's answer in the
exercise's form, for ``course_lib.core.exercise``'s fallback when an exercise is not done yet.

Lecture: 05_depth
"""

from __future__ import annotations

import torch

from course_lib.core import check_choice, check_number

from .losses import scale_invariant_loss
from .metrics import angular_error, valid_mask


def si_loss_without_gradient_term(pred_log: torch.Tensor, gt_log: torch.Tensor, mask: torch.Tensor,
                                  lam: float = 0.5) -> torch.Tensor:
    """Exercise 1: the scale-invariant loss without its gradient term (per image, then mean). Lecture: 05_depth"""
    return scale_invariant_loss(pred_log, gt_log, mask, lam=lam, grad=False)


def delta_accuracy(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor, t: float = 1.25) -> float:
    """Exercise 2: per-image fraction of valid pixels with max(pred/gt, gt/pred) < t, mean over images.

    Lecture: 05_depth
    """
    check_number(t, "t", low=1.0, low_open=True, unit="a ratio threshold such as 1.25")
    m = valid_mask(mask, pred)
    ratio = torch.maximum(pred / gt, gt / pred)  # (B, 1, H, W)
    return float((((ratio < t) & m).flatten(1).sum(1).double() / m.flatten(1).sum(1)).mean())


def angular_error_map(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Exercise 3: angles in degrees between normals, Tensor[B, 3, H, W] × 2 → Tensor[B, H, W]. Lecture: 05_depth"""
    return angular_error(pred, gt)[:, 0].to(pred.dtype)


_REFERENCES = {"scale_invariant_loss": si_loss_without_gradient_term, "delta_accuracy": delta_accuracy,
               "angular_error": angular_error_map}


def reference(name: str):
    """The reference answer of the exercise ``name`` (one of ``scale_invariant_loss``, ``delta_accuracy``,
    ``angular_error``). Lecture: 05_depth"""
    check_choice(name, "name", tuple(_REFERENCES))
    return _REFERENCES[name]
