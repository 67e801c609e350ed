"""Coordinate transforms and crops for the coarse-to-fine cascade: heat-map cells, input pixels, crop samples.

Tompson, Goroshin, Jain, LeCun, Bregler, "Efficient Object Localization Using Convolutional Networks", CVPR
2015, section 4 (slide "CASCADE CROP"): around each rough estimate of the coarse model, a window of
``crop × crop`` input pixels is cut out of the coarse model's early features at all resolutions with
``torchvision.ops.roi_align``, every resolution resampled to the same ``R × R`` grid.

Coordinates (see :mod:`course_lib.core.keypoints`): ``(x, y)`` in input pixels, integers at pixel centres. A
feature map of stride ``s`` has cell ``u`` centred at ``s·u + (s − 1)/2``. ``roi_align(aligned=True)`` puts pixel
centres at half-integers of its continuous coordinates, so our ``x`` is its ``x + 0.5`` (:func:`crop_boxes`). A
crop centred at ``c`` with ``R`` samples spaced ``d = crop / R`` has sample ``i`` at ``c − crop/2 + d·(i + ½)``
(:func:`crop_to_image`, :func:`image_to_crop`). :func:`crop_reference` is the slow, obviously correct loop beside
:func:`crop_features`.

Lecture: 03_localization
"""

from __future__ import annotations

import torch
from torchvision.ops import roi_align

from course_lib.core import check_positive_int, check_tensor

# --------------------------------------------------------------------------------------------------------------
# Coordinate transforms: heat-map cells, input pixels, crop samples.


def map_to_image(uv: torch.Tensor, stride: int) -> torch.Tensor:
    """Heat-map cell coordinates → input pixels: ``x = stride·u + (stride − 1)/2``. Tensor[..., 2] → Tensor[..., 2].

    Lecture: 03_localization
    """
    check_positive_int(stride, "stride")
    return stride * uv + (stride - 1) / 2


def image_to_map(xy: torch.Tensor, stride: int) -> torch.Tensor:
    """Input pixels → heat-map cell coordinates (inverse of :func:`map_to_image`): ``u = (x − (s − 1)/2) / s``.

    Lecture: 03_localization
    """
    check_positive_int(stride, "stride")
    return (xy - (stride - 1) / 2) / stride


def crop_to_image(uv: torch.Tensor, centres: torch.Tensor, *, crop: float, size: int) -> torch.Tensor:
    """Crop-grid coordinates → input pixels: ``x = c_x − crop/2 + (crop / size)·(u + ½)``.

    Parameters
    ----------
    uv : Tensor[..., 2], float
        ``(u, v)`` in crop samples (column, row), 0 … size − 1 inside the crop.
    centres : Tensor[..., 2], float
        ``(x, y)`` of each crop's centre in input pixels (broadcast against ``uv``).
    crop : float
        Side of the crop in input pixels.
    size : int
        Samples per side of the crop grid, R.

    Returns
    -------
    Tensor[..., 2]: ``(x, y)`` in input pixels.

    Examples
    --------
    >>> crop_to_image(torch.tensor([0.0, 5.5]), torch.tensor([10.0, 10.0]), crop=24, size=12)
    tensor([-1., 10.])

    Lecture: 03_localization
    """
    check_positive_int(size, "size")
    d = crop / size  # input pixels per crop sample
    return centres - crop / 2 + d * (uv + 0.5)


def image_to_crop(xy: torch.Tensor, centres: torch.Tensor, *, crop: float, size: int) -> torch.Tensor:
    """Input pixels → crop-grid coordinates (inverse of :func:`crop_to_image`). Shapes as there.

    Lecture: 03_localization
    """
    check_positive_int(size, "size")
    d = crop / size
    return (xy - centres + crop / 2) / d - 0.5


