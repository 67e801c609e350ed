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
Unlabelled pixels become 255 (ignore). The labelled .mat holds no surface normals (the paper uses normals
computed from depth by other authors); this reader gives RGB, depth, labels and a validity mask.

Lecture: 05_depth
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from course_lib.core import check_choice

DEFAULT_ROOT = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "nyu_depth_v2"
README = "datasets/nyu_depth_v2/README.md"
MAT_FILE = "nyu_depth_v2_labeled.mat"
SPLIT_FILE = "splits.mat"
CLASSES_13 = ("bed", "books", "ceiling", "chair", "floor", "furniture", "objects", "picture", "sofa", "table",
              "tv", "wall", "window")
# Silberman's 4 structure classes (1 floor, 2 structure, 3 furniture, 4 prop) of each of the 13 classes, as in
# the public NYU class-mapping scripts (mapToNYUSuperClass = [3 4 2 3 1 3 4 4 3 3 4 2 2]); index 0 = none.
NYU_4_FROM_13 = (0, 3, 4, 2, 3, 1, 3, 4, 4, 3, 3, 4, 2, 2)


def _need(path: pathlib.Path, what: str) -> pathlib.Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found at {path}. NYU Depth v2 is not downloaded by the course: see "
                                f"{README} for which files go where and where they come from.")
    return path


def read_mapping(path: pathlib.Path, num_classes: int) -> np.ndarray:
    """Read a mapping file (one id per line, line k for raw label k; 0 = none) into a lookup table over raw labels
    0..894 giving 0-based classes and 255 for unlabelled. Lecture: 05_depth"""
    ids = np.loadtxt(_need(path, "class mapping file"), dtype=np.int64, ndmin=1)
    if ids.min() < 0 or ids.max() > num_classes:
        raise ValueError(f"{path} must hold class ids in 0..{num_classes}; got values in [{ids.min()}, {ids.max()}]")
    return np.concatenate([[255], np.where(ids == 0, 255, ids - 1)]).astype(np.int64)  # index 0: unlabelled


def read_split(path: pathlib.Path, split: str) -> np.ndarray:
    """0-based image indices of ``split`` from the official ``splits.mat`` (MATLAB v5 or v7.3). Lecture: 05_depth"""
    key = {"train": "trainNdxs", "test": "testNdxs"}[split]
    _need(path, "split file")
    try:
        import scipy.io

        idx = scipy.io.loadmat(path)[key]
    except NotImplementedError:  # a v7.3 (HDF5) file
        import h5py

        with h5py.File(path, "r") as f:
            idx = f[key][()]
    return np.asarray(idx, dtype=np.int64).ravel() - 1  # MATLAB is 1-based


class NYUDepthV2(Dataset):
    """The NYU Depth v2 labelled images of one split, read lazily from the .mat file.

    Items are dicts: ``rgb`` Tensor[3, H, W] float in [0, 1]; ``depth`` Tensor[1, H, W] metres; ``labels``
    Tensor[H, W] int64 (0-based classes of the chosen set, 255 = unlabelled); ``valid`` Tensor[1, H, W] bool
    (depth > 0). H, W = 480, 640, or ``(3 * size // 4, size)`` when ``size`` is given (RGB resized with
    antialiasing, depth and labels by nearest neighbour so that no depth or class is invented).

    Lecture: 05_depth
    """

    def __init__(self, root: pathlib.Path, split: str, classes: int, size: int | None):
        self.root, self.split, self.classes, self.size = root, split, classes, size
        self.mat = _need(root / MAT_FILE, "the labelled .mat file")
        self.indices = read_split(root / SPLIT_FILE, split)
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
        f, j = self._h5(), int(self.indices[i])
        rgb = torch.from_numpy(np.ascontiguousarray(f["images"][j].transpose(0, 2, 1))).float() / 255.0  # (3, H, W)
        depth = torch.from_numpy(np.ascontiguousarray(f["depths"][j].T)).float()[None]  # (1, H, W)
        raw = np.ascontiguousarray(f["labels"][j].T).astype(np.int64)  # (H, W), 0..894
        labels = torch.from_numpy(self.lookup[np.clip(raw, 0, len(self.lookup) - 1)])
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
    root = pathlib.Path(root) if root is not None else DEFAULT_ROOT
    _need(root, "the NYU Depth v2 folder")
    return NYUDepthV2(root, split, classes, size)
