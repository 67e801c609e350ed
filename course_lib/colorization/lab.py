"""CIE Lab in torch: the colour space in which Zhang, Isola & Efros pose colorization.

Zhang, Isola, Efros, "Colorful Image Colorization", ECCV 2016, section 2: the network sees the lightness channel
L and predicts the two chroma channels ab of CIE Lab, because Lab separates "how bright" (which a greyscale photo
keeps) from "which colour" (which it loses), and because Euclidean distance in ab roughly follows perceived colour
difference, which makes a grid of 10 in ab a sensible quantisation (``bins.py``).

The conversion is the textbook sRGB (D65) → linear RGB → XYZ → Lab chain, written with the same constants as
scikit-image's ``rgb2lab``/``lab2rgb`` (illuminant D65, 2° observer), so the two agree to float precision. It is
written in torch, not called from scikit-image, so that it runs on the GPU inside a training step, batched, and
is differentiable. Deviation: none in the maths; like scikit-image, ``lab_to_rgb`` clips Z at zero and clips the
result to [0, 1] (out-of-gamut Lab values have no sRGB colour).

Ranges: L in [0, 100]; a, b roughly in [-86, 98] and [-108, 95] for sRGB colours.

Lecture: 07_colorization
"""

from __future__ import annotations

import torch

from course_lib.core import check_tensor

# sRGB primaries → XYZ (the sRGB specification; the matrix scikit-image uses).
XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
# Reference white of illuminant D65, 2° observer (X, Y, Z with Y = 1).
WHITE_D65 = (0.95047, 1.0, 1.08883)
_EPS = 0.008856  # (6/29)^3: below it the cube root is replaced by a line (dark colours)
_KAPPA = 7.787  # slope of that line, (29/6)^2 / 3
_OFFSET = 16.0 / 116.0


def _matrix(rows, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(rows, dtype=like.dtype, device=like.device)


def _white(like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(WHITE_D65, dtype=like.dtype, device=like.device).view(1, 3, 1, 1)  # (1, 3, 1, 1)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    """Undo the sRGB gamma: (B, 3, H, W) in [0, 1] → linear light, same shape. Lecture: 07_colorization"""
    # clamp_min inside the power keeps the unused branch of torch.where free of NaN gradients at 0.
    return torch.where(rgb > 0.04045, ((rgb.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)


def linear_to_srgb(lin: torch.Tensor) -> torch.Tensor:
    """Apply the sRGB gamma: linear light → (B, 3, H, W) sRGB (not clipped). Lecture: 07_colorization"""
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(0.0031308) ** (1 / 2.4) - 0.055, lin * 12.92)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """Convert sRGB images to CIE Lab (D65, 2° observer), as scikit-image's ``rgb2lab``.

    Parameters
    ----------
    rgb : Tensor[B, 3, H, W], float, values in [0, 1]
        sRGB images (gamma-encoded, as stored in a PNG). Any device.

    Returns
    -------
    Tensor[B, 3, H, W]
        Channels L in [0, 100], a and b in about [-110, 110]; same dtype and device as ``rgb``.

    Examples
    --------
    >>> rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten().round().abs()  # white: L = 100, (almost) no chroma
    tensor([100.,   0.,   0.])

    Lecture: 07_colorization
    """
    check_tensor(rgb.detach() if isinstance(rgb, torch.Tensor) else rgb, "rgb", dims="B C H W",
                 shape=(None, 3, None, None), dtype="float", min_value=-1e-4, max_value=1 + 1e-4)
    lin = srgb_to_linear(rgb.clamp(0.0, 1.0))
    # (B, 3, H, W) x (3, 3) -> (B, 3, H, W): mix the channels of every pixel.
    xyz = torch.einsum("ij,bjhw->bihw", _matrix(XYZ_FROM_RGB, rgb), lin)
    t = xyz / _white(rgb)  # relative to the white point, (B, 3, H, W)
    f = torch.where(t > _EPS, t.clamp_min(_EPS) ** (1.0 / 3.0), _KAPPA * t + _OFFSET)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]  # each (B, H, W)
    L = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack([L, a, b], dim=1)  # (B, 3, H, W)


def lab_to_rgb(lab: torch.Tensor, *, clip: bool = True) -> torch.Tensor:
    """Convert CIE Lab images (D65, 2° observer) to sRGB, as scikit-image's ``lab2rgb``.

    Parameters
    ----------
    lab : Tensor[B, 3, H, W], float
        L in [0, 100], a and b in ab units (about [-110, 110]). Any device.
    clip : bool
        Clip the result to [0, 1] (scikit-image always does). Lab colours outside the sRGB gamut land on its
        boundary; ``clip=False`` shows by how much they miss.

    Returns
    -------
    Tensor[B, 3, H, W]
        sRGB in [0, 1] (when ``clip``); same dtype and device as ``lab``.

    Lecture: 07_colorization
    """
    check_tensor(lab, "lab", dims="B C H W", shape=(None, 3, None, None), dtype="float", finite=True)
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]  # each (B, H, W)
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = (fy - b / 200.0).clamp_min(0.0)  # as scikit-image: negative Z is clipped to zero
    f = torch.stack([fx, fy, fz], dim=1)  # (B, 3, H, W)
    t = torch.where(f > 0.2068966, f.clamp_min(0.2068966) ** 3, (f - _OFFSET) / _KAPPA)
    xyz = t * _white(lab)
    rgb_from_xyz = torch.linalg.inv(_matrix(XYZ_FROM_RGB, lab).double()).to(lab.dtype)
    lin = torch.einsum("ij,bjhw->bihw", rgb_from_xyz, xyz)  # (B, 3, H, W)
    rgb = linear_to_srgb(lin)
    return rgb.clamp(0.0, 1.0) if clip else rgb


def gray_to_rgb(L: torch.Tensor) -> torch.Tensor:
    """A greyscale image as RGB: Lab (L, 0, 0) → (B, 3, H, W) sRGB with three equal channels.

    ``L`` is Tensor[B, 1, H, W] in [0, 100]. This is what a "black and white photo" is in this lecture: the
    lightness of the colour photo, with the chroma removed.

    Lecture: 07_colorization
    """
    check_tensor(L, "L", dims="B 1 H W", shape=(None, 1, None, None), dtype="float", min_value=-1e-3,
                 max_value=100 + 1e-3)
    zeros = torch.zeros_like(L)
    return lab_to_rgb(torch.cat([L, zeros, zeros], dim=1))  # (B, 3, H, W)
