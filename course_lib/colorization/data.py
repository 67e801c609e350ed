"""Data for lecture 07: synthetic scenes whose object colours are ambiguous by design, and real photographs.

Zhang, Isola, Efros, ECCV 2016, "inherent ambiguity": a greyscale image does not determine its colours (a
t-shirt, a car, an apple can each be several colours with the same lightness). ``SyntheticColorScenes`` builds
that situation in a form we control: outdoor-like scenes (hazy sky above a horizon, grass or sand below, with
texture and shading) with 1-2 objects of four shapes. Each shape has a palette in ``PALETTES`` with known
frequencies, and the colours of one palette have the same lightness, so the greyscale image tells the shape,
never the colour:

* ``disc``: brown-grey 50 %, red 30 %, blue 20 % (rare);
* ``square``: slate 50 %, orange 30 %, purple 20 %;
* ``diamond``: khaki 55 %, cyan 30 %, pink 15 %;
* ``triangle``: always yellow-green (the unambiguous control).

As in natural photographs (the paper's Fig. 3b), the common colours are the dull ones: the backgrounds and each
palette's most frequent colour have low chroma, the rare colours are vivid. So the three losses disagree just
as in the paper: L2 paints the palette's mean (a brown-grey), plain classification with the annealed mean picks
the common dull colour, and class rebalancing brings out the rare vivid ones. Sky, grass and sand differ in
lightness and texture, so their colours are predictable. Each item also carries the mask of the ambiguous
objects (to measure their saturation) and the shape of the largest visible object (a label for the linear probe:
colourisation as a pretext task).

Scenes are generated from a per-scene seed; the train and test splits draw their seeds from disjoint ranges,
so no scene is shared. Images are stored as 8-bit sRGB, like photographs; Lab is computed in torch on the batch
(``rgb_to_lab``), on whatever device trains.

Real photographs: ``load_photo`` reads scikit-image's bundled colour photos (no download), split by photo in
``PHOTOS``; ``legacy_photos`` gives them as greyscale inputs with their true colours, ``LEGACY_GRAY`` are truly
black-and-white photographs (no colour exists to compare with).

Lecture: 07_colorization
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from course_lib.core import check_choice, check_positive_int, check_seed

from .lab import lab_to_rgb

SPLITS = ("train", "test")
_SPLIT_CODE = {"train": 0, "test": 1}
SHAPES = ("disc", "square", "diamond", "triangle")
# shape -> list of (colour name, (a, b), frequency). Frequencies sum to 1 per shape.
PALETTES: dict[str, list[tuple[str, tuple[float, float], float]]] = {
    "disc": [("brown-grey", (10.0, 12.0), 0.5), ("red", (55.0, 45.0), 0.3), ("blue", (5.0, -48.0), 0.2)],
    "square": [("slate", (-4.0, -10.0), 0.5), ("orange", (30.0, 58.0), 0.3), ("purple", (40.0, -45.0), 0.2)],
    "diamond": [("khaki", (-3.0, 16.0), 0.55), ("cyan", (-35.0, -18.0), 0.3), ("pink", (50.0, -5.0), 0.15)],
    "triangle": [("yellow-green", (-25.0, 55.0), 1.0)],
}
OBJECT_L = (52.0, 66.0)  # object base lightness: the same range for every colour, so L says nothing about it


def palette_mean(shape: str) -> tuple[float, float]:
    """The frequency-weighted mean ab of a shape's palette: what an L2 regressor should learn for it."""
    check_choice(shape, "shape", SHAPES)
    a = sum(f * ab[0] for _, ab, f in PALETTES[shape])
    b = sum(f * ab[1] for _, ab, f in PALETTES[shape])
    return a, b


def scene_seed(seed: int, split: str, index: int) -> int:
    """The seed of scene ``index`` of ``split``: disjoint ranges per split, so train and test share no scene."""
    return (int(seed) * 4 + _SPLIT_CODE[split]) * 10_000_019 + int(index)


def _smooth_noise(g: torch.Generator, size: int, cells: int, amplitude: float) -> torch.Tensor:
    """Low-frequency texture: random values on a coarse grid, upsampled bilinearly: (size, size)."""
    coarse = torch.randn(1, 1, cells, cells, generator=g) * amplitude
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)[0, 0]


