"""The FLIC detection-rate / PCK metrics (decoding heat maps to coordinates is core's ``heatmap_argmax``).

Tompson et al., NIPS 2014, evaluate on FLIC with the measure of Sapp & Taskar (CVPR 2013): a joint is detected
when its predicted position lies within ``r`` percent of the torso size from the truth, where the torso size is
the distance between the left hip and the right shoulder; sweeping ``r`` from 0 to 20 gives one curve per joint
(the slides' "DetectionRate(R)"; ``r = 10`` is the usual headline number)::

    DetectionRate(R) = 100 / N · Σ_t [ ‖x_t − x*_t‖₂ / (torso_t / 100) ≤ R ]

PCK@α (percentage of correct keypoints) is the same test with a fraction ``α`` of any per-image normaliser.

Coordinates are ``(x, y)`` in input pixels, integers at pixel centres (see :mod:`course_lib.core.keypoints`).

Lecture: 01_pose_detector
"""

from __future__ import annotations

import torch

from course_lib.core import check_tensor
from course_lib.core.keypoints import heatmap_argmax, joint_distances
from course_lib.core.people import JOINTS

__all__ = ["detection_rate", "detection_rate_curve", "heatmap_argmax", "joint_distances", "pck", "torso_size"]


def torso_size(target: torch.Tensor) -> torch.Tensor:
    """FLIC's torso size ``|lhip − rsho|`` per image: Tensor[B, J, 2] (course joint order) → Tensor[B] pixels."""
    check_tensor(target, "target", dims="B J 2", shape=(None, len(JOINTS), 2), dtype="float")
    return (target[:, JOINTS.index("lhip")] - target[:, JOINTS.index("rsho")]).norm(dim=-1)


def pck(pred: torch.Tensor, target: torch.Tensor, norm, alpha: float, visible: torch.Tensor | None = None
        ) -> torch.Tensor:
    """Per-joint fraction of predictions within ``alpha · norm`` of the truth (PCK@α).

    Parameters
    ----------
    pred, target : Tensor[B, J, 2], float
        ``(x, y)`` in input pixels.
    norm : Tensor[B] or float
        Per-image normaliser in pixels (torso size, head size, ...), or one number for all.
    alpha : float
        Threshold as a fraction of ``norm``, ≥ 0. A distance exactly equal to ``alpha · norm`` counts.
    visible : Tensor[B, J], bool, optional
        Only these joints count; a joint never visible gets NaN.

    Returns
    -------
    Tensor[J], float32 in [0, 1].

    Examples
    --------
    >>> t = torch.zeros(2, 1, 2); p = torch.tensor([[[3.0, 4.0]], [[0.0, 1.0]]])   # distances 5 and 1
    >>> pck(p, t, norm=10.0, alpha=0.2)
    tensor([0.5000])

    Lecture: 01_pose_detector
    """
    dist = joint_distances(pred, target)  # (B, J)
    B, J = dist.shape
    if not alpha >= 0:
        raise ValueError(f"alpha must be ≥ 0, but found {alpha}")
    norm = torch.as_tensor(norm, dtype=torch.float32, device=dist.device)
    if norm.dim() == 0:
        norm = norm.expand(B)
    check_tensor(norm, "norm", dims="B", shape=(B,), dtype="float", min_value=0.0)
    hit = (dist <= alpha * norm[:, None]).float()  # (B, J)
    if visible is None:
        return hit.mean(dim=0)
    check_tensor(visible, "visible", dims="B J", shape=(B, J), dtype="bool")
    vis = visible.float()
    return (hit * vis).sum(dim=0) / vis.sum(dim=0)  # (J,), NaN where a joint is never visible


def detection_rate(pred: torch.Tensor, target: torch.Tensor, r: float, *, torso: torch.Tensor | None = None,
                   visible: torch.Tensor | None = None) -> torch.Tensor:
    """FLIC detection rate at radius ``r``: percent of joints within ``r`` % of the torso size of the truth.

    Parameters
    ----------
    pred, target : Tensor[B, J, 2], float
        ``(x, y)`` in input pixels.
    r : float
        Radius in percent of the torso size, e.g. 10.
    torso : Tensor[B], optional
        Torso sizes in pixels; default ``|lhip − rsho|`` of ``target`` (needs the course's 9 joints).
    visible : Tensor[B, J], bool, optional
        Only these joints count.

    Returns
    -------
    Tensor[J], float32 in [0, 100].

    Lecture: 01_pose_detector
    """
    norm = torso_size(target) if torso is None else torso
    return 100.0 * pck(pred, target, norm, r / 100.0, visible)


def detection_rate_curve(pred: torch.Tensor, target: torch.Tensor, *, radii=None, torso: torch.Tensor | None = None,
                         visible: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The FLIC curve: detection rate per joint for ``r`` swept over 0..20 % of the torso size.

    Parameters
    ----------
    pred, target : Tensor[B, J, 2], float
        ``(x, y)`` in input pixels.
    radii : sequence of float or Tensor[R], optional
        Radii in percent of the torso size; default ``0, 0.5, ..., 20`` (41 values).
    torso, visible
        As for :func:`detection_rate`.

    Returns
    -------
    (radii, rates): Tensor[R] and Tensor[R, J], float32, rates in percent.

    Lecture: 01_pose_detector
    """
    radii = torch.linspace(0, 20, 41) if radii is None else torch.as_tensor(radii, dtype=torch.float32)
    check_tensor(radii, "radii", dims="R", dtype="float", min_value=0.0)
    norm = torso_size(target) if torso is None else torso
    rel = 100.0 * joint_distances(pred, target) / norm[:, None]  # (B, J) distance in % of torso size
    hit = (rel[None] <= radii.to(rel.device)[:, None, None]).float()  # (R, B, J)
    if visible is None:
        rates = hit.mean(dim=1)  # (R, J)
    else:
        check_tensor(visible, "visible", dims="B J", shape=tuple(rel.shape), dtype="bool")
        vis = visible.float()[None]  # (1, B, J)
        rates = (hit * vis).sum(dim=1) / vis.sum(dim=1)  # (R, J)
    return radii, 100.0 * rates
