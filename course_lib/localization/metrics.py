"""Localization error: how far, in pixels, is each predicted joint from the truth; prediction and evaluation.

Tompson, Goroshin, Jain, LeCun, Bregler, "Efficient Object Localization Using Convolutional Networks", CVPR
2015, section 5 ("HOW WELL ARE WE DOING?"): the paper reports the mean distance between prediction and truth per
joint, in pixels, for 4×, 8× and 16× pooling, next to the label noise of humans who labelled the same FLIC
images, and the forward time of coarse, fine and cascade models.

Deviations: distances are pixels of our 64×64 synthetic images, not of FLIC's 320×240 frames, so compare the
trends and not the numbers. Our labels are exact (the people are drawn from their joints), so there is no label
noise to measure and no label-noise row; the floor we can measure is the quantisation of a perfect coarse heat map.

Lecture: 03_localization
"""

from __future__ import annotations

import torch

from course_lib.core import check_choice, check_same_shape, check_tensor
from course_lib.core.keypoints import heatmap_argmax, joint_distances
from course_lib.core.people import JOINTS, SyntheticPose

from .cascade import Cascade

GROUPS = {"face": ("face",), "shoulder": ("lsho", "rsho"), "elbow": ("lelb", "relb"), "wrist": ("lwri", "rwri")}
"""The slides' table columns: joint groups averaged over left and right."""


def localization_error(pred: torch.Tensor, target: torch.Tensor, *, visible: torch.Tensor | None = None,
                       reduction: str = "mean") -> torch.Tensor:
    """Mean (or median) Euclidean distance per joint between prediction and truth, in input pixels.

    Parameters
    ----------
    pred, target : Tensor[B, J, 2], float
        ``(x, y)`` in input pixels.
    visible : Tensor[B, J], bool, optional
        Count only these joints (a joint never visible gets NaN).
    reduction : {"mean", "median"}
        ``"median"`` ignores the gross failures (a wrist on a distractor) and shows the precision of the rest.

    Returns
    -------
    Tensor[J], float32 ≥ 0: pixels.

    Examples
    --------
    >>> localization_error(torch.tensor([[[3.0, 4.0]], [[0.0, 1.0]]]), torch.zeros(2, 1, 2))
    tensor([3.])

    Lecture: 03_localization
    """
    check_choice(reduction, "reduction", ("mean", "median"))
    check_same_shape(pred, target, "pred", "target")
    dist = joint_distances(pred.float(), target.float())  # (B, J) pixels
    if visible is not None:
        check_tensor(visible, "visible", dims="B J", shape=tuple(dist.shape), dtype="bool")
        dist = torch.where(visible, dist, torch.full_like(dist, float("nan")))  # (B, J), NaN = not counted
    return dist.nanmean(dim=0) if reduction == "mean" else dist.nanmedian(dim=0).values


def group_errors(errors: torch.Tensor) -> dict[str, float]:
    """Per-joint errors Tensor[9] (course order) → the slides' columns ``{"face", "shoulder", "elbow", "wrist"}``."""
    check_tensor(errors, "errors", dims="J", shape=(len(JOINTS),))
    return {g: float(sum(errors[JOINTS.index(n)] for n in names) / len(names)) for g, names in GROUPS.items()}


@torch.no_grad()
def predict(model: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Joint positions from a :class:`CoarseModel` (sub-pixel argmax) or a :class:`Cascade` (refined).

    images: Tensor[N, 3, H, W] float in [0, 1] → Tensor[N, J, 2] ``(x, y)`` input pixels, on the CPU. The model
    runs in eval mode on its own device.

    Lecture: 03_localization
    """
    check_tensor(images, "images", dims="N C H W", shape=(None, 3, None, None), dtype="float")
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].to(device)
        if isinstance(model, Cascade):
            out.append(model(x)["joints"].float().cpu())
        else:
            out.append(heatmap_argmax(model(x).float(), stride=model.stride, subpixel=True).cpu())
    return torch.cat(out)  # (N, J, 2)


def evaluate(model: torch.nn.Module, dataset: SyntheticPose) -> dict:
    """Localization error per joint (pixels), its mean and the slides' joint groups, as a flat dict of floats.

    Keys: ``err_<joint>`` (mean error) for every joint of ``JOINTS``, ``err_mean`` (over joints),
    ``group_<face|shoulder|elbow|wrist>``, and the same with ``med`` for the median error (``med_<joint>``,
    ``med_mean``, ``medgroup_<group>``).

    Lecture: 03_localization
    """
    pred = predict(model, dataset.images.float() / 255.0)  # (N, J, 2)
    metrics = {}
    for prefix, group, reduction in (("err", "group", "mean"), ("med", "medgroup", "median")):
        err = localization_error(pred, dataset.joints, reduction=reduction)  # (J,)
        metrics.update({f"{prefix}_{n}": float(e) for n, e in zip(JOINTS, err)})
        metrics[f"{prefix}_mean"] = float(err.mean())
        metrics.update({f"{group}_{g}": v for g, v in group_errors(err).items()})
    return metrics
