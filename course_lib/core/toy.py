"""A toy problem small enough to train in seconds on a laptop: is the bar in the image horizontal or vertical?

Used by lecture 00 to show the training loop (``fit``) before any real lecture needs it, and by the core tests.

Lecture: 00_welcome
"""

from __future__ import annotations

import torch

from .checks import check_positive_int


def bars(n: int, size: int = 16, *, seed: int = 0, noise: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``images`` (n, 1, size, size) float and ``labels`` (n,) int64: 0 = horizontal bar, 1 = vertical.

    Each image holds one bar of random position, length and thickness 1-2 pixels, plus Gaussian noise of
    standard deviation ``noise``. Deterministic in ``seed``.

    Lecture: 00_welcome
    """
    check_positive_int(n, "n")
    check_positive_int(size, "size")
    if size < 6:
        raise ValueError(f"size must be ≥ 6 to hold a bar, but found {size}")
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    images = torch.zeros(n, 1, size, size)
    for i in range(n):
        pos = int(torch.randint(1, size - 2, (1,), generator=g))
        start = int(torch.randint(0, size // 2, (1,), generator=g))
        length = int(torch.randint(size // 3, size - start + 1, (1,), generator=g))
        thick = int(torch.randint(1, 3, (1,), generator=g))
        if labels[i] == 0:
            images[i, 0, pos:pos + thick, start:start + length] = 1.0
        else:
            images[i, 0, start:start + length, pos:pos + thick] = 1.0
    images += noise * torch.randn(images.shape, generator=g)
    return images, labels
