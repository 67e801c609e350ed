"""Patch classification: training patches, the sliding-window baseline, and its dense (FCN) equivalent.

Before FCN, a common way to label pixels was to classify the patch around each pixel, one window at a time
(Ciresan et al. 2012, Farabet et al. 2013), or to classify region proposals (SDS, Hariharan et al. 2014).
Overlapping windows compute the same convolutions again and again. A convolutionalized classifier
(``convolutionalize.py``) computes every window at once and shares that work; for unpadded convolutions the two
give the same numbers, so the only difference is time. The lecture measures the ratio (the slides: FCN is
286× faster than SDS; our baseline is plain sliding windows, so the ratio is ours, not the paper's).

Conventions: images are padded by ``patch // 2`` pixels (reflection) on each side, so that the window with
top-left corner ``(s·i, s·j)`` in the padded image is centred on pixel ``(s·i, s·j)`` of the original: score-map
cell ``(i, j)`` predicts the class of pixel ``(s·i, s·j)``.

Lecture: 04_segmentation
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_positive_int, check_tensor


def pad_for_patches(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Reflect-pad (B, C, H, W) by ``patch // 2`` on each side so that every pixel can centre a window.

    Lecture: 04_segmentation
    """
    check_tensor(images, "images", dims="B C H W", dtype="float")
    check_positive_int(patch, "patch")
    p = patch // 2
    return F.pad(images, (p, p, p, p), mode="reflect")  # (B, C, H + 2p, W + 2p)


def sample_patches(images: torch.Tensor, labels: torch.Tensor, n: int, *, patch: int,
                   generator: torch.Generator | None = None, ignore_index: int = 255
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` random patches centred on labelled pixels, with the centre pixel's class as the label.

    Parameters
    ----------
    images : Tensor[N, 3, H, W] float
    labels : Tensor[N, H, W] int, class or ``ignore_index`` (never drawn)
    n : int
        Number of patches.
    patch : int
        Side P of a patch; the image is reflect-padded by P // 2.

    Returns
    -------
    patches : Tensor[n, 3, P, P]
    targets : Tensor[n] int64

    Lecture: 04_segmentation
    """
    N, _, H, W = check_tensor(images, "images", dims="N C H W", dtype="float").shape
    check_tensor(labels, "labels", dims="N H W", shape=(N, H, W), dtype="int")
    check_positive_int(n, "n")
    padded = pad_for_patches(images, patch)  # (N, 3, H + 2p, W + 2p)
    valid = (labels != ignore_index).flatten().nonzero()[:, 0]  # (M,) flat indices into N·H·W
    pick = valid[torch.randint(len(valid), (n,), generator=generator)]  # (n,)
    b, y, x = pick // (H * W), (pick // W) % H, pick % W
    # Window top-left in padded coordinates = the pixel's coordinates (see the module docstring).
    rows = y[:, None] + torch.arange(patch)  # (n, P)
    cols = x[:, None] + torch.arange(patch)  # (n, P)
    patches = padded[b[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (n, P, P, 3)
    return patches.permute(0, 3, 1, 2).contiguous(), labels.flatten()[pick].long()  # (n, 3, P, P), (n,)


@torch.no_grad()
def sliding_window_scores(classifier: nn.Module, images: torch.Tensor, *, patch: int, stride: int,
                          batch_size: int = 1024) -> torch.Tensor:
    """Classify every ``patch × patch`` window with step ``stride``, one window at a time (batched).

    The baseline: each window is cropped and classified independently, so overlapping windows recompute the
    same convolutions.

    Parameters
    ----------
    classifier : nn.Module
        Tensor[n, 3, P, P] → Tensor[n, K].
    images : Tensor[B, 3, H, W] float
        Already padded if every pixel should be covered (:func:`pad_for_patches`).
    patch, stride : int
        Window side P and step s, in pixels.

    Returns
    -------
    Tensor[B, K, H', W'] with ``H' = (H − P) // s + 1``: the scores of the window whose top-left is (s·i, s·j).

    Lecture: 04_segmentation
    """
    B, C, H, W = check_tensor(images, "images", dims="B C H W", dtype="float").shape
    check_positive_int(patch, "patch")
    check_positive_int(stride, "stride")
    if H < patch or W < patch:
        raise ValueError(f"images ({H}×{W}) are smaller than the patch {patch}")
    Hs, Ws = (H - patch) // stride + 1, (W - patch) // stride + 1
    corners = [(b, i, j) for b in range(B) for i in range(Hs) for j in range(Ws)]
    scores = []
    for start in range(0, len(corners), batch_size):
        crops = [images[b, :, i * stride:i * stride + patch, j * stride:j * stride + patch]
                 for b, i, j in corners[start:start + batch_size]]
        scores.append(classifier(torch.stack(crops)))  # (n, K)
    K = scores[0].shape[1]
    return torch.cat(scores).view(B, Hs, Ws, K).permute(0, 3, 1, 2)  # (B, K, Hs, Ws)


@torch.no_grad()
def patch_segment(net: nn.Module, images: torch.Tensor, *, patch: int, stride: int, dense: bool = True
                  ) -> torch.Tensor:
    """Label every pixel with a patch classifier: dense (convolutionalized ``net``) or by sliding windows.

    Parameters
    ----------
    net : nn.Module
        ``dense=True``: the convolutionalized classifier (images → (B, K, H', W') at step ``stride``);
        ``dense=False``: the patch classifier itself, run by :func:`sliding_window_scores`.
    images : Tensor[B, 3, H, W] float, unpadded
    patch, stride : int
        Window side and the net's total stride (the step between score-map cells).

    Returns
    -------
    Tensor[B, K, H, W]: scores at every pixel, each pixel taking the score-map cell nearest to it.

    Lecture: 04_segmentation
    """
    B, C, H, W = check_tensor(images, "images", dims="B C H W", dtype="float").shape
    padded = pad_for_patches(images, patch)  # (B, C, H + P, W + P) for even P
    if dense:
        scores = net(padded)  # (B, K, H/s + 1, W/s + 1)
    else:
        scores = sliding_window_scores(net, padded, patch=patch, stride=stride)
    # Cell (i, j) is pixel (s·i, s·j): repeat each cell s times; starting s // 2 in makes pixel p read the
    # cell round(p / s), the nearest one.
    full = scores.repeat_interleave(stride, dim=2).repeat_interleave(stride, dim=3)  # (B, K, s·H', s·W')
    o = stride // 2
    if full.shape[2] < o + H or full.shape[3] < o + W:
        raise ValueError(f"score map {tuple(scores.shape[2:])} at stride {stride} does not cover {H}×{W}")
    return full[..., o:o + H, o:o + W]  # (B, K, H, W)
