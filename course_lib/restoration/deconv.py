"""Non-blind deblurring as Schuler et al. do it: a classical deconvolution with the true kernel, then a net that
removes what it leaves behind (Schuler, Burger, Harmeling, Schölkopf, "A machine learning approach for non-blind
image deconvolution", CVPR 2013).

A deconvolution given the kernel k recovers the lost frequencies that survive the noise, and leaves two kinds of
artefact: amplified, coloured noise and ringing around edges. Both depend on k and on the image in ways a
learned denoiser can model. Schuler et al. deconvolve directly (a regularised inverse filter) and train an MLP
on patches of the result; the net then has exactly the information the classical method has (the blurred image
and the true kernel), so the comparison with Richardson–Lucy is fair. (A *blind* net, ``nets.RestorationNet``
on the blurred image alone, must also guess the kernel: a harder, separate problem.)

    x₀ = clip(RL(y, k; T iterations), 0, 1)       x̂ = x₀ + g(x₀)

Deviations: the course deconvolves with Richardson–Lucy (:func:`richardson_lucy`, torch, batched over images
with one kernel each) rather than a regularised inverse filter, and refines with the course's residual dilated
ConvNet (``RestorationNet``) rather than an MLP; one net is trained for all the motion and defocus kernels of
``recipes.random_kernel`` rather than one per kernel. Its last layer starts at zero, so before training it
returns RL's own result: training only has to learn a correction.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_positive_int, check_tensor

from .corruptions import check_kernel
from .nets import RestorationNet, receptive_field

MAX_KERNEL = 17  # side of the largest training kernel (motion length 15); kernels are zero-padded to a common side


def pad_kernel(kernel: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad an odd ``k × k`` kernel to ``size × size`` around its centre (blurring with it is unchanged).

    Lecture: 06_restoration
    """
    check_kernel(kernel)
    k = kernel.shape[-1]
    if size < k or size % 2 == 0:
        raise ValueError(f"size must be odd and ≥ the kernel side {k}, but found {size}")
    p = (size - k) // 2
    return F.pad(kernel, (p, p, p, p))


def stack_kernels(kernels) -> torch.Tensor:
    """One kernel per image: a list of odd kernels (any sizes) → Tensor[N, k, k], zero-padded to the largest.

    Lecture: 06_restoration
    """
    kernels = list(kernels)
    if not kernels:
        raise ValueError("kernels must hold at least one kernel")
    size = max(int(k.shape[-1]) for k in kernels)
    return torch.stack([pad_kernel(k, size) for k in kernels])


def _conv_each(x: torch.Tensor, kernels: torch.Tensor, padding: str) -> torch.Tensor:
    """k_n ⊛ x_n for each image n (a true convolution): x Tensor[N, C, H, W], kernels Tensor[N, k, k]."""
    N, C, H, W = x.shape
    k = kernels.shape[-1]
    w = kernels.flip(-2, -1)[:, None].repeat_interleave(C, dim=0)  # (N·C, 1, k, k): one depthwise filter per plane
    xp = x.reshape(1, N * C, H, W)  # (1, N·C, H, W): planes as groups
    r = k // 2
    xp = F.pad(xp, (r, r, r, r), mode="constant" if padding == "zeros" else padding)  # (1, N·C, H + 2r, W + 2r)
    return F.conv2d(xp, w, groups=N * C).reshape(N, C, H, W)


def richardson_lucy(y: torch.Tensor, kernels: torch.Tensor, *, num_iter: int = 30,
                    padding: str = "reflect") -> torch.Tensor:
    """Richardson–Lucy deconvolution, one kernel per image, from x₀ = 0.5:

        x_{t+1} = x_t · (k̃ ⊛ (y / (k ⊛ x_t + ε))),   k̃ the kernel flipped, ε = 1e-12 (as scikit-image).

    Parameters
    ----------
    y : Tensor[N, C, H, W]
        Blurred images, ≥ 0 (clip noisy ones to [0, 1] first).
    kernels : Tensor[N, k, k] or Tensor[k, k]
        The true kernel of each image (odd side, ≥ 0, sums to 1), or one for all.
    num_iter : int
        Iterations T.
    padding : {"reflect", "replicate", "zeros"}
        How every convolution extends the border; ``"zeros"`` is scikit-image's (a test compares the two).

    Returns Tensor[N, C, H, W], not clipped.

    Lecture: 06_restoration
    """
    check_tensor(y, "y", dims="N C H W", dtype="float", finite=True, min_value=0.0)
    check_positive_int(num_iter, "num_iter")
    if padding not in ("reflect", "replicate", "zeros"):
        raise ValueError(f"padding must be one of ('reflect', 'replicate', 'zeros'), but found {padding!r}")
    N = y.shape[0]
    if kernels.dim() == 2:
        kernels = check_kernel(kernels)[None].expand(N, -1, -1)  # (N, k, k)
    check_tensor(kernels, "kernels", dims="N k k", shape=(N, None, None), dtype="float", min_value=0.0)
    if kernels.shape[-1] != kernels.shape[-2] or kernels.shape[-1] % 2 == 0:
        raise ValueError(f"kernels must be square with an odd side, but found {tuple(kernels.shape)}")
    kernels = kernels.to(y.device, y.dtype)
    x = torch.full_like(y, 0.5)
    for _ in range(num_iter):
        ratio = y / (_conv_each(x, kernels, padding) + 1e-12)  # (N, C, H, W)
        x = x * _conv_each(ratio, kernels.flip(-2, -1), padding)
    return x


class NonBlindDeblur(nn.Module):
    """x̂ = x₀ + g(x₀) with x₀ = RL(y, k; ``num_iter``): a ``RestorationNet`` refining Richardson–Lucy.

    Parameters
    ----------
    channels : int
        Image channels.
    depth, width : int
        Of the refining ``RestorationNet`` (dilated 3 × 3 layers).
    num_iter : int
        Richardson–Lucy iterations before the net.

    ``forward(y, kernels)``: y Tensor[N, C, H, W] blurred and noisy (clipped to [0, 1] before deconvolving),
    kernels Tensor[N, k, k] (one true kernel per image, odd side ≤ ``MAX_KERNEL``) or Tensor[k, k] →
    Tensor[N, C, H, W], not clipped. ``deconvolve(y, kernels)`` returns x₀ alone (clipped to [0, 1]).

    Lecture: 06_restoration
    """

    def __init__(self, *, channels: int = 1, depth: int = 8, width: int = 32, num_iter: int = 30):
        super().__init__()
        self.num_iter = check_positive_int(num_iter, "num_iter")
        self.net = RestorationNet(channels=channels, depth=depth, width=width)
        self.channels, self.depth, self.width = channels, depth, width

    def deconvolve(self, y: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """x₀ = clip(RL(clip(y), k)) in [0, 1], without gradients (it has no parameters): Tensor[N, C, H, W].
        Clipped as the classical baseline's output is: RL overshoots near edges (values up to ~7 were seen)."""
        with torch.no_grad():
            return richardson_lucy(y.clamp(0, 1), kernels, num_iter=self.num_iter).clamp(0, 1)

    def forward(self, y: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        return self.net(self.deconvolve(y, kernels))

    def reach(self, kernel_size: int = MAX_KERNEL) -> int:
        """Receptive radius in pixels: each RL iteration convolves twice with a kernel of radius ⌊k/2⌋, then the
        net's dilated layers (used by ``tiling.margin_of``)."""
        return 2 * self.num_iter * (kernel_size // 2) + (receptive_field(self.depth) - 1) // 2

    def extra_repr(self) -> str:
        return f"channels={self.channels}, num_iter={self.num_iter}"
