"""Small helpers about ``nn.Module`` objects that every topic uses: parameter counts, the float16 round trip
that a half-precision checkpoint applies, and the convolution + ReLU block that several nets stack.

Lecture: 00_welcome
"""

from __future__ import annotations

import torch
from torch import nn


def num_params(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model``: all of them, or only those that require gradients.

    >>> num_params(nn.Linear(3, 2))
    8
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, but found {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def conv_relu(c_in: int, c_out: int, k: int) -> nn.Sequential:
    """A ``k × k`` convolution (padding keeps the size) followed by ReLU: Tensor[B, c_in, H, W] → [B, c_out, H, W].

    >>> conv_relu(3, 8, 5)(torch.zeros(1, 3, 6, 6)).shape
    torch.Size([1, 8, 6, 6])
    """
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU(inplace=True))


@torch.no_grad()
def round_to_half(model: nn.Module) -> nn.Module:
    """Round floating weights and buffers through float16 in place, as ``save_checkpoint(..., half=True)``
    stores them, so that the metrics recorded in a checkpoint are those of the weights it holds. Returns ``model``.

    >>> m = nn.Linear(1, 1); _ = m.weight.data.fill_(0.1); float(round_to_half(m).weight.detach())
    0.0999755859375
    """
    for v in model.state_dict().values():
        if v.is_floating_point():
            v.copy_(v.half().to(v.dtype))
    return model
