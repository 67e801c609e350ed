"""Corruptions for lecture 06, part 3: a photo taken through a window covered with dirt or rain.

Eigen, Krishnan, Fergus, "Restoring An Image Taken Through a Window Covered with Dirt or Rain" (ICCV 2013)
model the corrupted image as a blend of the scene and a layer on the glass,

    y = (1 − α) · x + α · layer,

with α(p) ∈ [0, 1] the opacity of the glass at pixel p. Unlike inpainting, nobody tells the method where α > 0:
the net must find the dirt or drops and undo them. The paper made its training data by photographing real
dirt and rain on glass; we synthesise both (deviation: no refraction through drops, which the paper's real
data have):

* ``dirt_layer``: soft opaque blobs: Gaussian spots of random size and opacity in brownish-grey colours;
* ``rain_layer``: thin bright streaks at a slant (falling rain) and small soft drops.

Each returns ``(alpha Tensor[N, 1, H, W], layer Tensor[N, C, H, W])``, deterministic given a generator;
``composite`` applies the formula and ``window_corrupt`` does both.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch

from course_lib.core import check_choice, check_memory, check_number, check_positive_int, check_tensor

from .corruptions import check_images
from .masks import check_shape


def _check_layer(shape, density, per_10k: float) -> tuple[int, int, int, int]:
    """Shape (N, C, H, W) and density > 0 of a window layer; a memory guard on its (N, K, H, W) blobs."""
    N, C, H, W = check_shape(shape)
    density = check_number(density, "density", low=0.0, low_open=True, unit="1 = the default amount")
    K = max(1, round(per_10k * density * H * W / 1e4))
    check_memory(4.0 * N * K * H * W, f"a window layer of density {density:g} ({K} blobs per image)",
                 "use a density of a few units at most")
    return N, C, H, W

KINDS = ("dirt", "rain")


def _uniform(g, n: int, k: int, lo: float, hi: float) -> torch.Tensor:
    gen_device = g.device if g is not None else "cpu"
    return lo + (hi - lo) * torch.rand(n, k, generator=g, device=gen_device).cpu()  # (n, k)


def _grid(H: int, W: int) -> tuple[torch.Tensor, torch.Tensor]:
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32),
                            indexing="ij")
    return xs, ys  # (H, W) each


def _segment_distance(xs, ys, x0, y0, x1, y1) -> torch.Tensor:
    """Distance of every pixel to K segments per image: (H, W) grids, (N, K) ends → (N, K, H, W)."""
    ax, ay = x0[..., None, None], y0[..., None, None]  # (N, K, 1, 1)
    dx, dy = (x1 - x0)[..., None, None], (y1 - y0)[..., None, None]
    t = (((xs - ax) * dx + (ys - ay) * dy) / (dx * dx + dy * dy).clamp_min(1e-9)).clamp(0, 1)  # (N, K, H, W)
    return torch.hypot(xs - (ax + t * dx), ys - (ay + t * dy))


def _combine(alphas: torch.Tensor) -> torch.Tensor:
    """Opacity of K overlapping layers: 1 − Π(1 − α_k). (N, K, H, W) → (N, 1, H, W)."""
    return 1 - torch.prod(1 - alphas, dim=1, keepdim=True)


def dirt_layer(shape, *, density: float = 1.0, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Dirt: about ``12·density`` soft blobs per 100 × 100 pixels, radius 1.5-7 px, peak opacity 0.5-0.95,
    brownish grey. Returns ``(alpha Tensor[N, 1, H, W], layer Tensor[N, 3, H, W])``; use layer[:, :1] for grey.

    Lecture: 06_restoration
    """
    N, _, H, W = _check_layer(shape, density, 12)
    K = max(1, round(12 * density * H * W / 1e4))
    cx, cy = _uniform(generator, N, K, 0, W - 1), _uniform(generator, N, K, 0, H - 1)
    r = _uniform(generator, N, K, 1.5, 7.0)
    peak = _uniform(generator, N, K, 0.5, 0.95)
    shade = _uniform(generator, N, K, 0.15, 0.45)  # brightness of each blob
    xs, ys = _grid(H, W)
    d2 = (xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2  # (N, K, H, W)
    a = peak[..., None, None] * torch.exp(-d2 / (2 * r[..., None, None] ** 2))  # soft blob opacities
    alpha = _combine(a)
    # colour of the dirt at each pixel: opacity-weighted mean of the blobs' shades, tinted brown
    colour = (a * shade[..., None, None]).sum(1, keepdim=True) / a.sum(1, keepdim=True).clamp_min(1e-6)
    tint = torch.tensor([1.0, 0.85, 0.65]).view(1, 3, 1, 1)
    return alpha.to(device), (colour * tint).clamp(0, 1).to(device)


def rain_layer(shape, *, density: float = 1.0, angle: float = 80.0, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Rain: about ``25·density`` streaks per 100 × 100 pixels (length 6-18 px, width ~1 px, slanted ``angle``
    ± 10 degrees from the x axis, opacity 0.3-0.7) and ``6·density`` soft drops (radius 1.5-4 px, opacity
    0.4-0.8); the layer is a bright grey-white. Returns ``(alpha Tensor[N, 1, H, W], layer Tensor[N, 3, H, W])``.

    Lecture: 06_restoration
    """
    N, _, H, W = _check_layer(shape, density, 25)
    angle = check_number(angle, "angle", unit="degrees from the x axis")
    xs, ys = _grid(H, W)
    K = max(1, round(25 * density * H * W / 1e4))
    cx, cy = _uniform(generator, N, K, 0, W - 1), _uniform(generator, N, K, 0, H - 1)
    length = _uniform(generator, N, K, 6, 18)
    theta = torch.deg2rad(angle + _uniform(generator, N, K, -10, 10))
    op = _uniform(generator, N, K, 0.3, 0.7)
    hx, hy = 0.5 * length * torch.cos(theta), 0.5 * length * torch.sin(theta)
    d = _segment_distance(xs, ys, cx - hx, cy - hy, cx + hx, cy + hy)  # (N, K, H, W)
    streaks = op[..., None, None] * torch.exp(-0.5 * (d / 0.6) ** 2)
    D = max(1, round(6 * density * H * W / 1e4))
    dx, dy = _uniform(generator, N, D, 0, W - 1), _uniform(generator, N, D, 0, H - 1)
    r = _uniform(generator, N, D, 1.5, 4.0)
    dop = _uniform(generator, N, D, 0.4, 0.8)
    dd = torch.hypot(xs - dx[..., None, None], ys - dy[..., None, None])  # (N, D, H, W)
    drops = dop[..., None, None] * torch.sigmoid(3 * (r[..., None, None] - dd))  # soft-edged discs
    alpha = _combine(torch.cat([streaks, drops], dim=1))
    layer = torch.full((N, 3, H, W), 0.9)
    return alpha.to(device), layer.to(device)


def composite(x: torch.Tensor, alpha: torch.Tensor, layer: torch.Tensor) -> torch.Tensor:
    """y = (1 − α)·x + α·layer. ``x``: Tensor[N, C, H, W] in [0, 1]; ``alpha``: Tensor[N, 1, H, W] in [0, 1];
    ``layer``: Tensor[N, C or 1 or 3, H, W] in [0, 1] (a 3-channel layer is reduced to its first channel for grey x,
    a 1-channel layer is shared by the channels).

    Lecture: 06_restoration
    """
    check_images(x)
    N, C, H, W = x.shape
    check_tensor(alpha, "alpha", dims="N 1 H W", shape=(N, 1, H, W), dtype="float", min_value=0.0, max_value=1.0)
    check_tensor(layer, "layer", dims="N C H W", dtype="float", min_value=0.0, max_value=1.0)
    if layer.shape[0] != N or layer.shape[2:] != x.shape[2:] or layer.shape[1] not in (1, C, 3):
        raise ValueError(f"layer must be (N, C, H, W) = {(N, C, H, W)} (or with 1 or 3 channels); got "
                         f"{tuple(layer.shape)}")
    if layer.shape[1] != C:
        layer = layer[:, :C] if layer.shape[1] > C else layer.expand(N, C, H, W)
    return (1 - alpha) * x + alpha * layer


def window_corrupt(x: torch.Tensor, kind: str, *, density: float = 1.0,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Dirt or rain on the window in front of ``x`` (Tensor[N, C, H, W] in [0, 1]): returns
    ``(y Tensor[N, C, H, W], alpha Tensor[N, 1, H, W])``.

    Lecture: 06_restoration
    """
    check_images(x)
    check_choice(kind, "kind", KINDS)
    make = dirt_layer if kind == "dirt" else rain_layer
    alpha, layer = make(tuple(x.shape), density=density, generator=generator, device=x.device)
    return composite(x, alpha, layer.to(x.dtype)), alpha


def mixed_window_corrupt(x: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training corruption of the window net: per image, dirt or rain (a coin flip), density 0.5-1.5.
    Tensor[N, C, H, W] → Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    check_images(x)
    N = check_positive_int(x.shape[0], "N")
    gen_device = generator.device if generator is not None else "cpu"
    u = torch.rand(N, 2, generator=generator, device=gen_device).cpu()  # (N, 2): kind and density
    out = []
    for n in range(N):
        kind = KINDS[int(u[n, 0] < 0.5)]
        out.append(window_corrupt(x[n:n + 1], kind, density=0.5 + float(u[n, 1]), generator=generator)[0])
    return torch.cat(out)
