"""Real photographs for lecture 06: scikit-image's bundled photos, split by photo, served as patches.

Burger et al. (CVPR 2012) and DnCNN (Zhang et al., TIP 2017) learn denoising from patches of natural images
(hundreds of images; BSD400 for DnCNN) and test on held-out ones (BSD68, Set12). The course ships nothing and
downloads nothing, so it uses the photographs that come inside scikit-image and load without network: about
fifteen for training, three held out (``TEST_PHOTOS``). That is 1-2 orders of magnitude less data than the
papers, one reason the nets here fall short of what the papers report (the lecture says so with numbers).

* ``load_photo(name, grey=...)``: Tensor[C, H, W] float in [0, 1], quantised to 8 bits as a photo is.
* ``PhotoPatches``: a Dataset of random ``patch × patch`` crops of the training photos with a random flip and
  rotation by a multiple of 90°; item ``i`` is a function of ``(seed, i)`` only, so a run is reproducible and
  needs no storage.
* ``read_png_folder``: a standard test set (BSD68 / Set12) from ``datasets/<name>/`` as PNG files, if you have it.

Lecture: 06_restoration
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import torch
from torch.utils.data import Dataset

from course_lib.core import check_choice, check_positive_int, check_seed, check_tensor

DATA_ROOT = pathlib.Path(__file__).resolve().parents[2] / "datasets"

# Photographs bundled with scikit-image that load offline (tests/test_restoration_data.py loads each).
# "cat" is the same picture as "chelsea" and is left out; "eagle", "lily", "kidney" etc. need a download.
TEST_PHOTOS = ("camera", "astronaut", "chelsea")
TRAIN_PHOTOS = ("coffee", "rocket", "coins", "moon", "page", "brick", "grass", "gravel", "text", "clock",
                "immunohistochemistry", "cell", "motorcycle", "retina", "hubble_deep_field")
PHOTOS = {"train": TRAIN_PHOTOS, "test": TEST_PHOTOS}
# Very large photos are shrunk so that no single photo dominates the patch statistics.
MAX_SIDE = 640


def _skimage_array(name: str) -> np.ndarray:
    import skimage.data

    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]  # (left, right, disparity): the left view
    return np.asarray(getattr(skimage.data, name)())


def rgb_to_grey(x: torch.Tensor) -> torch.Tensor:
    """Luminance of sRGB, as ``skimage.color.rgb2gray``: Tensor[..., 3, H, W] → Tensor[..., 1, H, W].

    Lecture: 06_restoration
    """
    check_tensor(x, "x", dtype="float")
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"x must be (..., 3, H, W) RGB; got {tuple(x.shape)}")
    w = torch.tensor([0.2125, 0.7154, 0.0721], dtype=x.dtype, device=x.device)
    return (x * w[:, None, None]).sum(dim=-3, keepdim=True)


def load_photo(name: str, *, grey: bool = True, size: int | None = None) -> torch.Tensor:
    """A bundled photograph as Tensor[C, H, W] float32 in [0, 1], C = 1 if ``grey`` else 3.

    Values are multiples of 1/255 (an 8-bit photo): grey is the luminance rounded to 8 bits. Photos with a
    side over ``MAX_SIDE`` are shrunk (antialiased) to fit. ``size`` crops the centre ``size × size`` square
    (no resizing), for quick demos.

    Lecture: 06_restoration
    """
    import torch.nn.functional as F

    check_choice(name, "name", TRAIN_PHOTOS + TEST_PHOTOS)
    img = _skimage_array(name)
    x = torch.from_numpy(img.astype(np.float32) / 255.0)
    x = x[None].repeat(3, 1, 1) if x.dim() == 2 else x[..., :3].permute(2, 0, 1)  # (3, H, W)
    if max(x.shape[-2:]) > MAX_SIDE:
        scale = MAX_SIDE / max(x.shape[-2:])
        hw = (round(x.shape[1] * scale), round(x.shape[2] * scale))
        x = F.interpolate(x[None], size=hw, mode="bilinear", antialias=True, align_corners=False)[0]
    if grey:
        x = rgb_to_grey(x)  # (1, H, W)
    x = (x.clamp(0, 1) * 255).round() / 255  # 8-bit, like the photo itself
    if size is not None:
        check_positive_int(size, "size")
        _, H, W = x.shape
        if size > min(H, W):
            raise ValueError(f"size must be ≤ the photo's shorter side {min(H, W)} for {name!r}, but found {size}")
        top, left = (H - size) // 2, (W - size) // 2
        x = x[:, top:top + size, left:left + size]
    return x.contiguous()


def test_photos(*, grey: bool = True) -> dict[str, torch.Tensor]:
    """The held-out photographs ``TEST_PHOTOS`` as {name: Tensor[C, H, W]}. Lecture: 06_restoration"""
    return {name: load_photo(name, grey=grey) for name in TEST_PHOTOS}


def augment(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 flips/rotations of a square patch, ``k`` in 0..7: rotate by ``k % 4`` × 90°, then flip
    left-right if ``k ≥ 4``. Tensor[..., H, W] → same shape.

    Lecture: 06_restoration
    """
    check_choice(k, "k", range(8))
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


