"""Image quality for lecture 06: PSNR and SSIM in torch, batched, one value per image.

PSNR (peak signal-to-noise ratio) in dB, for images with values in [0, R] (R = ``data_range``):

    PSNR(x, y) = 10 · log10( R² / MSE(x, y) ),   MSE = mean over C, H, W of (x − y)².

Worked example: σ = 25 Gaussian noise on a [0, 1] image has MSE ≈ (25/255)² and PSNR ≈ 20.17 dB; each halving
of the RMS error adds 6.02 dB. Identical images have MSE = 0 and PSNR = +inf (returned as ``inf``, no warning).

SSIM (Wang, Bovik, Sheikh, Simoncelli, IEEE TIP 2004) compares local means, variances and covariance in an
11 × 11 Gaussian window (σ = 1.5) and averages the map over the image, with C1 = (0.01 R)², C2 = (0.03 R)².
We follow ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=R)`` exactly: the image border is extended by symmetric reflection
(scipy's ``mode="reflect"``), the map is averaged after cropping 5 pixels from each side, and a colour image's
value is the mean over channels. tests/test_restoration_metrics.py checks both against scikit-image.

Lecture: 06_restoration
"""

from __future__ import annotations

import math

import torch

from course_lib.core import check_same_shape, check_tensor


def _check_pair(x: torch.Tensor, y: torch.Tensor, data_range) -> tuple[torch.Tensor, torch.Tensor, float]:
    for t, name in ((x, "x"), (y, "y")):
        check_tensor(t, name, dims="N C H W", finite=True, nonempty=True)
        if not (t.is_floating_point() or t.dtype == torch.uint8):
            raise TypeError(f"{name} must be floating or uint8, but has dtype {t.dtype}")
    check_same_shape(x, y, "x", "y")
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float)) or not 0 < data_range < math.inf:
        raise ValueError(f"data_range must be a positive number (1.0 for [0, 1] images, 255 for 8-bit), "
                         f"but found {data_range!r}")
    for t, name in ((x, "x"), (y, "y")):
        # the unit is an argument, never guessed from the dtype: a uint8 image with the default data_range = 1
        # would give PSNR ≈ −10 dB without a word, so a value far outside the range is refused
        if t.dtype == torch.uint8 and data_range != 255:
            raise ValueError(f"{name} is uint8 (0..255), so data_range must be 255; got data_range={data_range}")
        lo, hi = float(t.min()), float(t.max())
        if lo < -2 * data_range or hi > 3 * data_range:
            raise ValueError(f"{name} has values in [{lo:.4g}, {hi:.4g}], far outside data_range={data_range} "
                             f"(noisy images may overshoot to [-2R, 3R]); 0..255 images need data_range=255")
    # float64 and no uint8 arithmetic: (a − b) on uint8 wraps around (3 − 5 = 254), the classic PSNR bug.
    return x.double(), y.to(x.device).double(), float(data_range)


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image: Tensor[N, C, H, W] × 2 → Tensor[N] (float64). Lecture: 06_restoration"""
    x, y, _ = _check_pair(x, y, 1.0)
    return ((x - y) ** 2).mean(dim=(1, 2, 3))


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image.

    Parameters
    ----------
    x, y : Tensor[N, C, H, W]
        Images, floating or uint8 (computed in float64 either way; no uint8 wrap-around), N, H, W ≥ 1. Values
        must lie within [−2R, 3R] (noisy, unclipped images overshoot [0, R]; 0..255 values with R = 1 do not
        pass), and uint8 images need R = 255.
    data_range : float
        R, the distance from the darkest to the brightest possible value: 1.0 for [0, 1], 255 for 8-bit.

    Returns
    -------
    Tensor[N] float64
        ``10·log10(R²/MSE)``; ``inf`` where the images are identical.

    Examples
    --------
    >>> x = torch.zeros(1, 1, 4, 4); y = torch.full((1, 1, 4, 4), 0.1)
    >>> round(float(psnr(x, y)), 4)
    20.0

    Lecture: 06_restoration
    """
    x, y, R = _check_pair(x, y, data_range)
    err = ((x - y) ** 2).mean(dim=(1, 2, 3))  # (N,)
    out = torch.full_like(err, math.inf)
    nz = err > 0
    out[nz] = 10 * torch.log10(R**2 / err[nz])
    return out


