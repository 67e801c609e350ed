"""FLIC, the real data of Tompson et al. (NIPS 2014): movie frames of upper bodies, read from a local folder.

FLIC ("Frames Labeled In Cinema", Sapp & Taskar, "MODEC: Multimodal Decomposable Models for Human Pose
Estimation", CVPR 2013) has 5,003 frames from 30 Hollywood movies (3,987 train, 1,016 test), each with one person's
upper-body joints. The release is a MATLAB file ``examples.mat`` holding a 1 × N struct array ``examples`` and a
folder ``images/`` of JPEGs. The fields used here:

- ``coords``: 2 × 29 joint positions ``(x, y)`` in 1-based MATLAB pixels, NaN where a joint is not annotated.
  The 29 slots (0-based) are lsho 0, lelb 1, lwri 2, rsho 3, relb 4, rwri 5, lhip 6, lkne 7, lank 8, rhip 9,
  rkne 10, rank 11, leye 12, reye 13, lear 14, rear 15, nose 16, then midpoints; only the first 17 are labelled.
- ``filepath``: the image's file name inside ``images/``.
- ``imgdims``: [height, width, 3].
- ``istrain``, ``istest``: the split.
- ``torsobox``: [x1, y1, x2, y2] of the torso, 1-based.

The course maps FLIC's slots to its 9 joints (``course_lib.pose.JOINTS``); "face" is FLIC's nose, and
coordinates are shifted to the course's 0-based convention (integer = pixel centre).

Nothing here downloads: the data is about 300 MB, and FLIC's licence asks users to fetch it themselves. A missing
folder raises ``FileNotFoundError`` saying what to put where (``datasets/flic/README.md``).

Lecture: 01_pose_detector
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch

from course_lib.core import check_choice
from course_lib.core.people import JOINTS

FLIC_SLOTS = {"face": 16, "lsho": 0, "lelb": 1, "lwri": 2, "rsho": 3, "relb": 4, "rwri": 5, "lhip": 6, "rhip": 9}
"""Course joint name → 0-based slot in FLIC's 29 ``coords`` columns (face = FLIC's nose)."""

HELP = ("Download FLIC.zip from https://bensapp.github.io/flic-dataset.html (or FLIC-full), unzip it, and put "
        "examples.mat and the images/ folder in {root}, so that {root}/examples.mat and {root}/images/*.jpg exist. "
        "See datasets/flic/README.md.")


FIELDS = ("coords", "filepath", "istrain", "istest", "torsobox")
"""The fields of ``examples`` that the reader needs."""


def _read_examples(mat: pathlib.Path) -> np.ndarray:
    """``examples`` from ``examples.mat`` as an (N,) struct array; a clear error naming the file and the field
    when the file is not a MATLAB file or lacks what FLIC has."""
    from scipy.io import loadmat

    try:
        contents = loadmat(mat)
    except Exception as err:  # scipy raises several types for a damaged or foreign file
        raise ValueError(f"FLIC: {mat} is not a readable MATLAB file ({type(err).__name__}: {err})") from None
    if "examples" not in contents:
        keys = sorted(k for k in contents if not k.startswith("__"))
        raise ValueError(f"FLIC: {mat} has no variable 'examples' (it has {keys}); is this FLIC's examples.mat?")
    examples = contents["examples"]
    names = examples.dtype.names or ()
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise ValueError(f"FLIC: {mat}: 'examples' lacks the fields {missing} (it has {list(names)})")
    return examples.reshape(-1)  # (N,) struct records


def _field(record, name: str):
    """One field of a loadmat struct record, unwrapped from MATLAB's 1 × 1 cell/array nesting."""
    value = record[name]
    while isinstance(value, np.ndarray) and value.size == 1 and (value.dtype == object or value.dtype.kind in "US"):
        value = value.item()
    return value


def _scalar(value) -> float:
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


