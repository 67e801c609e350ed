"""NYU Depth v2, labelled subset: the real data of Eigen & Fergus (ICCV 2015), read from local files.

Nothing here downloads. ``datasets/nyu_depth_v2/README.md`` says what to put where:

* ``nyu_depth_v2_labeled.mat``: 1,449 RGB-D images of indoor scenes, 640×480, with dense labels. It is a MATLAB
  v7.3 file, i.e. HDF5, read with ``h5py`` (``scipy.io.loadmat`` cannot). MATLAB stores arrays column-major, so
  h5py sees every array with its axes reversed: ``images`` as (N, 3, W, H) uint8, ``depths`` as (N, W, H)
  float metres, ``labels`` as (N, W, H) uint16 (0 = unlabelled, 1..894 = NYU's raw classes). We transpose back to
  (3, H, W) and (H, W).
* ``splits.mat``: the official split, ``trainNdxs`` (795) and ``testNdxs`` (654), 1-based indices.
* ``mapping_13.txt``: the class mapping from NYU's 894 raw labels to the 13 classes of Couprie et al. (2013):
  894 lines, line ``k`` holding the 13-class id (1..13, 0 = none) of raw label ``k``. Optionally
  ``mapping_4.txt`` (same layout, ids 1..4) for the 4 structure classes of Silberman et al. (ECCV 2012); without
  it the 4 classes are derived from the 13 with ``NYU_4_FROM_13``.

The 13 classes, in order: bed, books, ceiling, chair, floor, furniture, objects, picture (deco), sofa, table,
TV, wall, window. The 4 classes: floor, structure, furniture, prop, as in ``course_lib.depth.rooms.CLASSES``.
Unlabelled pixels become 255 (ignore). Depths stored as integers (some exports keep the Kinect's uint16
millimetres) are converted to metres (÷ 1000); non-finite or non-positive depths are invalid and set to 0.
Images stored channels-last, (N, W, H, 3) as h5py sees them, are read as such (the spatial axes are fixed by
``depths``). Every file is checked when the dataset is made, and every message names the file: a wrong key,
shape or dtype, 0-based or overlapping split indices, or a mapping file that is not 894 integers.

The labelled .mat holds no surface normals (the paper uses normals
computed from depth by other authors); this reader gives RGB, depth, labels and a validity mask.

Lecture: 05_depth
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from course_lib.core import check_choice, check_positive_int

DEFAULT_ROOT = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "nyu_depth_v2"
README = "datasets/nyu_depth_v2/README.md"
MAT_FILE = "nyu_depth_v2_labeled.mat"
SPLIT_FILE = "splits.mat"
CLASSES_13 = ("bed", "books", "ceiling", "chair", "floor", "furniture", "objects", "picture", "sofa", "table",
              "tv", "wall", "window")
# Silberman's 4 structure classes (1 floor, 2 structure, 3 furniture, 4 prop) of each of the 13 classes, as in
# the public NYU class-mapping scripts (mapToNYUSuperClass = [3 4 2 3 1 3 4 4 3 3 4 2 2]); index 0 = none.
NYU_4_FROM_13 = (0, 3, 4, 2, 3, 1, 3, 4, 4, 3, 3, 4, 2, 2)


NUM_RAW_LABELS = 894  # NYU's raw label ids 1..894 (0 = unlabelled); a mapping file has one line per id


def _need(path: pathlib.Path, what: str) -> pathlib.Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found at {path}. NYU Depth v2 is not downloaded by the course: see "
                                f"{README} for which files go where and where they come from.")
    return path


def read_mapping(path: pathlib.Path, num_classes: int) -> np.ndarray:
    """Read a mapping file (one id per line, line k for raw label k; 0 = none) into a lookup table over raw labels
    0..894 giving 0-based classes and 255 for unlabelled. Lecture: 05_depth"""
    _need(path, "class mapping file")
    try:
        ids = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except ValueError as err:
        raise ValueError(f"{path} must hold one integer class id per line; {err}") from None
    if ids.ndim != 1 or len(ids) != NUM_RAW_LABELS:
        raise ValueError(f"{path} must hold {NUM_RAW_LABELS} lines, one class id for each NYU raw label; got "
                         f"{ids.shape[0] if ids.ndim else 0} lines" + (f" of {ids.shape[1]} columns" if ids.ndim > 1
                                                                       else ""))
    if not np.array_equal(ids, np.round(ids)):
        raise ValueError(f"{path} must hold integer class ids; got {ids[ids != np.round(ids)][0]}")
    ids = ids.astype(np.int64)
    if ids.min() < 0 or ids.max() > num_classes:
        raise ValueError(f"{path} must hold class ids in 0..{num_classes}; got values in [{ids.min()}, {ids.max()}]")
    return np.concatenate([[255], np.where(ids == 0, 255, ids - 1)]).astype(np.int64)  # index 0: unlabelled


def _read_split_file(path: pathlib.Path) -> dict:
    """``trainNdxs`` and ``testNdxs`` of a MATLAB v5 or v7.3 (HDF5) file, as flat float arrays."""
    import h5py

    out = {}
    try:
        if h5py.is_hdf5(path):  # v7.3
            with h5py.File(path, "r") as f:
                for key in ("trainNdxs", "testNdxs"):
                    if key in f:
                        out[key] = np.asarray(f[key][()], dtype=np.float64).ravel()
        else:
            import scipy.io

            mat = scipy.io.loadmat(path)
            for key in ("trainNdxs", "testNdxs"):
                if key in mat:
                    out[key] = np.asarray(mat[key], dtype=np.float64).ravel()
    except (OSError, ValueError, TypeError, NotImplementedError) as err:
        raise ValueError(f"{path} is not a readable MATLAB split file ({type(err).__name__}: {err})") from None
    return out


def read_split(path: pathlib.Path, split: str, n_images: int | None = None) -> np.ndarray:
    """0-based image indices of ``split`` from the official ``splits.mat`` (MATLAB v5 or v7.3).

    The file holds MATLAB's 1-based indices: they must be whole numbers in 1..``n_images``, unique, and the two
    splits must not share an image. A file that holds 0 (a 0-based export) is refused rather than shifted, since
    shifting it would silently move one image from one split to the other. Lecture: 05_depth"""
    check_choice(split, "split", ("train", "test"))
    _need(path, "split file")
    idx = _read_split_file(path)
    for key in ("trainNdxs", "testNdxs"):
        if key not in idx:
            raise ValueError(f"{path} must hold the variables 'trainNdxs' and 'testNdxs'; {key!r} is missing")
        v = idx[key]
        if v.size == 0:
            raise ValueError(f"{path}: {key} is empty")
        if not np.array_equal(v, np.round(v)):
            raise ValueError(f"{path}: {key} must hold whole image numbers; got {v[v != np.round(v)][0]}")
        if v.min() < 1:
            raise ValueError(f"{path}: {key} must hold MATLAB's 1-based image numbers; found {v.min():g} (a 0-based "
                             f"export? the official file counts from 1)")
        if n_images is not None and v.max() > n_images:
            raise ValueError(f"{path}: {key} holds image number {v.max():g}, but the labelled .mat has {n_images} "
                             f"images")
        if len(np.unique(v)) != len(v):
            raise ValueError(f"{path}: {key} holds image numbers more than once")
    shared = np.intersect1d(idx["trainNdxs"], idx["testNdxs"])
    if shared.size:
        raise ValueError(f"{path}: trainNdxs and testNdxs share {shared.size} image(s), e.g. {shared[0]:g}; the "
                         f"splits must be disjoint")
    key = {"train": "trainNdxs", "test": "testNdxs"}[split]
    return idx[key].astype(np.int64) - 1  # MATLAB is 1-based


def _check_mat(path: pathlib.Path) -> tuple[int, bool]:
    """Open the labelled .mat once and check its arrays; return (number of images, images channels-last)."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path} is not a readable MATLAB v7.3 (HDF5) file ({err}); the labelled set is "
                         f"nyu_depth_v2_labeled.mat, see {README}") from None
    with f:
        missing = [k for k in ("images", "depths", "labels") if k not in f]
        if missing:
            raise ValueError(f"{path} must hold the arrays 'images', 'depths' and 'labels'; missing {missing}")
        images, depths, labels = f["images"], f["depths"], f["labels"]
        if depths.ndim != 3:
            raise ValueError(f"{path}: depths must be (N, W, H) as h5py sees MATLAB's H×W×N; got {depths.shape}")
        n, w, h = depths.shape
        last = images.shape == (n, w, h, 3)
        if images.shape != (n, 3, w, h) and not last:
            raise ValueError(f"{path}: images must be (N, 3, W, H) = {(n, 3, w, h)} as h5py sees MATLAB's "
                             f"H×W×3×N (matching depths {depths.shape}); got {images.shape}")
        if labels.shape != (n, w, h):
            raise ValueError(f"{path}: labels must be (N, W, H) = {(n, w, h)} like depths; got {labels.shape}")
        if images.dtype != np.uint8:
            raise ValueError(f"{path}: images must be uint8 (0..255); got {images.dtype}")
        if depths.dtype.kind not in "fu":
            raise ValueError(f"{path}: depths must be float metres or unsigned integer millimetres; got "
                             f"{depths.dtype}")
        if labels.dtype.kind not in "ui":
            raise ValueError(f"{path}: labels must be integer raw label ids (0..{NUM_RAW_LABELS}); got {labels.dtype}")
    return n, last


