"""Confusion matrix and the four scores computed from it, shared by every topic that labels pixels.

With ``n_ij`` the number of pixels of true class ``i`` predicted as class ``j`` (rows = truth, columns =
prediction), ``t_i = Σ_j n_ij`` the pixels of class ``i`` and K classes:

.. math::

    \\text{pixel acc} = \\frac{\\sum_i n_{ii}}{\\sum_i t_i}, \\quad
    \\text{mean acc} = \\frac{1}{K}\\sum_i \\frac{n_{ii}}{t_i}, \\quad
    \\text{mean IU} = \\frac{1}{K}\\sum_i \\frac{n_{ii}}{t_i + \\sum_j n_{ji} - n_{ii}}, \\quad
    \\text{f.w. IU} = \\frac{1}{\\sum_k t_k}\\sum_i \\frac{t_i\\, n_{ii}}{t_i + \\sum_j n_{ji} - n_{ii}}

Pixels labelled ``ignore_index`` (255) are not counted. A class that never occurs in the truth has an undefined
accuracy (0/0 = NaN), and an undefined IU if it is never predicted either; the means are NaN-aware
(``nanmean``), exactly as ``score.py`` in the FCN repository. Frequency-weighted IU sums only over classes that
occur.

It moved into core when a second topic needed it; the topics re-export it under the names their lectures use.

Reference: J. Long, E. Shelhamer, T. Darrell, CVPR 2015, section 5 (metrics); ``score.py`` in the FCN
repository (github.com/shelhamer).

Lecture: every lecture that labels pixels
"""

from __future__ import annotations

import torch

from .checks import check_positive_int, check_same_shape, check_tensor


def _check_labels(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int) -> None:
    check_positive_int(num_classes, "num_classes")
    check_tensor(pred, "pred", dtype="int")
    check_tensor(target, "target", dtype="int")
    check_same_shape(pred, target, "pred", "target")
    bad = (target != ignore_index) & ((target < 0) | (target >= num_classes))
    if bad.any():
        vals = sorted(set(target[bad].unique().tolist()))[:5]
        raise ValueError(f"target labels must be in [0, {num_classes - 1}] or ignore_index={ignore_index}; "
                         f"found {vals}")
    valid = target != ignore_index
    if valid.any() and (pred[valid].min() < 0 or pred[valid].max() >= num_classes):
        raise ValueError(f"pred labels must be in [0, {num_classes - 1}]; got values in "
                         f"[{int(pred[valid].min())}, {int(pred[valid].max())}]")


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int, *,
                     ignore_index: int = 255) -> torch.Tensor:
    """Count pixels of each (true class, predicted class) pair.

    Parameters
    ----------
    pred : Tensor[...] of int
        Predicted class per pixel, in [0, K), any shape (e.g. (B, H, W)).
    target : Tensor[...] of int
        True class per pixel, same shape, in [0, K) or ``ignore_index``.
    num_classes : int
        K.
    ignore_index : int
        Label of pixels that are not counted.

    Returns
    -------
    Tensor[K, K], int64
        ``hist[i, j]`` = pixels of true class i predicted as j (rows = truth, columns = prediction).

    Examples
    --------
    >>> confusion_matrix(torch.tensor([0, 1, 1, 0]), torch.tensor([0, 1, 255, 1]), 2)
    tensor([[1, 0],
            [1, 1]])

    Lecture: every lecture that labels pixels
    """
    _check_labels(pred, target, num_classes, ignore_index)
    valid = target != ignore_index
    # One bincount over the pair index i·K + j: (K·K,) → (K, K).
    pair = target[valid].long() * num_classes + pred[valid].long()
    return torch.bincount(pair, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_matrix_loop(pred: torch.Tensor, target: torch.Tensor, num_classes: int, *,
                          ignore_index: int = 255) -> torch.Tensor:
    """Slow reference for :func:`confusion_matrix`: one pixel at a time.

    Lecture: every lecture that labels pixels
    """
    _check_labels(pred, target, num_classes, ignore_index)
    hist = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(target.flatten().tolist(), pred.flatten().tolist()):
        if t != ignore_index:
            hist[t, p] += 1
    return hist


def label_scores(hist: torch.Tensor) -> dict:
    """The four FCN scores from a confusion matrix.

    Parameters
    ----------
    hist : Tensor[K, K]
        Pixel counts, rows = truth, columns = prediction (:func:`confusion_matrix`); summed over a data set.

    Returns
    -------
    dict
        ``pixel_acc``, ``mean_acc``, ``mean_iou``, ``fw_iou`` (floats in [0, 1], NaN if nothing was counted)
        and ``per_class_iou`` (list of K floats, NaN for a class neither present nor predicted).

    Examples
    --------
    >>> s = label_scores(torch.tensor([[3, 1], [0, 0]]))
    >>> round(s["pixel_acc"], 3), round(s["mean_acc"], 3), round(s["mean_iou"], 3)
    (0.75, 0.75, 0.375)

    Lecture: every lecture that labels pixels
    """
    check_tensor(hist, "hist", dims="K K", min_value=0)
    if hist.shape[0] != hist.shape[1]:
        raise ValueError(f"hist must be square (K, K); got {tuple(hist.shape)}")
    hist = hist.double()
    diag, truth, predicted = hist.diag(), hist.sum(1), hist.sum(0)  # (K,) each
    with torch.no_grad():
        acc = diag / truth  # (K,): NaN where the class never occurs (0/0)
        iu = diag / (truth + predicted - diag)  # (K,): NaN where never occurs nor predicted
        freq = truth / truth.sum()
        present = freq > 0
    return {
        "pixel_acc": float(diag.sum() / hist.sum()),
        "mean_acc": float(acc.nanmean()),
        "mean_iou": float(iu.nanmean()),
        "fw_iou": float((freq[present] * iu[present]).sum()) if present.any() else float("nan"),
        "per_class_iou": [float(v) for v in iu],
    }


def mean_iou(hist: torch.Tensor) -> float:
    """Mean intersection over union from a (K, K) confusion matrix: ``label_scores(hist)["mean_iou"]``.

    >>> mean_iou(torch.tensor([[3, 1], [0, 0]]))
    0.375

    Lecture: every lecture that labels pixels
    """
    return label_scores(hist)["mean_iou"]