class FLIC(torch.utils.data.Dataset):
    """The FLIC data set from a local folder (``examples.mat`` + ``images/``).

    Parameters
    ----------
    root : path-like
        Folder with ``examples.mat`` and ``images/`` (default layout: ``datasets/flic``).
    split : {"train", "test", "all"}
        FLIC's own split (``istrain`` / ``istest``). Note the slides' warning: FLIC's test frames often have a
        near-duplicate training frame from the same scene ("FLIC-plus" fixes that).
    transform : callable, optional
        Applied to each item dict before it is returned (e.g. cropping and resizing).

    Items are dicts:

    - ``"image"``: Tensor[3, H, W] float32 in [0, 1]
    - ``"joints"``: Tensor[J, 2] float32, ``(x, y)`` in input pixels, 0-based (NaN where FLIC has no label)
    - ``"visible"``: Tensor[J] bool, False where FLIC has no label
    - ``"torso"``: Tensor[] float32, ``|lhip − rsho|`` in pixels
    - ``"torsobox"``: Tensor[4] float32, ``(x1, y1, x2, y2)`` 0-based
    - ``"path"``: str, the image file

    Raises
    ------
    FileNotFoundError
        ``root``, ``examples.mat`` or ``images/`` is missing; the message says what to download and where.

    Lecture: 01_pose_detector
    """

    def __init__(self, root, split: str = "train", *, transform=None):
        check_choice(split, "split", ("train", "test", "all"))
        self.root = pathlib.Path(root)
        mat, images = self.root / "examples.mat", self.root / "images"
        for needed in (self.root, mat, images):
            if not needed.exists():
                raise FileNotFoundError(f"FLIC: {needed} does not exist. " + HELP.format(root=self.root))
        examples = _read_examples(mat)
        self.split, self.transform = split, transform
        self.records = []
        for n, record in enumerate(examples):
            try:
                is_train = bool(_scalar(_field(record, "istrain")))
                is_test = bool(_scalar(_field(record, "istest")))
                coords = np.asarray(_field(record, "coords"), dtype=np.float64)  # (2, 29), 1-based (x; y)
                box = np.asarray(_field(record, "torsobox"), dtype=np.float64).reshape(-1)
            except (ValueError, TypeError, IndexError) as err:
                raise ValueError(f"FLIC: {mat}: example {n} has an unreadable field ({err})") from None
            if (split == "train" and not is_train) or (split == "test" and not is_test):
                continue
            if coords.ndim != 2 or coords.shape[0] != 2 or coords.shape[1] <= max(FLIC_SLOTS.values()):
                raise ValueError(f"FLIC: {mat}: example {n}: coords must be (2, 29); got {coords.shape}")
            if box.size < 4:
                raise ValueError(f"FLIC: {mat}: example {n}: torsobox must have 4 values; got {box.size}")
            joints = coords[:, [FLIC_SLOTS[name] for name in JOINTS]].T - 1.0  # (J, 2), 0-based (x, y)
            box = box[:4] - 1.0
            self.records.append({"path": images / str(_field(record, "filepath")), "joints": joints,
                                 "torsobox": box})

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        from PIL import Image  # Pillow comes with matplotlib and scikit-image

        rec = self.records[i]
        if not rec["path"].is_file():
            raise FileNotFoundError(f"FLIC: image {rec['path']} is missing. " + HELP.format(root=self.root))
        with Image.open(rec["path"]) as img:
            pixels = np.asarray(img.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
        image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0  # (3, H, W)
        joints = torch.from_numpy(rec["joints"]).float()  # (J, 2)
        visible = ~torch.isnan(joints).any(dim=-1)  # (J,)
        torso = (joints[JOINTS.index("lhip")] - joints[JOINTS.index("rsho")]).norm()
        item = {"image": image, "joints": joints, "visible": visible, "torso": torso,
                "torsobox": torch.from_numpy(rec["torsobox"]).float(), "path": str(rec["path"])}
        return self.transform(item) if self.transform is not None else item
