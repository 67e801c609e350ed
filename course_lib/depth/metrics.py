"""The error measures of the slides' tables: depth (δ thresholds, abs rel, sq rel, RMS, RMS log, sc-inv),
surface normals (mean and median angle, % within 11.25°, 22.5°, 30°), and 4-class label accuracy.

Depth, with ``y`` the prediction and ``y*`` the truth (metres) at the ``n`` valid pixels of one image
(Eigen, Puhrsch & Fergus NIPS 2014; the ICCV 2015 tables use the same):

* ``delta1/2/3``: fraction of pixels with ``max(y / y*, y* / y) < 1.25^k`` (**strictly** below; a pixel exactly
  at ratio 1.25 does not count for δ1);
* ``abs_rel`` = mean |y − y*| / y*; ``sq_rel`` = mean (y − y*)² / y*;
* ``rmse`` = sqrt(mean (y − y*)²) (metres); ``rmse_log`` = sqrt(mean (log y − log y*)²);
* ``si_log`` ("sc-inv." on the slide) = sqrt(mean d² − (mean d)²), d = log y − log y*: the error left after the
  best global scale, i.e. the standard deviation of the log ratio.

Normals: the angle between the predicted and the true normal, both normalised, in degrees; ``mean``, ``median``
and the percentage of pixels ``within_11_25``, ``within_22_5``, ``within_30`` degrees.

Every measure is computed **per image and then averaged over images** (so a large image does not count more);
the paper's code averages some measures over all pixels of the test set instead, which weights images by their
valid pixels. Labels use one confusion matrix over the whole set (:mod:`course_lib.core.confusion`), as the
segmentation literature does.

Lecture: 05_depth
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.core import check_same_shape, check_tensor
from course_lib.core.confusion import confusion_matrix, label_scores
from course_lib.core.stats import paired_bootstrap

DEPTH_KEYS = ("delta1", "delta2", "delta3", "abs_rel", "sq_rel", "rmse", "rmse_log", "si_log")
NORMAL_KEYS = ("mean", "median", "within_11_25", "within_22_5", "within_30")


def valid_mask(mask, ref: torch.Tensor) -> torch.Tensor:
    """Bool mask of ``ref``'s shape (all True when None), each image with at least one pixel."""
    check_tensor(ref, "the prediction", nonempty=True)
    if mask is None:
        mask = torch.ones_like(ref, dtype=torch.bool)
    check_tensor(mask, "mask", dtype="bool")
    if mask.shape != ref.shape:
        raise ValueError(f"mask must have shape {tuple(ref.shape)} (like the depth maps); got {tuple(mask.shape)}")
    empty = (mask.flatten(1).sum(1) == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"mask selects no pixel in image(s) {empty[:5]}: a metric of nothing is undefined")
    return mask


def depth_metrics(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor | None = None) -> dict:
    """The slide's depth measures, per image then averaged over images.

    Parameters
    ----------
    pred, gt : Tensor[B, 1, H, W]
        Predicted and true depth in metres; both strictly positive on the valid pixels (logs are taken).
    mask : Tensor[B, 1, H, W] of bool, optional
        Valid pixels (default: all); every image needs at least one.

    Returns
    -------
    dict of float
        ``delta1``, ``delta2``, ``delta3`` (fractions in [0, 1]), ``abs_rel``, ``sq_rel`` (metres), ``rmse``
        (metres), ``rmse_log``, ``si_log``.

    Examples
    --------
    >>> gt = torch.ones(1, 1, 1, 2)
    >>> m = depth_metrics(torch.tensor([[[[1.25, 1.0]]]]), gt)
    >>> m["delta1"], m["delta2"]  # ratio exactly 1.25 is not < 1.25
    (0.5, 1.0)

    Lecture: 05_depth
    """
    check_tensor(pred, "pred", dims="B 1 H W", shape=(None, 1, None, None), dtype="float", finite=True)
    check_tensor(gt, "gt", dims="B 1 H W", shape=(None, 1, None, None), dtype="float", finite=True)
    check_same_shape(pred, gt, "pred", "gt")
    m = valid_mask(mask, pred)
    for x, name in ((pred, "pred"), (gt, "gt")):
        if (x[m] <= 0).any():
            raise ValueError(f"{name} must be > 0 on valid pixels (log depth is taken); got minimum "
                             f"{float(x[m].min()):.4g}")
    pred, gt = pred.double(), gt.double()
    w = m.double()  # (B, 1, H, W)
    n = w.flatten(1).sum(1)  # (B,)

    def mean(x):  # per-image mean over valid pixels: (B, 1, H, W) -> (B,)
        return (torch.where(m, x, 0.0)).flatten(1).sum(1) / n

    safe_p, safe_g = torch.where(m, pred, 1.0), torch.where(m, gt, 1.0)
    ratio = torch.maximum(safe_p / safe_g, safe_g / safe_p)
    d = torch.log(safe_p) - torch.log(safe_g)
    per_image = {
        "delta1": mean((ratio < 1.25).double()),
        "delta2": mean((ratio < 1.25**2).double()),
        "delta3": mean((ratio < 1.25**3).double()),
        "abs_rel": mean((safe_p - safe_g).abs() / safe_g),
        "sq_rel": mean((safe_p - safe_g) ** 2 / safe_g),
        "rmse": mean((safe_p - safe_g) ** 2).sqrt(),
        "rmse_log": mean(d**2).sqrt(),
        "si_log": (mean(d**2) - mean(d) ** 2).clamp_min(0).sqrt(),
    }
    return {k: float(v.mean()) for k, v in per_image.items()}


