"""PASCAL VOC 2012 segmentation from a local folder, through torchvision, with joint image/mask transforms.

Nothing is downloaded: put the VOC 2012 devkit where ``datasets/voc/README.md`` says, i.e.::

    datasets/voc/VOCdevkit/VOC2012/JPEGImages/2007_000032.jpg
    datasets/voc/VOCdevkit/VOC2012/SegmentationClass/2007_000032.png      (palette PNG: pixel = class index)
    datasets/voc/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt

The masks are palette ("P" mode) PNGs: each pixel stores a class index 0-20, or 255 on the void border; the
palette only colours them. torchvision's ``VOCSegmentation`` reads the pairs; ``transforms.v2`` with
``tv_tensors.Image`` / ``tv_tensors.Mask`` applies one random crop or flip to both, and resizes masks with
nearest-neighbour interpolation (bilinear would invent classes between two labels).

Reference: M. Everingham et al., "The PASCAL Visual Object Classes Challenge", IJCV 2010.

Lecture: 04_segmentation
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.datasets import VOCSegmentation
from torchvision.transforms import v2

from course_lib.core import check_choice

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
VOC_SPLITS = ("train", "val", "trainval")
NUM_VOC_CLASSES = len(VOC_CLASSES)  # 21, background included
IGNORE = 255  # VOC's void label
DEFAULT_ROOT = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "voc"


def voc_palette() -> np.ndarray:
    """The standard VOC colour map: a (256, 3) uint8 array, entry k the colour of class k (255 = void).

    Each class index's bits are spread over the high bits of R, G and B (the devkit's ``labelcolormap``).

    Lecture: 04_segmentation
    """
    palette = np.zeros((256, 3), dtype=np.uint8)
    for k in range(256):
        c, r, g, b = k, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette[k] = (r, g, b)
    return palette


def voc_transforms(*, train: bool, crop: int | None = None) -> v2.Compose:
    """Joint transforms for an (image, mask) pair of tv_tensors; returns image float32 in [0, 1], mask int64.

    ``train=True``: random horizontal flip, then (if ``crop``) a random ``crop × crop`` crop padded with 0 in the
    image and 255 (ignore) in the mask where the photo is smaller. ``train=False`` keeps the whole image (an FCN
    takes any size) or centre-crops to ``crop`` (VOC photos are ~500 px, larger than any crop used here).

    Lecture: 04_segmentation
    """
    ops: list = []
    if train:
        ops.append(v2.RandomHorizontalFlip())
    if crop is not None:
        fill = {tv_tensors.Image: 0, tv_tensors.Mask: 255}
        ops.append(v2.RandomCrop(crop, pad_if_needed=True, fill=fill) if train
                   else v2.CenterCrop(crop))
    ops.append(v2.ToDtype({tv_tensors.Image: torch.float32, tv_tensors.Mask: torch.int64, "others": None},
                          scale=True))
    return v2.Compose(ops)


class _ToTvTensors:
    """PIL image + PIL palette mask → (tv_tensors.Image uint8 (3, H, W), tv_tensors.Mask uint8 (H, W))."""

    def __init__(self, joint: v2.Compose):
        self.joint = joint

    def __call__(self, image, mask):
        img = tv_tensors.Image(v2.functional.pil_to_tensor(image.convert("RGB")))  # (3, H, W) uint8
        # np.array of a "P" PNG gives the palette indices, i.e. the class labels, not the colours.
        lab = tv_tensors.Mask(torch.from_numpy(np.array(mask, dtype=np.uint8)))  # (H, W) uint8
        img, lab = self.joint(img, lab)
        return img.as_subclass(torch.Tensor), lab.as_subclass(torch.Tensor)


class _CheckedVOC(VOCSegmentation):
    """torchvision's VOCSegmentation, refusing a mask with labels VOC does not have (it would pass them on as
    classes): the message names the file and the values found."""

    def __getitem__(self, index: int):
        image, mask = super().__getitem__(index)
        bad = (mask > NUM_VOC_CLASSES - 1) & (mask != IGNORE)
        if bad.any():
            values = sorted(set(mask[bad].unique().tolist()))[:8]
            raise ValueError(f"VOC: {self.masks[index]} has labels {values}; VOC masks hold 0..{NUM_VOC_CLASSES - 1} "
                             f"and {IGNORE} (void). Is it a palette PNG from SegmentationClass?")
        return image, mask


def voc(root: str | os.PathLike | None = None, split: str = "train", *, crop: int | None = None,
        train_transforms: bool | None = None) -> VOCSegmentation:
    """PASCAL VOC 2012 segmentation from a local folder (nothing is downloaded).

    Parameters
    ----------
    root : path, optional
        The folder that contains ``VOCdevkit/VOC2012`` (default ``datasets/voc``).
    split : {"train", "val", "trainval"}
        An image list in ``ImageSets/Segmentation``.
    crop : int, optional
        Crop side in pixels (random when training, centred otherwise); ``None`` keeps whole images.
    train_transforms : bool, optional
        Random flips and crops; default ``split != "val"``.

    Returns
    -------
    torchvision.datasets.VOCSegmentation
        (a subclass that refuses masks with labels outside 0..20 and 255). ``ds[i]`` is
        ``(image Tensor[3, H, W] float32 in [0, 1], mask Tensor[H, W] int64)`` with mask values in 0..20 or 255
        (void border, ignored by the metrics).

    Raises
    ------
    FileNotFoundError
        If the folders are missing; the message says what to put where.

    Lecture: 04_segmentation
    """
    check_choice(split, "split", VOC_SPLITS)
    root = pathlib.Path(root) if root is not None else DEFAULT_ROOT
    base = root / "VOCdevkit" / "VOC2012"
    needed = [base / "JPEGImages", base / "SegmentationClass", base / "ImageSets" / "Segmentation" / f"{split}.txt"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"PASCAL VOC 2012 not found under {root}: missing {missing}. Download VOCtrainval_11-May-2012.tar "
            f"from http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ and extract it into {root}, so that "
            f"{base}/JPEGImages, {base}/SegmentationClass and {base}/ImageSets/Segmentation/{split}.txt exist "
            "(see datasets/voc/README.md)."
        )
    train = split != "val" if train_transforms is None else train_transforms
    return _CheckedVOC(str(root), year="2012", image_set=split, download=False,
                       transforms=_ToTvTensors(voc_transforms(train=train, crop=crop)))
