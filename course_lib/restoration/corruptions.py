"""Corruptions for lecture 06, part 1: additive Gaussian noise and blur.

Burger et al. (CVPR 2012) and DnCNN (Zhang et al., TIP 2017) denoise y = x + n with n ~ N(0, σ²), σ quoted in
the units of 8-bit pixel values (σ = 25 means 25/255 on our [0, 1] scale). Schuler et al. ("Learning to
Deblur", 2014) and the classical deconvolution methods assume y = k ⊛ x (+ noise) with a known blur kernel k:
a motion streak or an out-of-focus disc. Kernels here are normalised (sum 1: blur keeps the mean brightness)
and odd-sized (they have a centre pixel, so blurring does not shift the image).

Every function takes batches Tensor[N, C, H, W] on any device and is deterministic given a
``torch.Generator`` (which may live on the CPU while the images live on a GPU: the random numbers are drawn on
the generator's device and moved).

Deviation: noisy images are not clipped to [0, 1] (as in the DnCNN and BM3D benchmarks); a real sensor clips.

Lecture: 06_restoration
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_lib.core import check_memory, check_number, check_tensor

MAX_SIGMA = 255.0  # noise σ in 0-255 units: beyond the whole range of the image there is nothing left to denoise


def check_images(x: torch.Tensor, name: str = "x", *, unit: bool = True) -> torch.Tensor:
    """Images Tensor[N, C, H, W], non-empty, floating, finite, in [0, 1] when ``unit``."""
    return check_tensor(x, name, dims="N C H W", dtype="float", finite=True, nonempty=True,
                        min_value=0.0 if unit else None, max_value=1.0 if unit else None)


def check_sigma(sigma, name: str = "sigma", *, unit: str = "in 0-255 units, e.g. 25",
                high: float | None = None) -> float:
    """A finite number ≥ 0 (≤ ``high`` when given); the message names its unit (noise σ in 0-255 units, kernel
    sizes in pixels)."""
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
        raise TypeError(f"{name} must be a number ({unit}), but found {type(sigma).__name__}")
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"{name} must be ≥ 0 ({unit}), but found {sigma}")
    if high is not None and sigma > high:
        raise ValueError(f"{name} must be ≤ {high:g} ({unit}), but found {sigma}")
    return float(sigma)


def _check_kernel_memory(what: str, side: int, samples: int = 1) -> None:
    """Memory guard for a (side × side) float64 kernel drawn with ``samples`` sub-samples per pixel."""
    check_memory(8.0 * side * side * samples, f"{what} (a {side} × {side} kernel)",
                 "a blur kernel wider than the image does nothing more; use a smaller size")


def randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal numbers of ``x``'s shape, drawn with ``generator`` on its own device, then moved to x's.

    Lecture: 06_restoration
    """
    gen_device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=gen_device, dtype=x.dtype).to(x.device)


def add_gaussian_noise(x: torch.Tensor, sigma: float | torch.Tensor, *,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """y = x + (σ/255)·n with n ~ N(0, 1) per pixel; not clipped.

    Parameters
    ----------
    x : Tensor[N, C, H, W]
        Clean images in [0, 1].
    sigma : float or Tensor[N]
        Noise standard deviation in 0-255 units, in [0, 255] (σ = 25 → 25/255 ≈ 0.098 on the [0, 1] scale); a
        tensor gives one σ per image (blind training).
    generator : torch.Generator, optional
        Makes the noise reproducible.

    Returns
    -------
    Tensor[N, C, H, W]
        The noisy images (values may leave [0, 1]).

    Lecture: 06_restoration
    """
    check_images(x)
    if isinstance(sigma, torch.Tensor):
        check_tensor(sigma, "sigma", shape=(x.shape[0],), dtype="float", finite=True, min_value=0.0,
                     max_value=MAX_SIGMA)
        scale = (sigma.to(x.device, x.dtype) / 255.0).view(-1, 1, 1, 1)  # (N, 1, 1, 1)
    else:
        scale = check_sigma(sigma, high=MAX_SIGMA) / 255.0
    return x + scale * randn_like(x, generator)


# ------------------------------------------------------------------------------------------------- blur kernels

def _check_size(size, name: str = "size") -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{name} must be an int, but found {type(size).__name__}")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"{name} must be odd and ≥ 1 (a kernel needs a centre pixel), but found {size}")
    return size


def gaussian_kernel(sigma: float, *, size: int | None = None) -> torch.Tensor:
    """A normalised Gaussian blur kernel: Tensor[size, size], sums to 1.

    ``sigma`` in pixels (> 0); ``size`` odd, default ``2·ceil(3σ) + 1``.

    Lecture: 06_restoration
    """
    sigma = check_sigma(sigma, unit="in pixels, e.g. 2")
    if sigma == 0:
        raise ValueError("sigma must be > 0 pixels for a Gaussian kernel, but found 0")
    size = _check_size(2 * math.ceil(3 * sigma) + 1 if size is None else size)
    _check_kernel_memory(f"gaussian_kernel(sigma={sigma:g})", size)
    r = torch.arange(size, dtype=torch.float64) - size // 2  # (size,)
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]  # (size, size)
    return (k / k.sum()).float()