def _shape_mask(shape: str, u: torch.Tensor, v: torch.Tensor, r: float) -> torch.Tensor:
    """Inside-test of a shape centred at 0 with size r, in rotated coordinates (u, v): (H, W) bool."""
    if shape == "disc":
        return u**2 + v**2 < r**2
    if shape == "square":
        return torch.maximum(u.abs(), v.abs()) < 0.85 * r
    if shape == "diamond":
        return u.abs() + v.abs() < 1.15 * r
    # equilateral triangle, apex up: inside all three edges, each at distance r/2 from the centre along its
    # outward normal (angles 90°, 210°, 330°; v points down the image, so 90° is the bottom edge)
    inside = torch.ones_like(u, dtype=torch.bool)
    for deg in (90.0, 210.0, 330.0):
        phi = math.radians(deg)
        inside &= u * math.cos(phi) + v * math.sin(phi) < 0.5 * r
    return inside


def render_scene(seed: int, size: int) -> dict:
    """Render one scene from its seed.

    Returns
    -------
    dict
        ``"lab"``: Tensor[3, H, W] (the intended colours, before gamut clipping and 8-bit rounding),
        ``"shape_map"``: Tensor[H, W] int8 (index into ``SHAPES`` of the object at each pixel, −1 for the
        background), ``"label"``: int (index into ``SHAPES`` of the largest
        visible object), ``"colors"``: list of (shape, colour name) per object.

    Lecture: 07_colorization
    """
    g = torch.Generator().manual_seed(int(seed))
    S = size
    rand = lambda lo, hi: lo + (hi - lo) * float(torch.rand((), generator=g))  # noqa: E731
    ys, xs = torch.meshgrid(torch.linspace(0, 1, S), torch.linspace(0, 1, S), indexing="ij")  # (S, S) each
    L = torch.empty(S, S)
    ab = torch.empty(2, S, S)
    # Sky: bright, pale blue, lighter towards the horizon; ground: grass (darker, dull green) or sand (lighter,
    # beige). Low chroma, as the common colours of natural photos.
    horizon = rand(0.3, 0.6)
    wave = torch.sin(xs[0] * rand(2, 6) + rand(0, 6))  # (S,): a gently curved horizon
    sky = ys < horizon + 0.05 * wave
    L[sky] = (rand(68, 80) + 15 * (ys / horizon) + _smooth_noise(g, S, 4, 2.0))[sky]
    ab[0][sky], ab[1][sky] = rand(-4, 0), rand(-18, -10)
    grass = float(torch.rand((), generator=g)) < 0.6
    ground_L = (rand(38, 48) if grass else rand(62, 72)) + _smooth_noise(g, S, 16, 5.0)
    L[~sky] = ground_L[~sky]
    ab[0][~sky] = (rand(-18, -10) if grass else rand(2, 6)) + _smooth_noise(g, S, 8, 2.0)[~sky]
    ab[1][~sky] = (rand(12, 22) if grass else rand(8, 16)) + _smooth_noise(g, S, 8, 2.0)[~sky]
    # Objects, largest first; later ones may occlude earlier ones.
    owner = torch.full((S, S), -1, dtype=torch.long)
    n_objects = int(torch.randint(1, 3, (), generator=g))
    shapes, colors = [], []
    for k in range(n_objects):
        shape = SHAPES[int(torch.randint(len(SHAPES), (), generator=g))]
        names, abs_, freqs = zip(*PALETTES[shape])
        c = int(torch.multinomial(torch.tensor(freqs), 1, generator=g))
        r = rand(0.2, 0.3) if k == 0 else rand(0.13, 0.2)
        cx, cy, th = rand(0.2, 0.8), rand(0.25, 0.8), rand(-0.4, 0.4)
        u = (xs - cx) * math.cos(th) + (ys - cy) * math.sin(th)  # rotated coordinates, (S, S)
        v = -(xs - cx) * math.sin(th) + (ys - cy) * math.cos(th)
        inside = _shape_mask(shape, u, v, r)
        shade = rand(*OBJECT_L) - 8.0 * ((xs - cx) + (ys - cy)) / r  # lit from the top left
        L[inside] = (shade + _smooth_noise(g, S, 8, 1.5))[inside]
        ab[0][inside] = abs_[c][0] + rand(-4, 4)
        ab[1][inside] = abs_[c][1] + rand(-4, 4)
        owner[inside] = k
        shapes.append(shape)
        colors.append((shape, names[c]))
    areas = torch.bincount(owner[owner >= 0], minlength=n_objects)
    label = SHAPES.index(shapes[int(areas.argmax())]) if int(areas.sum()) else SHAPES.index(shapes[0])
    lab = torch.cat([L.clamp(0, 100)[None], ab])  # (3, S, S)
    shape_ids = torch.tensor([SHAPES.index(s) for s in shapes] + [-1])  # owner −1 (background) → −1
    return {"lab": lab, "shape_map": shape_ids[owner].to(torch.int8), "label": label, "colors": colors}


