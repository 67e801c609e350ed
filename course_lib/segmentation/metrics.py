"""Segmentation metrics as the original FCN code computes them: one confusion matrix, four scores.

With ``n_ij`` the number of pixels of true class ``i`` predicted as class ``j`` (rows = truth, columns =
prediction), ``t_i = Σ_j n_ij`` the pixels of class ``i`` and K classes:

.. math::

    \\text{pixel acc} = \\frac{\\sum_i n_{ii}}{\\sum_i t_i}, \\quad
    \\text{mean acc} = \\frac{1}{K}\\sum_i \\frac{n_{ii}}{t_i}, \\quad
    \\text{mean IU} = \\frac{1}{K}\\sum_i \\frac{n_{ii}}{t_i + \\sum_j n_{ji} - n_{ii}}, \\quad
    \\text{f.w. IU} = \\frac{1}{\\sum_k t_k}\\sum_i \\frac{t_i\\, n_{ii}}{t_i + \\sum_j n_{ji} - n_{ii}}

Pixels labelled ``ignore_index`` (255, VOC's "void" border) are not counted. A class that never occurs in the
truth has an undefined accuracy (0/0 = NaN), and an undefined IU if it is never predicted either; the means are
NaN-aware (``nanmean``), exactly as ``score.py`` in the FCN repository. Frequency-weighted IU sums only over
classes that occur.

Beside the four scores, :func:`boundary_accuracy` measures pixel accuracy in a band of ``width`` pixels around
class edges, where coarse predictions fail first (the lecture's "where").

Reference: J. Long, E. Shelhamer, T. Darrell, CVPR 2015, section 5 (metrics); ``score.py`` in
https://github.com/shelhamer/fcn.berkeleyvision.org.

Lecture: 04_segmentation
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.core import check_positive_int, check_same_shape, check_tensor


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

    Lecture: 04_segmentation
    """
    _check_labels(pred, target, num_classes, ignore_index)
    valid = target != ignore_index
    # One bincount over the pair index i·K + j: (K·K,) → (K, K).
    pair = target[valid].long() * num_classes + pred[valid].long()
    return torch.bincount(pair, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_matrix_loop(pred: torch.Tensor, target: torch.Tensor, num_classes: int, *,
                          ignore_index: int = 255) -> torch.Tensor:
    """Slow reference for :func:`confusion_matrix`: one pixel at a time.

    Lecture: 04_segmentation
    """
    _check_labels(pred, target, num_classes, ignore_index)
    hist = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(target.flatten().tolist(), pred.flatten().tolist()):
        if t != ignore_index:
            hist[t, p] += 1
    return hist


def segmentation_scores(hist: torch.Tensor) -> dict:
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
    >>> s = segmentation_scores(torch.tensor([[3, 1], [0, 0]]))
    >>> round(s["pixel_acc"], 3), round(s["mean_acc"], 3), round(s["mean_iou"], 3)
    (0.75, 0.75, 0.375)

    Lecture: 04_segmentation
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
    """Mean intersection over union from a (K, K) confusion matrix: ``segmentation_scores(hist)["mean_iou"]``.

    >>> mean_iou(torch.tensor([[3, 1], [0, 0]]))
    0.375

    Lecture: 04_segmentation
    """
    return segmentation_scores(hist)["mean_iou"]


def boundary_band(target: torch.Tensor, *, width: int = 3, ignore_index: int = 255) -> torch.Tensor:
    """Pixels within ``width`` pixels (Chebyshev distance) of a class edge, ignored pixels excluded.

    An edge pixel is one whose right or lower neighbour has another label (the 255 border counts as another
    label: it sits exactly on object edges); the band is the edge pixels dilated by a (2·width + 1)² square.

    Parameters
    ----------
    target : Tensor[B, H, W] of int
    width : int

    Returns
    -------
    Tensor[B, H, W] of bool

    Lecture: 04_segmentation
    """
    B, H, W = check_tensor(target, "target", dims="B H W", dtype="int").shape
    check_positive_int(width, "width")
    edge = torch.zeros(B, H, W, dtype=torch.bool, device=target.device)
    dx = target[:, :, 1:] != target[:, :, :-1]  # (B, H, W-1): a change between columns j and j+1
    dy = target[:, 1:, :] != target[:, :-1, :]  # (B, H-1, W)
    edge[:, :, 1:] |= dx
    edge[:, :, :-1] |= dx
    edge[:, 1:, :] |= dy
    edge[:, :-1, :] |= dy
    band = F.max_pool2d(edge[:, None].float(), 2 * width + 1, stride=1, padding=width)[:, 0] > 0  # (B, H, W)
    return band & (target != ignore_index)


def boundary_accuracy(pred: torch.Tensor, target: torch.Tensor, *, width: int = 3,
                      ignore_index: int = 255) -> tuple[int, int]:
    """Correct and total pixel counts inside the boundary band (:func:`boundary_band`).

    Returns ``(correct, total)`` as ints so that counts can be summed over batches; accuracy = correct/total.

    Lecture: 04_segmentation
    """
    check_tensor(pred, "pred", dims="B H W", dtype="int")
    check_same_shape(pred, target, "pred", "target")
    band = boundary_band(target, width=width, ignore_index=ignore_index)
    return int((pred[band] == target[band]).sum()), int(band.sum())


@torch.no_grad()
def evaluate_segmentation(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, num_classes: int,
                          *, batch_size: int = 32, ignore_index: int = 255, boundary_width: int = 3) -> dict:
    """Run ``model`` (images → logits (B, K, H, W)) over a data set and score it.

    Parameters
    ----------
    images : Tensor[N, 3, H, W] float
    labels : Tensor[N, H, W] int, in [0, K) or ``ignore_index``

    Returns
    -------
    dict
        :func:`segmentation_scores` plus ``boundary_acc`` (pixel accuracy within ``boundary_width`` px of a
        class edge) and ``hist`` (the (K, K) confusion matrix as nested lists).

    Lecture: 04_segmentation
    """
    check_tensor(images, "images", dims="N C H W", dtype="float")
    check_tensor(labels, "labels", dims="N H W", dtype="int")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    hist = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    correct = total = 0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device)
        y = labels[start:start + batch_size]
        pred = model(x).argmax(1).cpu()  # (B, H, W)
        hist += confusion_matrix(pred, y, num_classes, ignore_index=ignore_index)
        c, t = boundary_accuracy(pred, y, width=boundary_width, ignore_index=ignore_index)
        correct, total = correct + c, total + t
    model.train(was_training)
    scores = segmentation_scores(hist)
    scores["boundary_acc"] = correct / max(total, 1)
    scores["hist"] = hist.tolist()
    return scores