def defocus_kernel(radius: float, *, size: int | None = None) -> torch.Tensor:
    """Out-of-focus blur: a uniform disc of ``radius`` pixels, antialiased at the edge (4 × 4 supersampling),
    normalised. Tensor[size, size]; ``size`` odd, default ``2·ceil(radius) + 1``.

    Lecture: 06_restoration
    """
    radius = check_sigma(radius, "radius", unit="in pixels, e.g. 3")
    size = _check_size(2 * math.ceil(radius) + 1 if size is None else size)
    _check_kernel_memory(f"defocus_kernel(radius={radius:g})", size, samples=16)
    sub = (torch.arange(4 * size, dtype=torch.float64) + 0.5) / 4 - size / 2  # sub-pixel centres, (4·size,)
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2 <= max(radius, 0.5) ** 2).double()  # (4·size, 4·size)
    k = F.avg_pool2d(inside[None, None], 4)[0, 0]  # fraction of each pixel inside the disc, (size, size)
    return (k / k.sum()).float()


def motion_kernel(length: float, angle: float, *, size: int | None = None) -> torch.Tensor:
    """Linear camera-shake blur: a line segment of ``length`` pixels at ``angle`` degrees (counter-clockwise
    from the x axis, image y pointing down), centred, drawn with bilinear splatting of 8 samples per pixel,
    normalised. Tensor[size, size]; ``size`` odd, default the smallest odd size that holds the segment.

    Lecture: 06_restoration
    """
    length = check_sigma(length, "length", unit="in pixels, e.g. 11")
    angle = check_number(angle, "angle", unit="degrees")
    size = _check_size(2 * math.ceil(length / 2) + 1 if size is None else size)
    _check_kernel_memory(f"motion_kernel(length={length:g})", size)
    c = size // 2
    n = max(2, int(math.ceil(8 * length)))
    t = torch.linspace(-length / 2, length / 2, n, dtype=torch.float64)  # (n,) positions along the line
    xs = c + t * math.cos(math.radians(angle))
    ys = c - t * math.sin(math.radians(angle))  # minus: image rows grow downwards
    k = torch.zeros(size, size, dtype=torch.float64)
    x0, y0 = xs.floor(), ys.floor()
    for dx in (0, 1):
        for dy in (0, 1):
            w = (1 - (xs - x0 - dx).abs()) * (1 - (ys - y0 - dy).abs())  # bilinear weight, (n,)
            xi, yi = (x0 + dx).long(), (y0 + dy).long()
            ok = (xi >= 0) & (xi < size) & (yi >= 0) & (yi < size)
            k.index_put_((yi[ok], xi[ok]), w[ok], accumulate=True)
    return (k / k.sum()).float()


def check_kernel(kernel: torch.Tensor, name: str = "kernel") -> torch.Tensor:
    """Refuse anything but a normalised, non-negative, odd-sized Tensor[k, k]; return it.

    Lecture: 06_restoration
    """
    check_tensor(kernel, name, dims="kh kw", dtype="float", finite=True, min_value=0.0)
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"{name} must have odd sides (a centre pixel), but has shape {tuple(kernel.shape)}")
    total = float(kernel.sum())
    if abs(total - 1.0) > 1e-4:
        raise ValueError(f"{name} must sum to 1 (blur keeps brightness), but sums to {total:.6g}")
    return kernel


def blur(x: torch.Tensor, kernel: torch.Tensor, *, padding: str = "reflect") -> torch.Tensor:
    """y = k ⊛ x per channel (a true convolution: the kernel is flipped), same size as x. "reflect" padding is
    scipy.ndimage's "mirror" (the edge pixel is not repeated).

    Parameters
    ----------
    x : Tensor[N, C, H, W]
        Images (any finite values).
    kernel : Tensor[k, k]
        Odd-sized, non-negative, sums to 1 (see :func:`check_kernel`).
    padding : {"reflect", "replicate", "circular"}
        How the border is extended.

    Lecture: 06_restoration
    """
    check_images(x, unit=False)
    check_kernel(kernel)
    if padding not in ("reflect", "replicate", "circular"):
        raise ValueError(f"padding must be one of ('reflect', 'replicate', 'circular'), but found {padding!r}")
    N, C, H, W = x.shape
    kh, kw = kernel.shape
    if padding == "reflect" and (kh // 2 >= H or kw // 2 >= W):
        raise ValueError(f"kernel {tuple(kernel.shape)} is too large to reflect-pad images of {H} × {W}")
    w = kernel.flip(0, 1).to(x.device, x.dtype)[None, None].repeat(C, 1, 1, 1)  # (C, 1, kh, kw): depthwise
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2), mode=padding)  # (N, C, H + kh − 1, W + kw − 1)
    return F.conv2d(xp, w, groups=C)  # (N, C, H, W)
