"""Corruptions for lecture 06, part 2: missing pixels (masks) and overlaid text.

Inpainting fills in pixels we know to be missing. Xie et al. (NIPS 2012) and Köhler et al. ("Mask-specific
inpainting with deep neural networks", GCPR 2014) remove text printed over a photo, the slides' example; the
mask is known (Köhler's net is told where the text is). Three kinds of mask, each Tensor[N, 1, H, W] float
with 1 = missing, 0 = known:

* ``random_pixel_mask``: each pixel missing independently with probability ``fraction``;
* ``stroke_mask``: random thick polylines, like scribbles;
* ``text_mask``: lines of text rendered with the DejaVu Sans font that ships inside matplotlib (nothing is
  downloaded), at a random offset per image.

``apply_mask`` writes a value (white text, or 0) into the missing pixels: y = (1 − m)·x + m·value.

Every function is deterministic given a ``torch.Generator`` and works on any device.

Lecture: 06_restoration
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from course_lib.core import check_number, check_positive_int, check_tensor

from .corruptions import check_images

# Public-domain text in the spirit of the slides' example (a star atlas printed over a photograph).
TEXT = ("Sirius and Procyon form a nearly equilateral triangle with Betelgeuze. These stars have been known "
        "since earliest times; Sirius is the brightest star in the sky and among the nearest to the earth, its "
        "distance being 8.7 light years. At this distance the Sun would appear as a star a little brighter than "
        "the Pole Star. Argo Navis is situated east of Canis Major, and the star Naos lies in its rowlock. ")


def check_shape(shape) -> tuple[int, int, int, int]:
    if not (isinstance(shape, (tuple, list, torch.Size)) and len(shape) == 4):
        raise ValueError(f"shape must be (N, C, H, W), but found {shape!r}")
    for v, n in zip(shape, "NCHW"):
        check_positive_int(int(v) if isinstance(v, (int, np.integer)) else v, f"shape[{n}]")
    return tuple(int(v) for v in shape)


def _check_fraction(fraction: float) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be a number in [0, 1], but found {fraction!r}")
    return float(fraction)


def random_pixel_mask(shape, fraction: float, *, generator: torch.Generator | None = None,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """Each pixel missing with probability ``fraction``: Tensor[N, 1, H, W] float in {0, 1} (1 = missing).

    ``shape`` is the images' (N, C, H, W); the mask is shared by the channels.

    Lecture: 06_restoration
    """
    N, _, H, W = check_shape(shape)
    fraction = _check_fraction(fraction)
    gen_device = generator.device if generator is not None else "cpu"
    u = torch.rand(N, 1, H, W, generator=generator, device=gen_device)
    return (u < fraction).float().to(device)


def stroke_mask(shape, *, strokes: int = 4, width: float = 5.0, vertices: int = 4,
                generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Random thick polylines: ``strokes`` per image, each of ``vertices`` random points joined by segments of
    thickness ``width`` pixels. Tensor[N, 1, H, W] float in {0, 1}.

    Lecture: 06_restoration
    """
    N, _, H, W = check_shape(shape)
    check_positive_int(strokes, "strokes")
    if check_positive_int(vertices, "vertices") < 2:
        raise ValueError(f"vertices must be ≥ 2 (a segment needs two ends), but found {vertices}")
    check_number(width, "width", low=0.0, low_open=True, unit="pixels")
    gen_device = generator.device if generator is not None else "cpu"
    pts = torch.rand(N, strokes, vertices, 2, generator=generator, device=gen_device).cpu()  # (N, S, V, 2)
    pts = pts * torch.tensor([W - 1, H - 1], dtype=pts.dtype)  # (x, y) in pixels
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32),
                            indexing="ij")
    p = torch.stack([xs, ys], dim=-1)  # (H, W, 2)
    dist = torch.full((N, H, W), math.inf)
    for s in range(strokes):
        for v in range(vertices - 1):
            a = pts[:, s, v][:, None, None, :]  # (N, 1, 1, 2)
            b = pts[:, s, v + 1][:, None, None, :]
            ab = b - a
            t = ((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-9)  # (N, H, W): projection on the line
            closest = a + t.clamp(0, 1)[..., None] * ab  # (N, H, W, 2)
            dist = torch.minimum(dist, (p - closest).norm(dim=-1))
    return (dist <= width / 2).float()[:, None].to(device)  # (N, 1, H, W)


@functools.lru_cache(maxsize=8)
def _font(size: int):
    import pathlib

    import matplotlib
    from PIL import ImageFont

    path = pathlib.Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size)


