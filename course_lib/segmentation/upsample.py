"""In-network upsampling: a transposed convolution initialised to bilinear interpolation.

A net with total stride ``s`` outputs one score vector per ``s × s`` block of pixels. FCN brings the scores back
to pixels *inside* the network, with a transposed ("backwards strided", "deconvolution") convolution of kernel
``2f`` and stride ``f``, so that the upsampling can be learned end to end. It starts as bilinear interpolation:

.. math::

    \\text{factor} = \\lfloor (k + 1) / 2 \\rfloor, \\quad
    c = \\begin{cases} \\text{factor} - 1 & k \\text{ odd} \\\\ \\text{factor} - 0.5 & k \\text{ even} \\end{cases},
    \\quad w_{ij} = \\Big(1 - \\frac{|i - c|}{\\text{factor}}\\Big)\\Big(1 - \\frac{|j - c|}{\\text{factor}}\\Big)

and the kernel acts per class only (channel ``c`` in → channel ``c`` out; off-diagonal filters are zero). For
``k = 4`` (``f = 2``) the 1-D weights are ``[0.25, 0.75, 0.75, 0.25]``: each output pixel sits a quarter or
three quarters of the way between two inputs.

Alignment. With a kernel of ``2f``, stride ``f`` and no padding, input pixel ``i`` lands on output coordinate
``f·i + f − 0.5``, and the output has ``f·(n + 1)`` pixels for ``n`` inputs. If the coarse map's pixel ``i`` is
centred on input pixel ``s·i + (s − 1)/2`` (true for "same"-padded 3×3 convs and 2×2 pools), cropping
``f/2`` pixels at the start puts every output pixel ``o`` on input pixel ``(s/f)·o + (s/f − 1)/2``: the finer
grid exactly. That offset plays the role of the original's ``Crop`` layer with its computed offsets (the course
needs no ``pad=100`` trick, see ``fcn.py``). ``nn.ConvTranspose2d(padding=f // 2)`` would crop the same pixels;
we crop explicitly so that the step is visible.

Reference: J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic Segmentation",
CVPR 2015, section 3.3; ``surgery.upsample_filt`` in https://github.com/shelhamer/fcn.berkeleyvision.org.

Lecture: 04_segmentation
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.core import check_model_input, check_positive_int, check_tensor


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weights for a ``ConvTranspose2d(channels, channels, kernel_size, stride=kernel_size // 2)`` that does
    per-channel bilinear interpolation, exactly the original FCN initialisation.

    Parameters
    ----------
    channels : int
        Number of channels (classes) C; channel c only feeds channel c.
    kernel_size : int
        k ≥ 1; the upsampling factor is ``(k + 1) // 2`` (``k = 2f`` for a factor ``f``).

    Returns
    -------
    Tensor[C, C, k, k], float32
        ``weight[c, c]`` is the 2-D bilinear filter, every other ``weight[c, d]`` is zero.

    Examples
    --------
    >>> bilinear_kernel(1, 4)[0, 0, 0]
    tensor([0.0625, 0.1875, 0.1875, 0.0625])

    Lecture: 04_segmentation
    """
    check_positive_int(channels, "channels")
    check_positive_int(kernel_size, "kernel_size")
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float64)
    filt_1d = 1 - (og - center).abs() / factor  # (k,)
    filt = filt_1d[:, None] * filt_1d[None, :]  # (k, k): separable, the outer product of two tents
    weight = torch.zeros(channels, channels, kernel_size, kernel_size, dtype=torch.float64)
    weight[range(channels), range(channels)] = filt  # per class only: (C, C, k, k), zero off the diagonal
    return weight.float()


def bilinear_kernel_loop(channels: int, kernel_size: int) -> torch.Tensor:
    """The slow, obviously correct version of :func:`bilinear_kernel`: the formula, one weight at a time.

    Lecture: 04_segmentation
    """
    check_positive_int(channels, "channels")
    check_positive_int(kernel_size, "kernel_size")
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    for c in range(channels):
        for i in range(kernel_size):
            for j in range(kernel_size):
                weight[c, c, i, j] = (1 - abs(i - center) / factor) * (1 - abs(j - center) / factor)
    return weight


def crop_like(x: torch.Tensor, ref_hw: tuple[int, int], offset: int) -> torch.Tensor:
    """Crop ``x`` (B, C, H', W') to ``ref_hw = (H, W)`` starting ``offset`` pixels in: ``x[..., o:o+H, o:o+W]``.

    The original FCN's ``Crop`` layer; raises a ``ValueError`` when ``x`` is too small.

    Lecture: 04_segmentation
    """
    check_tensor(x, "x", dims="B C H W")
    H, W = ref_hw
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"offset must be an int ≥ 0, but found {offset!r}")
    if not all(isinstance(n, int) and n >= 1 for n in (H, W)):
        raise ValueError(f"ref_hw must be two ints ≥ 1, but found {ref_hw!r}")
    if x.shape[-2] < offset + H or x.shape[-1] < offset + W:
        raise ValueError(f"cannot crop {tuple(x.shape[-2:])} to {(H, W)} at offset {offset}: input too small")
    return x[..., offset:offset + H, offset:offset + W]  # (B, C, H, W)


class Upsample(nn.Module):
    """Upsample score maps by an integer factor ``f`` with a bilinear-initialised transposed convolution.

    ``ConvTranspose2d(C, C, kernel_size=2f, stride=f, bias=False)`` followed by a crop of ``f // 2`` pixels at
    the start (see the module docstring for why that aligns the grids), so that an (h, w) map becomes exactly
    (f·h, f·w). ``learnable=False`` freezes the weights (the original freezes the final upsampling).

    Parameters
    ----------
    channels : int
        C, the number of score channels (classes).
    factor : int
        f ≥ 1.
    learnable : bool
        Whether the kernel is trained.

    Lecture: 04_segmentation
    """

    def __init__(self, channels: int, factor: int, *, learnable: bool = True):
        super().__init__()
        check_positive_int(channels, "channels")
        check_positive_int(factor, "factor")
        self.channels, self.factor, self.learnable = channels, factor, learnable
        self.deconv = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, bias=False)
        with torch.no_grad():
            self.deconv.weight.copy_(bilinear_kernel(channels, 2 * factor))
        self.deconv.weight.requires_grad_(learnable)

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """Tensor[B, C, h, w] → Tensor[B, C, H, W] with (H, W) = ``size`` (default (f·h, f·w)), ``size`` ≤ f·(h, w).

        Lecture: 04_segmentation
        """
        B, C, h, w = check_model_input(x, "x", self, dims="B C H W", shape=(None, self.channels, None, None)).shape
        f = self.factor
        up = self.deconv(x)  # (B, C, f·(h + 1), f·(w + 1))
        return crop_like(up, size or (f * h, f * w), f // 2)  # (B, C, H, W)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, factor={self.factor}, learnable={self.learnable}"
