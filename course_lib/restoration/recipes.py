"""What each net of lecture 06 trains on and is tested on: the corruption recipes, in one place.

Training corruptions are random per patch (a family the net must cover); evaluation corruptions are fixed
conditions (named below) applied to the held-out crops with a fixed generator, so that a checkpoint's
recorded metrics, the benchmark and the lecture all measure the same thing.

* deblur: a motion kernel (length 3-15 px, any angle) or a defocus disc (radius 1-4 px), then Gaussian noise of
  σ = ``BLUR_NOISE`` (0-255 units), clipped. Conditions ``motion`` (length 11, 30°) and ``defocus`` (radius 3).
* nonblind: the same blur and noise, and the net is given each image's true kernel (``deconv.NonBlindDeblur``):
  inputs ``(y, kernels)``. The same conditions, with the same evaluation noise as deblur.
* inpaint: overlaid white text (font 10-18 px), random strokes, or 30-70 % random missing pixels, the mask
  given. Conditions ``text`` (font 14, the slide's example) and ``pixels`` (50 % missing).
* window: dirt or rain at density 0.5-1.5 (``window.mixed_window_corrupt``). Conditions ``dirt`` and
  ``rain`` at density 1.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch

from course_lib.core import check_choice

from .corruptions import add_gaussian_noise, blur, defocus_kernel, motion_kernel
from .deconv import stack_kernels
from .masks import apply_mask, random_pixel_mask, stroke_mask, text_mask
from .window import mixed_window_corrupt, window_corrupt

BLUR_NOISE = 1.0  # σ of the noise after blurring, 0-255 units: a camera is never noise-free
CONDITIONS = {"deblur": ("motion", "defocus"), "nonblind": ("motion", "defocus"), "inpaint": ("text", "pixels"),
              "window": ("dirt", "rain")}
EVAL_KERNELS = {"motion": ("motion_kernel", dict(length=11, angle=30)), "defocus": ("defocus_kernel",
                                                                                    dict(radius=3))}
EVAL_SEED = 2026


def eval_kernel(condition: str) -> torch.Tensor:
    """The blur kernel of an evaluation condition (``"motion"`` or ``"defocus"``). Lecture: 06_restoration"""
    check_choice(condition, "condition", CONDITIONS["deblur"])
    name, kw = EVAL_KERNELS[condition]
    return motion_kernel(**kw) if name == "motion_kernel" else defocus_kernel(**kw)


def _u(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def random_kernel(g: torch.Generator) -> torch.Tensor:
    """One training blur kernel: motion (length 3-15, angle 0-180°) or defocus (radius 1-4), a coin flip."""
    if float(torch.rand((), generator=g)) < 0.5:
        return motion_kernel(_u(g, 3, 15), _u(g, 0, 180))
    return defocus_kernel(_u(g, 1, 4))


def corrupt_train(kind: str, x: torch.Tensor, g: torch.Generator):
    """The training corruption of ``kind`` in ``("deblur", "inpaint", "window")``: ``(inputs, target)`` where
    ``inputs`` is the model's argument (a tuple ``(y, mask)`` for inpainting). ``x``: Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    check_choice(kind, "kind", tuple(CONDITIONS))
    if kind in ("deblur", "nonblind"):
        kernels = [random_kernel(g) for _ in range(x.shape[0])]
        y = torch.cat([blur(x[n:n + 1], k) for n, k in enumerate(kernels)])
        y = add_gaussian_noise(y, BLUR_NOISE, generator=g).clamp(0, 1)
        if kind == "nonblind":
            return (y, stack_kernels(kernels).to(x.device)), x  # kernels: (N, k, k), the largest side
        return y, x
    if kind == "inpaint":
        r = float(torch.rand((), generator=g))
        if r < 0.4:
            m = text_mask(x.shape, font_size=int(_u(g, 10, 19)), generator=g)
        elif r < 0.7:
            m = stroke_mask(x.shape, strokes=2, width=_u(g, 2, 7), generator=g)
        else:
            m = random_pixel_mask(x.shape, _u(g, 0.3, 0.7), generator=g)
        m = m.to(x.device)
        return (apply_mask(x, m, value=1.0), m), x
    return mixed_window_corrupt(x, generator=g), x


def corrupt_eval(kind: str, condition: str, x: torch.Tensor):
    """The evaluation corruption: ``(inputs, shown)`` where ``shown`` is the corrupted image (what a viewer
    sees, Tensor[N, C, H, W]) and ``inputs`` the model's argument. Fixed by ``EVAL_SEED``.

    Lecture: 06_restoration
    """
    check_choice(kind, "kind", tuple(CONDITIONS))
    check_choice(condition, "condition", CONDITIONS[kind])
    g = torch.Generator().manual_seed(EVAL_SEED)
    if kind in ("deblur", "nonblind"):
        k = eval_kernel(condition)
        y = add_gaussian_noise(blur(x, k), BLUR_NOISE, generator=g).clamp(0, 1)
        if kind == "nonblind":
            return (y, k.to(x.device)[None].expand(x.shape[0], -1, -1)), y  # the true kernel for every image
        return y, y
    if kind == "inpaint":
        m = text_mask(x.shape, font_size=14, generator=g) if condition == "text" else random_pixel_mask(
            x.shape, 0.5, generator=g)
        m = m.to(x.device)
        y = apply_mask(x, m, value=1.0)
        return (y, m), y
    y, _ = window_corrupt(x, condition, density=1.0, generator=g)
    return y, y