class PhotoPatches(Dataset):
    """``n`` random ``patch × patch`` crops of ``photos``, each flipped/rotated at random; item ``i`` depends only
    on ``(seed, i)``.

    Parameters
    ----------
    n : int
        Number of patches (one epoch).
    patch : int
        Side in pixels.
    photos : sequence of str
        Photo names (default: ``TRAIN_PHOTOS``); each is drawn with probability proportional to its area.
    grey : bool
        One channel (luminance) or three.
    seed : int
        Fixes every crop.

    Items are Tensor[C, patch, patch] float32 in [0, 1].

    Lecture: 06_restoration
    """

    def __init__(self, n: int, patch: int, *, photos=TRAIN_PHOTOS, grey: bool = True, seed: int = 0):
        check_positive_int(n, "n")
        check_positive_int(patch, "patch")
        self.n, self.patch, self.grey, self.seed = n, patch, grey, check_seed(seed)
        if isinstance(photos, str) or not photos:
            raise ValueError(f"photos must be a non-empty sequence of photo names such as ('camera',), but found "
                             f"{photos!r}")
        self.names = tuple(photos)
        self.images = [load_photo(name, grey=grey) for name in self.names]
        for name, img in zip(self.names, self.images):
            if min(img.shape[-2:]) < patch:
                raise ValueError(f"patch must be ≤ the shorter side of every photo; {name!r} is "
                                 f"{tuple(img.shape[-2:])}, but patch is {patch}")
        area = torch.tensor([float(img.shape[-1] * img.shape[-2]) for img in self.images])
        self.weights = area / area.sum()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} out of range for {self.n} patches")
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(i))
        img = self.images[int(torch.multinomial(self.weights, 1, generator=g))]
        _, H, W = img.shape
        top = int(torch.randint(0, H - self.patch + 1, (), generator=g))
        left = int(torch.randint(0, W - self.patch + 1, (), generator=g))
        crop = img[:, top:top + self.patch, left:left + self.patch]
        return augment(crop, int(torch.randint(0, 8, (), generator=g))).contiguous()

    def __repr__(self) -> str:
        return (f"PhotoPatches(n={self.n}, patch={self.patch}, photos={len(self.names)}, grey={self.grey}, "
                f"seed={self.seed})")


def _png_mode(path: pathlib.Path, im) -> str:
    """The mode to convert a PNG to before reading its pixels: PIL knows the file's mode, so convert
    explicitly (a palette image's pixels are palette indices, a 1-bit image's are 0/1, grey+alpha has 2 channels)
    instead of guessing from the array."""
    if im.mode in ("L", "RGB", "I;16"):
        return im.mode
    if im.mode in ("1", "LA"):
        return "L"  # 1-bit: 0/255; grey+alpha: the alpha channel is dropped
    if im.mode == "I":  # how some PIL versions open 16-bit grey
        return "I"
    if im.mode in ("P", "PA", "RGBA"):
        return "RGB"  # a palette (with or without transparency) gives colours; alpha is dropped
    raise ValueError(f"{path}: PNG mode {im.mode!r} is not supported (grey, grey+alpha, 16-bit grey, palette, "
                     f"RGB or RGBA are)")


def read_png_folder(name: str, *, root: str | pathlib.Path | None = None, grey: bool = True) -> dict:
    """A standard test set (e.g. ``"bsd68"``, ``"set12"``) from ``<root>/<name>/*.png`` as {file stem:
    Tensor[C, H, W] in [0, 1]}, sorted by name. ``root`` defaults to the repository's ``datasets/``.

    8- and 16-bit PNGs are scaled by their bit depth; palette and 1-bit files are converted to grey or RGB by PIL
    (their pixels are palette indices or 0/1 otherwise); an alpha channel is dropped; colour files are converted
    to luminance when ``grey``. The suffix may be ``.png`` or ``.PNG``. A missing or empty folder raises
    ``FileNotFoundError`` naming the folder and its README; a file that is not a readable PNG raises
    ``ValueError`` naming the file.

    Lecture: 06_restoration
    """
    from PIL import Image, UnidentifiedImageError

    if not isinstance(name, (str, os.PathLike)) or not str(name):
        raise TypeError(f"name must be the test set's folder name (a str such as 'bsd68'), but found {name!r}")
    if not isinstance(grey, bool):
        raise TypeError(f"grey must be True or False, but found {type(grey).__name__} ({grey!r})")
    folder = (pathlib.Path(root) if root is not None else DATA_ROOT) / name
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png") if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"no PNG files in {folder}: put the {name} test images there as *.png "
            f"(see {DATA_ROOT / name / 'README.md'}); the course does not download them")
    out = {}
    for path in files:
        try:
            with Image.open(path) as im:
                if im.format != "PNG":
                    raise ValueError(f"{path} is a {im.format} file, not a PNG")
                mode = _png_mode(path, im)
                arr = np.asarray(im.convert(mode) if mode != im.mode else im)
        except (OSError, UnidentifiedImageError, SyntaxError) as err:  # truncated, empty, not an image
            raise ValueError(f"{path} is not a readable PNG ({type(err).__name__}: {err})") from None
        scale = 65535.0 if mode in ("I;16", "I") else 255.0
        x = torch.from_numpy(arr.astype(np.float32) / scale)
        x = x[None] if x.dim() == 2 else x.permute(2, 0, 1)  # (C, H, W), C = 1 or 3
        if grey and x.shape[0] == 3:
            x = rgb_to_grey(x)
        elif not grey and x.shape[0] == 1:
            x = x.repeat(3, 1, 1)
        out[path.stem] = x.clamp(0, 1).contiguous()
    return out
