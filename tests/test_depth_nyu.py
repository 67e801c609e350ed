"""Lecture 05: the NYU Depth v2 reader on a fabricated tiny file of the real layout (MATLAB v7.3 = HDF5, arrays
stored transposed), the official split file and the class mappings; clear messages when files are missing."""

import h5py
import numpy as np
import pytest
import scipy.io
import torch

from course_lib.depth import NYU_4_FROM_13, nyu_depth_v2

N, H, W = 5, 6, 8


@pytest.fixture
def nyu_root(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(N, H, W, 3), dtype=np.uint8)  # as MATLAB sees them: H×W×3×N
    depths = rng.uniform(0.5, 9.0, size=(N, H, W)).astype(np.float32)
    labels = rng.integers(0, 895, size=(N, H, W)).astype(np.uint16)
    with h5py.File(tmp_path / "nyu_depth_v2_labeled.mat", "w") as f:
        # MATLAB writes column-major, so h5py sees the axes reversed: images (N, 3, W, H), depths (N, W, H)
        f["images"] = images.transpose(0, 3, 2, 1)
        f["depths"] = depths.transpose(0, 2, 1)
        f["labels"] = labels.transpose(0, 2, 1)
    scipy.io.savemat(tmp_path / "splits.mat", {"trainNdxs": np.array([[1], [2], [4]]),
                                               "testNdxs": np.array([[3], [5]])})
    mapping13 = np.arange(894) % 14  # raw label k → 13-class id (k − 1) mod 14, 0 = none
    np.savetxt(tmp_path / "mapping_13.txt", mapping13, fmt="%d")
    return tmp_path, images, depths, labels, mapping13


def test_reader_transposes_back_and_uses_the_official_split(nyu_root):
    root, images, depths, labels, mapping13 = nyu_root
    train = nyu_depth_v2(root, "train", classes=13)
    test = nyu_depth_v2(root, "test", classes=13)
    assert len(train) == 3 and len(test) == 2
    item = test[1]  # testNdxs[1] = 5 (1-based) → image 4
    assert item["rgb"].shape == (3, H, W) and item["depth"].shape == (1, H, W)
    torch.testing.assert_close(item["rgb"], torch.from_numpy(images[4]).permute(2, 0, 1).float() / 255)
    torch.testing.assert_close(item["depth"][0], torch.from_numpy(depths[4]))
    raw = labels[4].astype(np.int64)
    want = np.where(raw == 0, 255, np.where(mapping13[np.maximum(raw - 1, 0)] == 0, 255,
                                            mapping13[np.maximum(raw - 1, 0)] - 1))
    torch.testing.assert_close(item["labels"], torch.from_numpy(want))
    assert item["valid"].all()


def test_four_classes_derived_from_thirteen(nyu_root):
    root, _, _, labels, mapping13 = nyu_root
    item = nyu_depth_v2(root, "train", classes=4)[0]  # image 0
    raw = labels[0].astype(np.int64)
    c13 = np.where(raw == 0, 0, mapping13[np.maximum(raw - 1, 0)])  # 1..13, 0 = none
    want = np.array([255 if c == 0 else NYU_4_FROM_13[c] - 1 for c in c13.ravel()]).reshape(H, W)
    torch.testing.assert_close(item["labels"], torch.from_numpy(want))
    assert NYU_4_FROM_13[5] == 1 and NYU_4_FROM_13[12] == 2  # floor → floor (1), wall → structure (2)
    assert set(item["labels"].unique().tolist()) <= {0, 1, 2, 3, 255}


def test_resize_keeps_depths_and_classes(nyu_root):
    root, _, depths, _, _ = nyu_root
    item = nyu_depth_v2(root, "train", size=4)[0]
    assert item["rgb"].shape == (3, 3, 4) and item["labels"].shape == (3, 4)
    assert set(item["depth"].flatten().tolist()) <= set(depths[0].flatten().tolist())  # nearest: no new depths


def test_missing_files_name_the_path_and_the_readme(tmp_path, nyu_root):
    with pytest.raises(FileNotFoundError, match=r"NYU Depth v2 folder not found at .*nowhere.*README"):
        nyu_depth_v2(tmp_path / "nowhere")
    root = nyu_root[0]
    (root / "splits.mat").unlink()
    with pytest.raises(FileNotFoundError, match=r"split file not found at .*splits.mat.*nyu_depth_v2/README.md"):
        nyu_depth_v2(root, "train")
    with pytest.raises(ValueError, match=r"classes must be one of \(4, 13\), but found 40"):
        nyu_depth_v2(root, "train", classes=40)


def _rewrite(root, **arrays):
    with h5py.File(root / "nyu_depth_v2_labeled.mat", "a") as f:
        for k, v in arrays.items():
            del f[k]
            f[k] = v


def test_uint16_millimetre_depths_are_read_as_metres(nyu_root):
    root, _, depths, _, _ = nyu_root
    mm = np.round(depths * 1000).astype(np.uint16)  # (N, H, W)
    _rewrite(root, depths=mm.transpose(0, 2, 1))
    item = nyu_depth_v2(root, "train")[0]
    torch.testing.assert_close(item["depth"][0], torch.from_numpy(mm[0] / 1000.0).float())


def test_non_finite_and_non_positive_depths_are_invalid_and_zero(nyu_root):
    root, _, depths, _, _ = nyu_root
    bad = depths.copy()
    bad[0, 0, 0], bad[0, 1, 1], bad[0, 2, 2] = np.inf, np.nan, -1.0
    _rewrite(root, depths=bad.transpose(0, 2, 1))
    item = nyu_depth_v2(root, "train")[0]
    assert not item["valid"][0, 0, 0] and not item["valid"][0, 1, 1] and not item["valid"][0, 2, 2]
    assert int(item["valid"].sum()) == H * W - 3
    assert torch.isfinite(item["depth"]).all() and item["depth"][0, 0, 0] == 0


def test_channels_last_images_are_read_along_the_depths_axes(nyu_root):
    root, images, _, _, _ = nyu_root  # images (N, H, W, 3)
    _rewrite(root, images=images.transpose(0, 2, 1, 3))  # (N, W, H, 3), as h5py would see a channels-last file
    item = nyu_depth_v2(root, "test")[1]
    torch.testing.assert_close(item["rgb"], torch.from_numpy(images[4]).permute(2, 0, 1).float() / 255)


def test_v73_split_file_is_read_and_checked(nyu_root):
    root = nyu_root[0]
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    header = (header.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM").ljust(512, b"\0")
    with h5py.File(root / "splits.mat", "w", userblock_size=512) as f:
        f["trainNdxs"] = np.array([[1.0, 2.0, 4.0]])  # MATLAB's 3×1 column, transposed by h5py
        f["testNdxs"] = np.array([[3.0, 5.0]])
    with open(root / "splits.mat", "r+b") as fh:
        fh.write(header)
    assert len(nyu_depth_v2(root, "train")) == 3 and len(nyu_depth_v2(root, "test")) == 2
    with h5py.File(root / "splits.mat", "r+") as f:
        del f["testNdxs"]
        f["testNdxs"] = np.array([[0.0, 3.0]])  # a 0-based export
    with pytest.raises(ValueError, match=r"splits.mat: testNdxs must hold MATLAB's 1-based image numbers; found 0"):
        nyu_depth_v2(root, "train")