def render_text(height: int, width: int, *, text: str = TEXT, font_size: int = 14, offset: int = 0,
                line_spacing: float = 1.25, top: int = 0) -> torch.Tensor:
    """Lines of ``text`` rendered left to right, wrapped at the image width, filling the image from ``top``:
    Tensor[H, W] float in [0, 1] (the glyphs' antialiased coverage). ``offset`` starts the text at that
    character (so that different images get different words).

    Lecture: 06_restoration
    """
    from PIL import Image, ImageDraw

    check_positive_int(height, "height")
    check_positive_int(width, "width")
    check_positive_int(font_size, "font_size")
    check_number(line_spacing, "line_spacing", low=0.0, low_open=True, unit="lines, e.g. 1.25")
    if not isinstance(text, str) or not text.split():
        raise ValueError(f"text must be a str with at least one word, but found {text!r}")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"offset must be an int (a character index), but found {type(offset).__name__}")
    font = _font(font_size)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    words = (text[offset % len(text):] + text).split()
    y, line, i = top, "", 0
    step = int(round(font_size * line_spacing))
    while y < height and i < 10_000:
        word = words[i % len(words)]
        trial = (line + " " + word).strip()
        if draw.textlength(trial, font=font) > width - 4 and line:
            draw.text((2, y), line, fill=255, font=font)
            y, line = y + step, word
        else:
            line = trial
        i += 1
    return torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0)


def text_mask(shape, *, font_size: int = 14, threshold: float = 0.25, generator: torch.Generator | None = None,
              device: torch.device | str = "cpu") -> torch.Tensor:
    """Overlaid text as a mask: ``render_text`` at a random character offset and vertical shift per image,
    thresholded at ``threshold`` coverage. Tensor[N, 1, H, W] float in {0, 1}.

    Lecture: 06_restoration
    """
    N, _, H, W = check_shape(shape)
    check_positive_int(font_size, "font_size")
    check_number(threshold, "threshold", low=0.0, high=1.0, low_open=True, unit="glyph coverage")
    gen_device = generator.device if generator is not None else "cpu"
    r = torch.randint(0, 1 << 30, (N, 2), generator=generator, device=gen_device).cpu()
    masks = [render_text(H, W, font_size=font_size, offset=int(r[n, 0]), top=int(r[n, 1]) % font_size)
             for n in range(N)]
    return (torch.stack(masks)[:, None] >= threshold).float().to(device)  # (N, 1, H, W)


def apply_mask(x: torch.Tensor, mask: torch.Tensor, *, value: float = 1.0) -> torch.Tensor:
    """y = (1 − m)·x + m·value: missing pixels set to ``value`` (1.0 = white text, 0.0 = black holes).

    ``x``: Tensor[N, C, H, W] in [0, 1]; ``mask``: Tensor[N, 1, H, W] in [0, 1] (1 = missing); ``value`` in
    [0, 1] (the result is an image in [0, 1]).

    Lecture: 06_restoration
    """
    check_images(x)
    value = check_number(value, "value", low=0.0, high=1.0, unit="the brightness written into missing pixels")
    check_tensor(mask, "mask", dims="N 1 H W", shape=(x.shape[0], 1, *x.shape[-2:]), dtype="float",
                 min_value=0.0, max_value=1.0)
    return (1 - mask) * x + mask * value
