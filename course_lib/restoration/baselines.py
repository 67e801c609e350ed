"""The classical methods lecture 06 measures the nets against, called from the libraries that implement them.

Nothing here is reimplemented: each function converts a batch Tensor[N, C, H, W] to numpy, calls the library
once per image, and converts back (clipped to [0, 1], on the input's device). They run on the CPU whatever the
device of the input.

* Denoising (σ in 0-255 units, the true σ given to every method that takes one):
  ``bm3d_denoise`` (Dabov et al. 2007, the ``bm3d`` package of Mäkinen, Azzari, Foi), ``nlm_denoise``
  (non-local means, Buades et al. 2005; ``h = 0.8·σ̂`` with σ̂ from ``estimate_sigma``, as scikit-image's
  gallery), ``tv_denoise`` (Chambolle's total variation; weight ∝ σ, ``TV_WEIGHT``), ``wavelet_denoise``
  (BayesShrink).
* Deconvolution, *given the true kernel* (the net is not given it): ``wiener_deconv``,
  ``unsupervised_wiener_deconv``, ``richardson_lucy_deconv``. The image is reflect-padded before
  deconvolution and cropped after, so that the FFT's periodic border does not ring.
* Inpainting, given the mask: ``biharmonic_inpaint``.
* Dirt and rain: ``median_denoise``, a median filter (``scipy.ndimage.median_filter``).

Lecture: 06_restoration
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib.core import check_number, check_positive_int, check_tensor

from .corruptions import MAX_SIGMA, check_kernel, check_sigma

# Tuned on the *training* photos (bench/restoration.py, "tuning": 128² crops of six training photos, σ = 15,
# 25, 50): TV weight per unit of σ on the [0, 1] scale (weight = TV_WEIGHT · σ/255), best of 0.3..1.6 at every
# σ; NLM's h = NLM_H · σ̂, best of 0.6..1.2 at σ = 15 and 25 and within 0.1 dB of the best at σ = 50.
TV_WEIGHT = 0.9
NLM_H = 0.8


def _each(y: torch.Tensor, fn, name: str = "y") -> torch.Tensor:
    """Apply ``fn(np.ndarray[H, W] or [H, W, C]) -> same`` to each image of Tensor[N, C, H, W]."""
    check_tensor(y, name, dims="N C H W", dtype="float", finite=True, nonempty=True)
    out = []
    for img in y.detach().cpu().double().numpy():
        a = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)  # (H, W) or (H, W, C)
        r = np.asarray(fn(a), dtype=np.float64)
        out.append(r[None] if r.ndim == 2 else np.moveaxis(r, -1, 0))
    return torch.from_numpy(np.stack(out)).to(y.dtype).clamp(0, 1).to(y.device)


def _channel_axis(a: np.ndarray):
    return None if a.ndim == 2 else -1


def bm3d_denoise(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """BM3D with the true σ (0-255 units): ``bm3d.bm3d`` for grey, ``bm3d.bm3d_rgb`` for colour.
    Tensor[N, C, H, W] → Tensor[N, C, H, W], C = 1 or 3, H and W ≥ 9 (BM3D matches 8 × 8 blocks; the bm3d
    library fails on smaller images and crashes the interpreter on 8 × 8). About 3-4 s per 512² grey image on
    one CPU core.

    Lecture: 06_restoration
    """
    import bm3d

    check_tensor(y, "y", dims="N C H W", dtype="float", nonempty=True)
    if y.shape[1] not in (1, 3):
        raise ValueError(f"y must have 1 (grey) or 3 (RGB) channels for BM3D; got {tuple(y.shape)}")
    if min(y.shape[-2:]) < 9:
        raise ValueError(f"y must be at least 9 × 9 pixels for BM3D's 8 × 8 blocks; got {tuple(y.shape)}")
    s = check_sigma(sigma, high=MAX_SIGMA) / 255.0
    return _each(y, lambda a: bm3d.bm3d(a, sigma_psd=s) if a.ndim == 2 else bm3d.bm3d_rgb(a, sigma_psd=s))


def nlm_denoise(y: torch.Tensor, *, h_factor: float = NLM_H, patch_size: int = 5,
                patch_distance: int = 6) -> torch.Tensor:
    """Non-local means with σ estimated from the image (``skimage.restoration.estimate_sigma``) and
    ``h = h_factor·σ̂``. Tensor[N, C, H, W] → Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    from skimage.restoration import denoise_nl_means, estimate_sigma

    check_number(h_factor, "h_factor", low=0.0, low_open=True, unit="h = h_factor · estimated σ")
    check_positive_int(patch_size, "patch_size")
    if not isinstance(patch_distance, int) or isinstance(patch_distance, bool) or patch_distance < 0:
        raise ValueError(f"patch_distance must be an int ≥ 0 (pixels), but found {patch_distance!r}")

    def run(a):
        ax = _channel_axis(a)
        s = float(np.mean(estimate_sigma(a, channel_axis=ax)))
        return denoise_nl_means(a, h=h_factor * s, sigma=s, fast_mode=True, patch_size=patch_size,
                                patch_distance=patch_distance, channel_axis=ax)

    return _each(y, run)


