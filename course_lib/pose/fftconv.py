"""FFT convolution: the spatial model's 128 x 128 kernels made affordable (Mathieu, Henaff & LeCun, 2013).

Tompson et al. (NIPS 2014) learn one conditional kernel per pair of joints, as large as the heat map ("spatial
model kernel size is 128x128! -> have to use FFT", in the slides). A direct convolution costs H·W·kh·kw
multiply-adds per channel; through the Fourier transform it costs O(H·W·log(H·W)) whatever the kernel size,
because convolution becomes an element-wise product of spectra.

:func:`fft_conv2d` is a drop-in for ``torch.nn.functional.conv2d(x, weight, padding="same", groups=groups)``:
same cross-correlation orientation, same zero padding, and torch's convention for even kernels (one more row and
column of padding at the bottom and right). :func:`direct_conv2d` is the obviously-correct reference beside it,
and a test checks that the two agree. Deviations from the paper: none in the maths; we use real FFTs
(``torch.fft.rfft2``) and pad to a size made of small primes, which is what makes FFTs fast.

Lecture: 02_pose_spatial
"""

from __future__ import annotations

import scipy.fft
import torch
import torch.nn.functional as F

from course_lib.core import check_positive_int, check_tensor


def next_fast_len(n: int) -> int:
    """Smallest integer ≥ ``n`` whose only prime factors are 2, 3 and 5 (sizes FFT libraries handle fastest):
    ``scipy.fft.next_fast_len(n, real=True)``, which knows the sizes pocketfft (torch's CPU FFT) is fast at.

    >>> next_fast_len(191)
    192

    Lecture: 02_pose_spatial
    """
    check_positive_int(n, "n")
    return int(scipy.fft.next_fast_len(n, real=True))


def same_padding(kernel_size: int) -> tuple[int, int]:
    """``(before, after)`` zero padding of torch's ``padding="same"`` for one kernel dimension.

    Odd kernels pad symmetrically; even kernels pad one more after than before: a kernel of 4 taps pads (1, 2),
    so output pixel i reads inputs i - 1 .. i + 2.

    Lecture: 02_pose_spatial
    """
    before = (kernel_size - 1) // 2
    return before, kernel_size - 1 - before


def _check_conv_args(x: torch.Tensor, weight: torch.Tensor, groups: int) -> None:
    check_tensor(x, "x", dims="B C H W", dtype="float")
    check_tensor(weight, "weight", dims="C_out C_in/groups kh kw", dtype="float")
    check_positive_int(groups, "groups")
    C, C_out, C_g = x.shape[1], weight.shape[0], weight.shape[1]
    if C % groups or C_out % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({C}) and output channels ({C_out})")
    if C_g * groups != C:
        raise ValueError(f"weight must have C_in/groups = {C // groups} input channels; got {C_g}")


def direct_conv2d(x: torch.Tensor, weight: torch.Tensor, *, groups: int = 1) -> torch.Tensor:
    """The reference: ``F.conv2d(x, weight, padding="same", groups=groups)``, spelled out as explicit padding.

    Parameters
    ----------
    x : Tensor[B, C, H, W]
        Input maps, any float dtype.
    weight : Tensor[C_out, C / groups, kh, kw]
        Filters (cross-correlation, as ``conv2d``); kh and kw may be odd or even.
    groups : int
        As ``conv2d``: ``groups = C = C_out`` is a depthwise convolution (one kernel per channel).

    Returns
    -------
    Tensor[B, C_out, H, W]

    Lecture: 02_pose_spatial
    """
    _check_conv_args(x, weight, groups)
    (top, bottom), (left, right) = same_padding(weight.shape[-2]), same_padding(weight.shape[-1])
    x = F.pad(x, (left, right, top, bottom))  # (B, C, H + kh - 1, W + kw - 1)
    return F.conv2d(x, weight, groups=groups)  # (B, C_out, H, W)


def fft_conv2d(x: torch.Tensor, weight: torch.Tensor, *, groups: int = 1) -> torch.Tensor:
    """``F.conv2d(x, weight, padding="same", groups=groups)`` computed with real FFTs.

    Cost is independent of the kernel size, so it wins for large kernels (the spatial model's kernels are as large
    as the heat map). The result equals the direct convolution within float rounding (about 1e-6 relative in
    float32, 1e-12 in float64).

    Parameters
    ----------
    x : Tensor[B, C, H, W]
        Input maps, float32 or float64.
    weight : Tensor[C_out, C / groups, kh, kw]
        Filters in ``conv2d``'s cross-correlation orientation; odd or even sizes, up to any size.
    groups : int
        Channel groups, as in ``conv2d``; ``groups = C`` with ``C_out = C`` is depthwise.

    Returns
    -------
    Tensor[B, C_out, H, W]
        Same dtype and device as ``x``.

    Examples
    --------
    >>> x, w = torch.randn(2, 3, 16, 16), torch.randn(3, 1, 8, 8)
    >>> torch.testing.assert_close(fft_conv2d(x, w, groups=3), F.conv2d(x, w, padding="same", groups=3),
    ...                            rtol=1e-4, atol=1e-4)

    Lecture: 02_pose_spatial
    """
    _check_conv_args(x, weight, groups)
    B, C, H, W = x.shape
    C_out, C_g, kh, kw = weight.shape
    top, left = same_padding(kh)[0], same_padding(kw)[0]
    # Linear (not circular) convolution needs at least H + kh - 1 samples per axis; round up to a fast size.
    Hf, Wf = next_fast_len(H + kh - 1), next_fast_len(W + kw - 1)
    # conv2d correlates: y[i] = sum_o x[i - top + o] w[o]. Flipping the kernel turns that into a convolution,
    # whose full result z[n] = sum_m x[m] w_flip[n - m] holds y[i] at n = i + kh - 1 - top.
    w_flip = torch.flip(weight, dims=(-2, -1))  # (C_out, C_g, kh, kw)
    X = torch.fft.rfft2(x, s=(Hf, Wf))  # (B, C, Hf, Wf // 2 + 1), complex
    K = torch.fft.rfft2(w_flip, s=(Hf, Wf))  # (C_out, C_g, Hf, Wf // 2 + 1)
    G, O = groups, C_out // groups
    X = X.reshape(B, G, C_g, Hf, -1)  # (B, G, C_g, Hf, Wr)
    K = K.reshape(G, O, C_g, Hf, -1)  # (G, O, C_g, Hf, Wr)
    Y = torch.einsum("bgcuv,gocuv->bgouv", X, K)  # (B, G, O, Hf, Wr): sum over the group's input channels
    Y = Y.reshape(B, C_out, Hf, -1)  # (B, C_out, Hf, Wr)
    z = torch.fft.irfft2(Y, s=(Hf, Wf))  # (B, C_out, Hf, Wf), real
    r0, c0 = kh - 1 - top, kw - 1 - left
    return z[..., r0:r0 + H, c0:c0 + W].contiguous()  # (B, C_out, H, W)