class SyntheticColorScenes(Dataset):
    """Synthetic scenes with ambiguous object colours, generated deterministically and held in memory.

    Parameters
    ----------
    split : {"train", "test"}
        Disjoint scene seeds (see :func:`scene_seed`).
    n : int
        Number of scenes.
    size : int
        Image side in pixels (a multiple of 8, for the network's three stride-2 blocks).
    seed : int
        Base seed; the same (split, n, size, seed) always gives the same images.

    Items are dicts: ``"rgb"`` Tensor[3, H, W] float in [0, 1] (8-bit sRGB values), ``"mask"`` Tensor[H, W]
    bool (pixels of the ambiguous objects: every shape but the one-colour triangle), ``"label"`` int64 (shape
    of the largest object, index into ``SHAPES``). ``shape_map`` (Tensor[n, H, W] int8) names the shape at every
    pixel, −1 for the background.

    Lecture: 07_colorization
    """

    def __init__(self, split: str = "train", n: int = 256, size: int = 64, seed: int = 0):
        check_choice(split, "split", SPLITS)
        check_positive_int(n, "n")
        check_positive_int(size, "size")
        if size % 8:
            raise ValueError(f"size must be a multiple of 8, but found {size}")
        self.split, self.n, self.size, self.seed = split, n, size, check_seed(seed)
        labs, maps, labels, self.colors = [], [], [], []
        for i in range(n):
            scene = render_scene(scene_seed(seed, split, i), size)
            labs.append(scene["lab"])
            maps.append(scene["shape_map"])
            labels.append(scene["label"])
            self.colors.append(scene["colors"])
        rgb = torch.cat([lab_to_rgb(chunk) for chunk in torch.stack(labs).split(256)])  # (n, 3, S, S)
        self.rgb8 = (rgb * 255).round().to(torch.uint8)  # stored as an 8-bit photo would be
        self.shape_map = torch.stack(maps)  # (n, S, S) int8, −1 = background
        # The ambiguous objects: pixels of shapes whose palette has more than one colour.
        ambiguous = torch.tensor([len(PALETTES[s]) > 1 for s in SHAPES] + [False])  # index −1 → False
        self.mask = ambiguous[self.shape_map.long()]  # (n, S, S) bool
        self.label = torch.tensor(labels, dtype=torch.long)  # (n,)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {"rgb": self.rgb8[i].float() / 255.0, "mask": self.mask[i], "label": self.label[i]}

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """All scenes at once: rgb Tensor[n, 3, H, W] in [0, 1], mask Tensor[n, H, W], label Tensor[n]."""
        return self.rgb8.float() / 255.0, self.mask, self.label

    def __repr__(self) -> str:
        return f"SyntheticColorScenes(split={self.split!r}, n={self.n}, size={self.size}, seed={self.seed})"


# Real photographs bundled with scikit-image (no network), split by photo.
PHOTOS = {
    "train": ("coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina"),
    "test": ("astronaut", "chelsea"),
}
LEGACY_GRAY = ("camera", "moon", "coins")  # black-and-white photographs: no true colour exists


def load_photo(name: str, *, size: int | None = None) -> torch.Tensor:
    """A photograph bundled with scikit-image as Tensor[3, H, W] float in [0, 1] (grey ones repeated to 3).

    ``size``: crop the centre square and resize it to ``size × size`` (antialiased); default full size.

    Lecture: 07_colorization
    """
    import skimage.data

    check_choice(name, "name", PHOTOS["train"] + PHOTOS["test"] + LEGACY_GRAY)
    img = np.asarray(getattr(skimage.data, name)())
    x = torch.from_numpy(img.astype(np.float32) / 255.0)
    x = x[None].repeat(3, 1, 1) if x.dim() == 2 else x[..., :3].permute(2, 0, 1)  # (3, H, W)
    if size is not None:
        check_positive_int(size, "size")
        _, H, W = x.shape
        s = min(H, W)
        top, left = (H - s) // 2, (W - s) // 2
        x = x[:, top:top + s, left:left + s]
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return x.clamp(0, 1)


def legacy_photos(split: str = "test", *, size: int = 128) -> dict[str, torch.Tensor]:
    """Colour photos of a split as {name: Tensor[3, size, size]} (their L is the "legacy" greyscale input).

    Lecture: 07_colorization
    """
    check_choice(split, "split", SPLITS)
    return {name: load_photo(name, size=size) for name in PHOTOS[split]}