def tv_denoise(y: torch.Tensor, sigma: float, *, weight_per_sigma: float = TV_WEIGHT) -> torch.Tensor:
    """Total-variation denoising (Chambolle), weight = ``weight_per_sigma``·σ/255, σ > 0 (in 0-255 units).
    Tensor[N, C, H, W] → Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    from skimage.restoration import denoise_tv_chambolle

    sigma = check_sigma(sigma, high=MAX_SIGMA)
    if sigma == 0:
        raise ValueError("sigma must be > 0 for TV denoising (its weight is proportional to σ; σ = 0 means no noise, "
                         "nothing to remove), but found 0")
    weight_per_sigma = check_number(weight_per_sigma, "weight_per_sigma", low=0.0, low_open=True)
    w = weight_per_sigma * sigma / 255.0
    return _each(y, lambda a: denoise_tv_chambolle(a, weight=w, channel_axis=_channel_axis(a)))


def wavelet_denoise(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """Wavelet shrinkage (BayesShrink, soft thresholds) with the true σ. Lecture: 06_restoration"""
    from skimage.restoration import denoise_wavelet

    s = check_sigma(sigma, high=MAX_SIGMA) / 255.0
    return _each(y, lambda a: denoise_wavelet(a, sigma=s, method="BayesShrink", mode="soft", rescale_sigma=True,
                                              channel_axis=_channel_axis(a)))


def _padded(a: np.ndarray, pad: int, fn) -> np.ndarray:
    """Reflect-pad H and W by ``pad``, apply ``fn`` to each channel, crop back."""
    chans = [a] if a.ndim == 2 else [a[..., c] for c in range(a.shape[-1])]
    out = [fn(np.pad(ch, pad, mode="symmetric"))[pad:-pad, pad:-pad] for ch in chans]
    return out[0] if a.ndim == 2 else np.stack(out, axis=-1)


def _psf(kernel: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The kernel as a numpy PSF; it must be smaller than the images (the reflect padding is 2 kernel widths)."""
    check_kernel(kernel)
    check_tensor(y, "y", dims="N C H W", dtype="float", nonempty=True)
    if kernel.shape[0] > y.shape[-2] or kernel.shape[1] > y.shape[-1]:
        raise ValueError(f"kernel {tuple(kernel.shape)} must not be larger than the images {tuple(y.shape[-2:])}")
    return kernel.detach().cpu().double().numpy()


def wiener_deconv(y: torch.Tensor, kernel: torch.Tensor, *, balance: float = 0.01) -> torch.Tensor:
    """Wiener deconvolution with the true kernel (``skimage.restoration.wiener``); ``balance`` trades
    sharpness against noise amplification. Tensor[N, C, H, W] → Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    from skimage.restoration import wiener

    check_number(balance, "balance", low=0.0, low_open=True, unit="e.g. 0.01")
    psf, pad = _psf(kernel, y), 2 * kernel.shape[0]
    return _each(y, lambda a: _padded(a, pad, lambda c: wiener(c, psf, balance, clip=False)))


def unsupervised_wiener_deconv(y: torch.Tensor, kernel: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
    """Wiener deconvolution whose regularisation is estimated by sampling (``unsupervised_wiener``).

    Lecture: 06_restoration
    """
    from skimage.restoration import unsupervised_wiener

    psf, pad = _psf(kernel, y), 2 * kernel.shape[0]
    return _each(y, lambda a: _padded(a, pad, lambda c: unsupervised_wiener(c, psf, clip=False, rng=seed)[0]))


def richardson_lucy_deconv(y: torch.Tensor, kernel: torch.Tensor, *, num_iter: int = 30) -> torch.Tensor:
    """Richardson–Lucy deconvolution with the true kernel (``skimage.restoration.richardson_lucy``).

    Lecture: 06_restoration
    """
    from skimage.restoration import richardson_lucy

    check_positive_int(num_iter, "num_iter")
    psf, pad = _psf(kernel, y), 2 * kernel.shape[0]
    return _each(y.clamp(0, 1), lambda a: _padded(a, pad, lambda c: richardson_lucy(c, psf, num_iter=num_iter,
                                                                                     clip=False)))


def biharmonic_inpaint(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill the masked pixels by solving the biharmonic equation (``skimage.restoration.inpaint_biharmonic``).

    ``y``: Tensor[N, C, H, W]; ``mask``: Tensor[N, 1, H, W] in {0, 1} (1 = missing).

    Lecture: 06_restoration
    """
    from skimage.restoration import inpaint_biharmonic

    check_tensor(y, "y", dims="N C H W", dtype="float", nonempty=True)
    check_tensor(mask, "mask", dims="N 1 H W", shape=(y.shape[0], 1, *y.shape[-2:]), min_value=0.0,
                 max_value=1.0)
    full = (mask.flatten(1) > 0.5).all(1).nonzero().flatten().tolist()
    if full:
        raise ValueError(f"mask marks every pixel missing in image(s) {full[:5]}: nothing to inpaint from")
    masks = iter(mask.detach().cpu().numpy()[:, 0] > 0.5)
    return _each(y, lambda a: inpaint_biharmonic(a, next(masks), channel_axis=_channel_axis(a)))


def median_denoise(y: torch.Tensor, *, size: int = 5) -> torch.Tensor:
    """A ``size × size`` median filter per channel (``scipy.ndimage.median_filter``). Lecture: 06_restoration"""
    from scipy.ndimage import median_filter

    check_positive_int(size, "size")
    return _each(y, lambda a: median_filter(a, size=(size, size) if a.ndim == 2 else (size, size, 1)))
