"""Segmentation metrics as the original FCN code computes them: one confusion matrix, four scores.

The confusion matrix and the four scores (pixel accuracy, mean accuracy, mean IU, frequency-weighted IU) live in
``course_lib.core.confusion`` since lecture 05 scores its labels with them too; they are re-exported here under
their lecture-04 names (``confusion_matrix``, ``confusion_matrix_loop``, ``segmentation_scores``, ``mean_iou``).
Pixels labelled 255 (VOC's "void" border) are not counted.

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
from course_lib.core.confusion import (  # noqa: F401 (re-exported: the public names of lecture 04)
    confusion_matrix,
    confusion_matrix_loop,
    mean_iou,
)
from course_lib.core.confusion import label_scores as segmentation_scores  # lecture 04's name for them


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
        logits = model(x)  # (B, K, H, W)
        if logits.dim() != 4 or logits.shape[1] != num_classes:
            raise ValueError(f"the model gives {tuple(logits.shape)} logits, but num_classes={num_classes}: expected "
                             f"(B, {num_classes}, H, W)")
        pred = logits.argmax(1).cpu()  # (B, H, W)
        hist += confusion_matrix(pred, y, num_classes, ignore_index=ignore_index)
        c, t = boundary_accuracy(pred, y, width=boundary_width, ignore_index=ignore_index)
        correct, total = correct + c, total + t
    model.train(was_training)
    scores = segmentation_scores(hist)
    scores["boundary_acc"] = correct / max(total, 1)
    scores["hist"] = hist.tolist()
    return scores