class NYUDepthV2(Dataset):
    """The NYU Depth v2 labelled images of one split, read lazily from the .mat file.

    Items are dicts: ``rgb`` Tensor[3, H, W] float in [0, 1]; ``depth`` Tensor[1, H, W] metres; ``labels``
    Tensor[H, W] int64 (0-based classes of the chosen set, 255 = unlabelled); ``valid`` Tensor[1, H, W] bool
    (a finite depth > 0 was measured; elsewhere depth is 0). H, W = 480, 640, or ``(3 * size // 4, size)`` when
    ``size`` is given (RGB resized with antialiasing, depth and labels by nearest neighbour so that no depth or
    class is invented).

    Lecture: 05_depth
    """

    def __init__(self, root: pathlib.Path, split: str, classes: int, size: int | None):
        self.root, self.split, self.classes, self.size = root, split, classes, size
        self.mat = _need(root / MAT_FILE, "the labelled .mat file")
        self.n_images, self.channels_last = _check_mat(self.mat)
        self.indices = read_split(_need(root / SPLIT_FILE, "split file"), split, self.n_images)
        if classes == 13:
            self.lookup = read_mapping(root / "mapping_13.txt", 13)
        elif (root / "mapping_4.txt").exists():
            self.lookup = read_mapping(root / "mapping_4.txt", 4)
        else:
            to13 = read_mapping(root / "mapping_13.txt", 13)
            four = np.array([v - 1 if v else 255 for v in NYU_4_FROM_13[1:]] + [255], dtype=np.int64)
            self.lookup = four[np.where(to13 == 255, 13, to13)]  # 13-class id → 4-class id; 255 stays 255
        self.class_names = CLASSES_13 if classes == 13 else ("floor", "structure", "furniture", "prop")
        self._file = None

    def _h5(self):
        if self._file is None:
            import h5py

            self._file = h5py.File(self.mat, "r")
        return self._file

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for the {len(self)} {self.split} images")
        f, j = self._h5(), int(self.indices[i])
        img = f["images"][j]  # (3, W, H), or (W, H, 3) channels-last
        img = img.transpose(2, 1, 0) if self.channels_last else img.transpose(0, 2, 1)  # (3, H, W)
        rgb = torch.from_numpy(np.ascontiguousarray(img)).float() / 255.0  # (3, H, W)
        d = f["depths"][j].T.astype(np.float32)  # (H, W)
        if f["depths"].dtype.kind == "u":
            d = d / 1000.0  # integer depths are millimetres
        d = np.where(np.isfinite(d) & (d > 0), d, 0.0).astype(np.float32)  # inf, NaN, ≤ 0: not measured
        depth = torch.from_numpy(np.ascontiguousarray(d))[None]  # (1, H, W)
        raw = np.ascontiguousarray(f["labels"][j].T).astype(np.int64)  # (H, W), 0..894
        if raw.min() < 0 or raw.max() >= len(self.lookup):
            raise ValueError(f"{self.mat}: image {j + 1} has raw labels in [{raw.min()}, {raw.max()}], but the "
                             f"class mapping covers 0..{len(self.lookup) - 1}")
        labels = torch.from_numpy(self.lookup[raw])
        if self.size is not None:
            hw = (3 * self.size // 4, self.size)
            rgb = F.interpolate(rgb[None], size=hw, mode="bilinear", antialias=True, align_corners=False)[0]
            depth = F.interpolate(depth[None], size=hw, mode="nearest")[0]
            labels = F.interpolate(labels[None, None].float(), size=hw, mode="nearest")[0, 0].long()
        return {"rgb": rgb.clamp(0, 1), "depth": depth, "labels": labels, "valid": depth > 0}

    def __repr__(self) -> str:
        return f"NYUDepthV2(split={self.split!r}, n={len(self)}, classes={self.classes}, size={self.size})"


def nyu_depth_v2(root: str | pathlib.Path | None = None, split: str = "train", *, classes: int = 4,
                 size: int | None = None) -> NYUDepthV2:
    """The NYU Depth v2 labelled set (official 795 / 654 split) from the local folder ``root``.

    Parameters
    ----------
    root : path, optional
        Folder with ``nyu_depth_v2_labeled.mat``, ``splits.mat`` and ``mapping_13.txt`` (default
        ``datasets/nyu_depth_v2``). A missing file raises ``FileNotFoundError`` naming it and the README.
    split : {"train", "test"}
    classes : {4, 13}
    size : int, optional
        Resize to ``size`` × ``3·size/4`` (e.g. 64 for the lecture's networks); default: 640 × 480.

    Lecture: 05_depth
    """
    check_choice(split, "split", ("train", "test"))
    check_choice(classes, "classes", (4, 13))
    if size is not None and check_positive_int(size, "size") < 4:
        raise ValueError(f"size must be ≥ 4 (images are size × 3·size/4 pixels), but found {size}")
    root = pathlib.Path(root) if root is not None else DEFAULT_ROOT
    _need(root, "the NYU Depth v2 folder")
    if not root.is_dir():
        raise NotADirectoryError(f"root must be the NYU Depth v2 folder, but {root} is a file; see {README}")
    return NYUDepthV2(root, split, classes, size)
