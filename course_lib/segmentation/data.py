"""Synthetic scenes for semantic segmentation: textured objects of a few classes, with per-pixel labels.

PASCAL VOC is 2 GB and 21 classes; a lecture that must run in a minute on a laptop needs a stand-in that keeps
what makes segmentation hard for a ConvNet: the class of a pixel depends on *what* the object is (its shape and
texture, which only a large receptive field sees) and *where* its edges are (which only fine features see).

Each scene has a smooth random background (class 0) and 2-6 objects drawn back to front, so later objects
occlude earlier ones:

=========  =========================================  =================================
class      shape                                      texture
=========  =========================================  =================================
ball       disc, radius 9-30 % of the image           polka dots
box        rotated rectangle                          stripes
tent       triangle                                   checkerboard
pole       thin rotated bar, 2-4 px wide (thin part)  smooth gradient along the bar
=========  =========================================  =================================

Colours are random around a per-class hue, so colour alone is a weak cue; shape and texture decide. Every
object is rendered from a signed distance function (SDF, in pixels, negative inside) and anti-aliased: the
pixel's coverage is ``clip(0.5 - sdf, 0, 1)``. A pixel whose centre lies within half a pixel of the topmost
edge is *ambiguous* and labelled 255 (ignore), like the 5-pixel "void" band around every VOC object.

Train and test never share a layout: scene ``i`` of split ``s`` is drawn from the random stream
``numpy.random.SeedSequence([seed, SPLITS.index(s), i])``, and distinct (split, i) pairs give distinct streams.

Reference: M. Everingham et al., "The PASCAL Visual Object Classes Challenge", IJCV 2010 (the void band).

Lecture: 04_segmentation
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from course_lib.core import check_choice, check_positive_int, check_seed

CLASSES = ("background", "ball", "box", "tent", "pole")
SPLITS = ("train", "val", "test")
IGNORE_INDEX = 255

# Mean RGB colour of each class (the per-object colour is jittered around it).
_HUES = np.array([[0.5, 0.5, 0.5], [0.85, 0.35, 0.25], [0.25, 0.55, 0.85], [0.35, 0.75, 0.3], [0.85, 0.75, 0.2]],
                 dtype=np.float32)


def _sdf_convex(ys: np.ndarray, xs: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Signed distance (approximate outside the corners) to a convex polygon with counter-clockwise corners.

    ys, xs: (H, W) pixel-centre coordinates; corners: (N, 2) as (x, y). Returns (H, W), negative inside.
    """
    d = np.full(ys.shape, -np.inf, dtype=np.float32)
    n = len(corners)
    for k in range(n):
        (x0, y0), (x1, y1) = corners[k], corners[(k + 1) % n]
        ex, ey = x1 - x0, y1 - y0
        length = np.hypot(ex, ey)
        # Outward normal of a counter-clockwise edge (image y points down, so "counter-clockwise" on screen).
        nx, ny = ey / length, -ex / length
        d = np.maximum(d, (xs - x0) * nx + (ys - y0) * ny)
    return d


def _orient(corners: np.ndarray) -> np.ndarray:
    """Return the corners ordered so that :func:`_sdf_convex`'s normals point outwards."""
    x, y = corners[:, 0], corners[:, 1]
    area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    return corners if area > 0 else corners[::-1].copy()


def _rotated_rect(cx, cy, half_w, half_h, angle) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    local = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    return np.stack([cx + local[:, 0] * c - local[:, 1] * s, cy + local[:, 0] * s + local[:, 1] * c], axis=1)