def _gaussian_window(sigma: float = 1.5, truncate: float = 3.5, *, device=None) -> torch.Tensor:
    """scipy.ndimage.gaussian_filter's 1-D kernel: radius int(truncate·σ + 0.5) = 5 → Tensor[11] float64."""
    r = int(truncate * sigma + 0.5)
    t = torch.arange(-r, r + 1, dtype=torch.float64, device=device)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def _symmetric_index(n: int, r: int, device=None) -> torch.Tensor:
    """Indices that pad a length-``n`` axis by ``r`` with edge-repeating reflection (d c b a | a b c d),
    scipy's "reflect" mode (torch's "reflect" does not repeat the edge pixel): Tensor[n + 2r] long."""
    i = torch.arange(-r, n + r, device=device)
    i = torch.remainder(i, 2 * n)  # fold into one period of the mirrored signal
    return torch.where(i < n, i, 2 * n - 1 - i)


def _filter_matrix(n: int, g: torch.Tensor) -> torch.Tensor:
    """The (n, n) matrix that pads an axis symmetrically and filters it with ``g``: out = A @ signal."""
    r = g.numel() // 2
    idx = _symmetric_index(n, r, g.device)  # (n + 2r,)
    A = torch.zeros(n, n, dtype=g.dtype, device=g.device)
    for k in range(2 * r + 1):  # output i takes g[k] · padded[i + k] = g[k] · signal[idx[i + k]]
        A.index_put_((torch.arange(n, device=g.device), idx[k:k + n]), g[k].expand(n), accumulate=True)
    return A


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filtering of Tensor[N, C, H, W] with symmetric borders; same shape.

    Written as two matrix products, A_H · x · A_Wᵀ (padding folded into the matrices): thin convolution
    kernels are slow on CPUs, matrix products are not.
    """
    H, W = x.shape[-2:]
    A_h, A_w = _filter_matrix(H, g), _filter_matrix(W, g)
    return A_h @ x @ A_w.T  # (N, C, H, W)


def ssim_map(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """The local SSIM index, Tensor[N, C, H, W] float64 (no cropping). See :func:`ssim`.

    Lecture: 06_restoration
    """
    x, y, R = _check_pair(x, y, data_range)  # float64
    g = _gaussian_window(device=x.device)
    C1, C2 = (0.01 * R) ** 2, (0.03 * R) ** 2
    stats = _filter(torch.stack([x, y, x * x, y * y, x * y]), g)  # (5, N, C, H, W): one pass for all five
    mu_x, mu_y = stats[0], stats[1]
    # population (not sample) covariances, as use_sample_covariance=False
    vxx = stats[2] - mu_x * mu_x
    vyy = stats[3] - mu_y * mu_y
    vxy = stats[4] - mu_x * mu_y
    num = (2 * mu_x * mu_y + C1) * (2 * vxy + C2)
    den = (mu_x**2 + mu_y**2 + C1) * (vxx + vyy + C2)
    return num / den


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004), one value per image, as scikit-image computes it with
    ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``.

    Parameters
    ----------
    x, y : Tensor[N, C, H, W]
        Images (H, W ≥ 11), floating or uint8.
    data_range : float
        1.0 for [0, 1] images, 255 for 8-bit.

    Returns
    -------
    Tensor[N] float64
        Mean SSIM over channels and over the map cropped by 5 pixels per side; 1 for identical images.

    Lecture: 06_restoration
    """
    if isinstance(x, torch.Tensor) and x.dim() == 4 and min(x.shape[-2:]) < 11:
        raise ValueError(f"x must be at least 11 × 11 pixels for SSIM's 11 × 11 window; got {tuple(x.shape)}")
    s = ssim_map(x, y, data_range)
    pad = 5  # (win_size − 1) // 2, as scikit-image crops before averaging
    return s[..., pad:-pad, pad:-pad].mean(dim=(1, 2, 3))