def crop_boxes(centres: torch.Tensor, crop: float) -> torch.Tensor:
    """``roi_align`` boxes for square crops around every joint estimate.

    Parameters
    ----------
    centres : Tensor[B, J, 2], float
        ``(x, y)`` crop centres in input pixels.
    crop : float
        Crop side in input pixels.

    Returns
    -------
    Tensor[B·J, 5]: ``(batch index, x1, y1, x2, y2)`` in roi_align's continuous coordinates (our ``x`` + ½), ordered
    batch-major (row ``b·J + j`` is joint ``j`` of image ``b``).

    Lecture: 03_localization
    """
    check_tensor(centres, "centres", dims="B J 2", shape=(None, None, 2), dtype="float")
    B, J, _ = centres.shape
    c = centres.reshape(B * J, 2) + 0.5  # (B·J, 2) in roi_align's coordinates
    idx = torch.arange(B, device=centres.device, dtype=centres.dtype).repeat_interleave(J)[:, None]  # (B·J, 1)
    return torch.cat([idx, c - crop / 2, c + crop / 2], dim=1)  # (B·J, 5)


def crop_features(feats: list[torch.Tensor], strides, centres: torch.Tensor, *, crop: float, size: int,
                  sampling_ratio: int = 2) -> torch.Tensor:
    """Cut ``crop × crop``-pixel windows around ``centres`` out of every feature map, resampled to ``size × size``.

    Parameters
    ----------
    feats : list of Tensor[B, C_k, H / s_k, W / s_k]
        Feature maps (or the image itself with stride 1).
    strides : sequence of int
        Input pixels per cell ``s_k`` of each map.
    centres : Tensor[B, J, 2]
        Crop centres ``(x, y)`` in input pixels.
    crop, size
        As for :func:`crop_to_image`.
    sampling_ratio : int
        Bilinear sub-samples per sample and axis that roi_align averages (1: plain bilinear interpolation).

    Returns
    -------
    Tensor[B·J, ΣC_k, size, size]: the crops, concatenated over resolutions; sample ``(u, v)`` of crop ``b·J + j``
    is at :func:`crop_to_image` ``((u, v), centres[b, j])``. Outside the image, features are zero.

    Lecture: 03_localization
    """
    boxes = crop_boxes(centres, crop)  # (B·J, 5)
    crops = [roi_align(f, boxes.to(f.dtype), output_size=size, spatial_scale=1.0 / s, sampling_ratio=sampling_ratio,
                       aligned=True) for f, s in zip(feats, strides)]  # each (B·J, C_k, size, size)
    return torch.cat(crops, dim=1)  # (B·J, ΣC_k, size, size)


def crop_reference(feature: torch.Tensor, stride: int, centre, *, crop: float, size: int) -> torch.Tensor:
    """Slow, obvious crop of one map: bilinear interpolation at each sample point (one sample, not roi_align's
    average of 2×2 sub-samples). Tensor[C, h, w] → Tensor[C, size, size]. For tests.

    Lecture: 03_localization
    """
    C, h, w = feature.shape
    out = torch.zeros(C, size, size, dtype=feature.dtype)
    for v in range(size):
        for u in range(size):
            x, y = crop_to_image(torch.tensor([float(u), float(v)]), torch.as_tensor(centre, dtype=torch.float32),
                                 crop=crop, size=size).tolist()
            fx, fy = (x - (stride - 1) / 2) / stride, (y - (stride - 1) / 2) / stride  # map cells
            if fx < -1 or fy < -1 or fx > w or fy > h:
                continue
            fx, fy = min(max(fx, 0.0), w - 1.0), min(max(fy, 0.0), h - 1.0)
            x0, y0 = int(fx), int(fy)
            x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
            ax, ay = fx - x0, fy - y0
            out[:, v, u] = ((1 - ay) * ((1 - ax) * feature[:, y0, x0] + ax * feature[:, y0, x1])
                            + ay * ((1 - ax) * feature[:, y1, x0] + ax * feature[:, y1, x1]))
    return out