def _texture(cls: int, ys, xs, rng: np.random.Generator, color: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) texture of one object of class ``cls``; scale in pixels grows with the image size."""
    scale = size / 64.0
    angle = rng.uniform(0, np.pi)
    u = xs * np.cos(angle) + ys * np.sin(angle)
    v = -xs * np.sin(angle) + ys * np.cos(angle)
    if cls == 1:  # ball: polka dots on a lattice
        period = rng.uniform(4.0, 6.0) * scale
        du = (u % period) - period / 2
        dv = (v % period) - period / 2
        pattern = (np.hypot(du, dv) < period * 0.28).astype(np.float32)
    elif cls == 2:  # box: stripes
        period = rng.uniform(3.0, 5.0) * scale
        pattern = ((u % period) < period / 2).astype(np.float32)
    elif cls == 3:  # tent: checkerboard
        period = rng.uniform(3.0, 5.0) * scale
        pattern = (((u // (period / 2)) + (v // (period / 2))) % 2).astype(np.float32)
    else:  # pole: smooth gradient
        pattern = (0.5 + 0.5 * np.sin(u / (6.0 * scale))).astype(np.float32)
    dark = color * 0.45
    return dark + (color - dark) * pattern[..., None]


def render_scene(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw one scene; return ``image`` (H, W, 3) float32 in [0, 1] and ``labels`` (H, W) uint8.

    ``labels`` holds class indices into :data:`CLASSES`, or 255 on ambiguous (anti-aliased) borders.

    Lecture: 04_segmentation
    """
    check_positive_int(size, "size")
    H = W = size
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5  # pixel centres, (H, W) each
    # Background: a smooth random field (sum of a few low-frequency sinusoids) in a random grey-ish colour.
    field = np.zeros((H, W), dtype=np.float32)
    for _ in range(3):
        fx, fy = rng.uniform(-3, 3, size=2) * 2 * np.pi / size
        field += np.sin(fx * xs + fy * ys + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    base = np.clip(_HUES[0] + rng.normal(0, 0.15, 3), 0.1, 0.9).astype(np.float32)
    image = np.clip(base + 0.08 * field[..., None], 0, 1)
    image = image + rng.normal(0, 0.02, (H, W, 3)).astype(np.float32)
    labels = np.zeros((H, W), dtype=np.uint8)
    ambiguous = np.zeros((H, W), dtype=bool)  # centre within half a pixel of a visible edge

    n_objects = int(rng.integers(2, 7))
    for _ in range(n_objects):
        cls = int(rng.integers(1, len(CLASSES)))
        cx, cy = rng.uniform(0.1, 0.9, size=2) * size
        r = rng.uniform(0.09, 0.3) * size
        if cls == 1:
            sdf = np.hypot(xs - cx, ys - cy) - r
        elif cls == 2:
            corners = _rotated_rect(cx, cy, r, r * rng.uniform(0.5, 1.0), rng.uniform(0, np.pi))
            sdf = _sdf_convex(ys, xs, _orient(corners))
        elif cls == 3:
            angles = rng.uniform(-0.3, 0.3) + np.array([-np.pi / 2, np.pi / 6, 5 * np.pi / 6])
            corners = np.stack([cx + 1.2 * r * np.cos(angles), cy + 1.2 * r * np.sin(angles)], axis=1)
            sdf = _sdf_convex(ys, xs, _orient(corners))
        else:
            half_w = rng.uniform(1.0, 2.0) * size / 64.0
            corners = _rotated_rect(cx, cy, 1.6 * r, half_w, rng.uniform(0, np.pi))
            sdf = _sdf_convex(ys, xs, _orient(corners))
        sdf = sdf.astype(np.float32)
        color = np.clip(_HUES[cls] + rng.normal(0, 0.12, 3), 0.05, 1).astype(np.float32)
        coverage = np.clip(0.5 - sdf, 0.0, 1.0)[..., None]  # (H, W, 1): anti-aliasing
        image = image * (1 - coverage) + _texture(cls, ys, xs, rng, color, size) * coverage
        inside = sdf < 0
        labels[inside] = cls
        # An edge drawn earlier stops being ambiguous where this object covers it; this object's own edge is.
        ambiguous = (ambiguous & ~inside) | (np.abs(sdf) < 0.5)
    labels[ambiguous] = IGNORE_INDEX
    return np.clip(image, 0, 1).astype(np.float32), labels


class SyntheticScenes(Dataset):
    """Synthetic segmentation scenes, generated deterministically from a seed and held in memory.

    Parameters
    ----------
    split : {"train", "val", "test"}
        Which split; splits never share a scene layout.
    n : int
        Number of scenes.
    size : int
        Side of the square images in pixels.
    seed : int
        Base seed; scene ``i`` uses ``SeedSequence([seed, split index, i])``.

    Attributes
    ----------
    images : Tensor[N, 3, H, W], float32 in [0, 1]
    labels : Tensor[N, H, W], int64, class index in [0, K) or 255 (ignore)
    classes : tuple of str, the K class names (K = 5, background first)
    layouts : list of (seed, split index, i), the layout key of each scene

    ``dataset[i]`` returns ``(image Tensor[3, H, W], labels Tensor[H, W])``.

    Examples
    --------
    >>> ds = SyntheticScenes("test", n=2, size=32, seed=0)
    >>> ds.images.shape, ds.labels.dtype
    (torch.Size([2, 3, 32, 32]), torch.int64)

    Lecture: 04_segmentation
    """

    classes = CLASSES
    num_classes = len(CLASSES)
    ignore_index = IGNORE_INDEX

    def __init__(self, split: str, n: int, size: int, seed: int = 0):
        check_choice(split, "split", SPLITS)
        check_positive_int(n, "n")
        check_positive_int(size, "size")
        if size < 16:
            raise ValueError(f"size must be ≥ 16 pixels for objects to be recognisable, but found {size}")
        check_seed(seed)
        self.split, self.size, self.seed = split, size, seed
        self.layouts = [(seed, SPLITS.index(split), i) for i in range(n)]
        images, labels = [], []
        for key in self.layouts:
            img, lab = render_scene(size, np.random.default_rng(np.random.SeedSequence(list(key))))
            images.append(img)
            labels.append(lab)
        self.images = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)
        self.labels = torch.from_numpy(np.stack(labels)).long()  # (N, H, W)

    def __len__(self) -> int:
        return len(self.layouts)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.labels[i]

    def __repr__(self) -> str:
        return f"SyntheticScenes(split={self.split!r}, n={len(self)}, size={self.size}, seed={self.seed})"