def _angles(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Angle in degrees between normalised normals, Tensor[B, 1, H, W] float64 (90° where one has no length)."""
    check_tensor(pred, "pred", dims="B 3 H W", shape=(None, 3, None, None), dtype="float", finite=True)
    check_tensor(gt, "gt", dims="B 3 H W", shape=(None, 3, None, None), dtype="float", finite=True)
    check_same_shape(pred, gt, "pred", "gt")
    cos = (F.normalize(pred.double(), dim=1) * F.normalize(gt.double(), dim=1)).sum(1, keepdim=True)
    return torch.rad2deg(torch.acos(cos.clamp(-1.0, 1.0)))


def _check_directions(pred: torch.Tensor, gt: torch.Tensor, m: torch.Tensor | None = None) -> None:
    """Refuse zero-length normals (on the pixels of ``m``, default all): they have no direction, and normalising
    them gives a zero vector, i.e. a silent 90° error."""
    for x, name in ((pred, "pred"), (gt, "gt")):
        short = x.norm(dim=1, keepdim=True) < 1e-12  # (B, 1, H, W)
        if m is not None:
            short = short & m
        if short.any():
            where = "on valid pixels" if m is not None else "(no pixel may have one; mask them out)"
            raise ValueError(f"{name} has {int(short.sum())} zero-length normals {where}, first at index "
                             f"{tuple(int(i) for i in torch.nonzero(short)[0])}: they have no direction")


def angular_error(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Angle in degrees between normals, Tensor[B, 3, H, W] × 2 → Tensor[B, 1, H, W]; both are normalised, so
    neither may have a zero-length normal (it has no direction; the masked measures accept it where masked out).

    Lecture: 05_depth
    """
    ang = _angles(pred, gt)
    _check_directions(pred, gt)
    return ang


def normal_metrics(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor | None = None) -> dict:
    """The slide's normal measures (degrees, percent), per image then averaged over images.

    Parameters
    ----------
    pred, gt : Tensor[B, 3, H, W]
        Predicted and true normals; both are normalised to unit length first. A zero-length vector on a valid
        pixel has no direction and is refused.
    mask : Tensor[B, 1, H, W] of bool, optional
        Valid pixels (default: all).

    Returns
    -------
    dict of float
        ``mean``, ``median`` (degrees), ``within_11_25``, ``within_22_5``, ``within_30`` (percent of pixels).

    Lecture: 05_depth
    """
    ang = _angles(pred, gt)  # (B, 1, H, W) degrees
    m = valid_mask(mask, ang)
    _check_directions(pred, gt, m)
    out = {k: [] for k in NORMAL_KEYS}
    for a, v in zip(ang, m):  # per image: the median needs the pixels themselves
        a = a[v]
        out["mean"].append(float(a.mean()))
        out["median"].append(float(a.median()) if a.numel() % 2 else float(a.quantile(0.5)))
        for key, t in (("within_11_25", 11.25), ("within_22_5", 22.5), ("within_30", 30.0)):
            out[key].append(100.0 * float((a < t).double().mean()))
    return {k: sum(v) / len(v) for k, v in out.items()}


def label_metrics(pred: torch.Tensor, gt: torch.Tensor, num_classes: int = 4, *, ignore_index: int = 255) -> dict:
    """Pixel accuracy and mean class accuracy (the slides' "4-class pixelwise accuracy", in percent) and mean IU.

    ``pred`` and ``gt`` are Tensor[B, H, W] of int (``gt`` may hold ``ignore_index``). One confusion matrix over
    all images (:func:`course_lib.core.confusion.confusion_matrix`).

    Lecture: 05_depth
    """
    s = label_scores(confusion_matrix(pred, gt, num_classes, ignore_index=ignore_index))
    return {"pixel_acc": 100.0 * s["pixel_acc"], "mean_acc": 100.0 * s["mean_acc"],
            "mean_iou": 100.0 * s["mean_iou"]}


def bootstrap_difference(a: torch.Tensor, b: torch.Tensor, *, n_boot: int = 2000, seed: int = 0,
                         level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired difference ``a − b`` over test images and its bootstrap interval.

    ``a`` and ``b`` are Tensor[N] of one measure per test image for two models. Resampling images (not pixels)
    keeps the interval honest about how many rooms the comparison rests on. Returns ``(mean, low, high)``.
    The one implementation is :func:`course_lib.core.stats.paired_bootstrap`; this name keeps lecture 05's
    vocabulary.

    Lecture: 05_depth
    """
    check_tensor(a, "a", dims="N", dtype="float", finite=True)
    check_same_shape(a, b, "a", "b")
    return paired_bootstrap(a.double(), b.double(), n_boot=n_boot, seed=seed, level=level)


def per_image_si_log(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """sc-inv. error of each image, Tensor[B] (see :func:`depth_metrics`), for paired comparisons.

    Lecture: 05_depth
    """
    return torch.tensor([depth_metrics(p[None], g[None], None if mask is None else v[None])["si_log"]
                         for p, g, v in zip(pred, gt, mask if mask is not None else [None] * len(pred))])


def per_image_normal_mean(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean angular error (degrees) of each image, Tensor[B], for paired comparisons. Lecture: 05_depth"""
    ang = _angles(pred, gt)
    m = valid_mask(mask, ang)
    _check_directions(pred, gt, m)
    return (ang * m).flatten(1).sum(1) / m.flatten(1).sum(1)



def near_discontinuity(normals: torch.Tensor, labels: torch.Tensor, *, angle: float = 20.0,
                       radius: int = 1) -> torch.Tensor:
    """Pixels within ``radius`` pixels of a true discontinuity, Tensor[B, 1, H, W] of bool.

    A discontinuity lies between two 4-neighbours whose true normals turn by more than ``angle`` degrees or whose
    labels differ (object edges, creases between walls, floor and furniture). Used to ask *where* a model's
    errors are: near edges (which a coarse output cannot draw) or inside smooth surfaces.

    Parameters
    ----------
    normals : Tensor[B, 3, H, W]
        True normals (normalised here).
    labels : Tensor[B, H, W] of int
        True labels.
    angle : float
        Turn in degrees, in (0, 180), above which neighbouring normals count as a discontinuity.
    radius : int
        How far from the discontinuity a pixel still counts (0: only the two pixels either side).

    Lecture: 05_depth
    """
    check_tensor(normals, "normals", dims="B 3 H W", shape=(None, 3, None, None), dtype="float", finite=True,
                 nonempty=True)
    check_tensor(labels, "labels", dims="B H W", dtype="int")
    if labels.shape != normals.shape[:1] + normals.shape[2:]:
        raise ValueError(f"labels must have shape {(normals.shape[0], *normals.shape[2:])} (B, H, W of the "
                         f"normals); got {tuple(labels.shape)}")
    if isinstance(angle, bool) or not isinstance(angle, (int, float)) or not 0.0 < angle < 180.0:
        raise ValueError(f"angle must be in (0, 180) degrees; got {angle}")
    if int(radius) != radius or radius < 0:
        raise ValueError(f"radius must be a non-negative integer; got {radius!r}")
    n = F.normalize(normals.double(), dim=1)
    cos = torch.cos(torch.deg2rad(torch.tensor(angle, dtype=torch.float64)))
    cut_x = ((n[..., 1:] * n[..., :-1]).sum(1) < cos) | (labels[..., 1:] != labels[..., :-1])  # (B, H, W-1)
    cut_y = ((n[..., 1:, :] * n[..., :-1, :]).sum(1) < cos) | (labels[:, 1:] != labels[:, :-1])  # (B, H-1, W)
    edge = torch.zeros_like(labels, dtype=torch.bool)
    edge[..., 1:] |= cut_x
    edge[..., :-1] |= cut_x
    edge[:, 1:] |= cut_y
    edge[:, :-1] |= cut_y
    edge = edge[:, None].float()
    if radius:
        edge = F.max_pool2d(edge, 2 * int(radius) + 1, stride=1, padding=int(radius))
    return edge.bool()
