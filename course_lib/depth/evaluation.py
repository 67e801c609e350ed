"""Predicting and scoring lecture 05's nets, and the baselines a user would try first.

Baselines with no network at all (:func:`baseline_predictions`): the training set's mean depth everywhere, and
the training set's mean depth of each image row (the "floor at the bottom, wall at the top" prior of a camera held
level); for normals and labels the same per-row statistics (mean normal, most frequent class).

Lecture: 05_depth
"""

from __future__ import annotations

import torch

from course_lib.core import check_positive_int

from .metrics import depth_metrics, label_metrics, normal_metrics
from .multiscale import MultiScaleNet
from .rooms import IGNORE_INDEX, SyntheticRooms


@torch.no_grad()
def predict(model: MultiScaleNet, rgb: torch.Tensor, *, batch_size: int = 64) -> dict:
    """Run ``model`` on Tensor[N, 3, H, W] and return CPU tensors: ``depth`` Tensor[N, 1, H, W] metres (exp of the
    predicted log depth), ``normals`` Tensor[N, 3, H, W] unit, ``labels`` Tensor[N, H, W] int64 (argmax).

    Lecture: 05_depth
    """
    check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict = {t: [] for t in model.tasks}
    for chunk in rgb.split(batch_size):
        out = model(chunk.to(device))
        for t in model.tasks:
            v = out[t].float().cpu()
            parts[t].append(v.exp() if t == "depth" else v.argmax(1) if t == "labels" else v)
    model.train(was_training)
    return {t: torch.cat(v) for t, v in parts.items()}


def evaluate_predictions(pred: dict, test_set: SyntheticRooms) -> dict:
    """Flat float metrics of predictions (as from :func:`predict`) on ``test_set``: the depth measures of
    :func:`depth_metrics`, ``normals_mean``, ``normals_median``, ``normals_within_11_25`` ... , and the label
    measures ``pixel_acc``, ``mean_acc``, ``mean_iou`` (percent). Tasks missing from ``pred`` are skipped.

    Lecture: 05_depth
    """
    out = {}
    if "depth" in pred:
        out.update(depth_metrics(pred["depth"], test_set.depth, test_set.valid))
    if "normals" in pred:
        out.update({f"normals_{k}": v for k, v in normal_metrics(pred["normals"], test_set.normals,
                                                                  test_set.valid).items()})
    if "labels" in pred:
        out.update(label_metrics(pred["labels"], test_set.labels, test_set.num_classes))
    return out


def evaluate(model: MultiScaleNet, test_set: SyntheticRooms) -> dict:
    """:func:`evaluate_predictions` of ``model``'s predictions on ``test_set``. Lecture: 05_depth"""
    return evaluate_predictions(predict(model, test_set.rgb), test_set)


def baseline_predictions(train_set: SyntheticRooms, n: int) -> dict:
    """Predictions of the two no-network baselines for ``n`` test images, from training-set statistics.

    Returns ``{"mean depth": pred, "per-row mean": pred}`` where each ``pred`` has ``depth`` Tensor[n, 1, H, W]
    (metres), ``normals`` Tensor[n, 3, H, W] and ``labels`` Tensor[n, H, W]. "mean depth" predicts the mean of
    all valid training depths everywhere, the mean normal (normalised) and the most frequent class; "per-row
    mean" does the same per image row.

    Lecture: 05_depth
    """
    check_positive_int(n, "n")
    H, W = train_set.H, train_set.W
    v = train_set.valid.float()  # (N, 1, H, W)
    d, nrm, lab = train_set.depth, train_set.normals, train_set.labels
    counts = torch.stack([((lab == k) & (lab != IGNORE_INDEX)).sum((0, 2)) for k in range(4)])  # (4, H) per row
    row_depth = (d * v).sum((0, 1, 3)) / v.sum((0, 1, 3))  # (H,)
    row_normal = torch.nn.functional.normalize((nrm * v).sum((0, 3)), dim=0)  # (3, H)
    glob_depth = (d * v).sum() / v.sum()
    glob_normal = torch.nn.functional.normalize((nrm * v).sum((0, 2, 3)), dim=0)  # (3,)
    return {
        "mean depth": {"depth": glob_depth.expand(n, 1, H, W).clone(),
                       "normals": glob_normal.view(1, 3, 1, 1).expand(n, 3, H, W).clone(),
                       "labels": counts.sum(1).argmax().expand(n, H, W).clone()},
        "per-row mean": {"depth": row_depth.view(1, 1, H, 1).expand(n, 1, H, W).clone(),
                         "normals": row_normal.view(1, 3, H, 1).expand(n, 3, H, W).clone(),
                         "labels": counts.argmax(0).view(1, H, 1).expand(n, H, W).clone()},
    }
