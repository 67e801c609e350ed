"""course_lib.pose.flic: the FLIC loader, on a tiny examples.mat in FLIC's real format (lecture 01)."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat
from torch.testing import assert_close

from course_lib.pose import FLIC, JOINTS
from course_lib.pose.flic import FLIC_SLOTS


def _coords(seed):
    """FLIC's 2 x 29 coords, 1-based pixels, NaN beyond the 17 labelled slots (as in the release)."""
    rng = np.random.default_rng(seed)
    c = np.full((2, 29), np.nan)
    c[:, :17] = rng.uniform(1, 40, (2, 17))
    return c


@pytest.fixture()
def flic_root(tmp_path):
    (tmp_path / "images").mkdir()
    dtype = [(name, object) for name in ("coords", "filepath", "imgdims", "istrain", "istest", "torsobox",
                                          "moviename")]
    examples = np.zeros((1, 3), dtype=dtype)
    files = ["a-00001.jpg", "a-00002.png", "b-00001.jpg"]
    for i, name in enumerate(files):
        coords = _coords(i)
        if i == 2:
            coords[:, FLIC_SLOTS["lwri"]] = np.nan  # an unlabelled wrist
        examples[0, i] = (coords, name, np.array([[40.0, 48.0, 3.0]]), np.array([[i < 2]], dtype=np.uint8),
                          np.array([[i == 2]], dtype=np.uint8), np.array([[5.0, 6.0, 30.0, 35.0]]), "movie")
        image = np.full((40, 48, 3), 40 * i, dtype=np.uint8)
        image[10, 20, 0] = 255  # a marker pixel: row 10, column 20
        Image.fromarray(image).save(tmp_path / "images" / name)
    savemat(tmp_path / "examples.mat", {"examples": examples})
    return tmp_path


def test_reads_the_split_and_maps_the_joints(flic_root):
    train, test = FLIC(flic_root, "train"), FLIC(flic_root, "test")
    assert len(train) == 2 and len(test) == 1 and len(FLIC(flic_root, "all")) == 3
    item = train[1]
    assert item["image"].shape == (3, 40, 48) and item["image"].dtype == torch.float32
    assert float(item["image"][0, 10, 20]) == 1.0  # the PNG is read exactly, rows are y
    want = torch.tensor(_coords(1)[:, [FLIC_SLOTS[n] for n in JOINTS]].T - 1.0, dtype=torch.float32)
    assert_close(item["joints"], want)  # 1-based MATLAB pixels -> the course's 0-based pixels
    assert FLIC_SLOTS["face"] == 16 and FLIC_SLOTS["rhip"] == 9 and FLIC_SLOTS["lsho"] == 0
    assert_close(item["torso"], (want[JOINTS.index("lhip")] - want[JOINTS.index("rsho")]).norm())
    assert_close(item["torsobox"], torch.tensor([4.0, 5.0, 29.0, 34.0]))
    assert bool(item["visible"].all())
    hidden = test[0]["visible"]
    assert not bool(hidden[JOINTS.index("lwri")]) and int(hidden.sum()) == 8


def test_transform_is_applied(flic_root):
    ds = FLIC(flic_root, "train", transform=lambda item: {**item, "image": item["image"][:, :32, :32]})
    assert ds[0]["image"].shape == (3, 32, 32)


def test_missing_data_says_what_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"examples.mat.*datasets/flic/README.md"):
        FLIC(tmp_path / "nowhere", "train")
    (tmp_path / "images").mkdir()
    with pytest.raises(FileNotFoundError, match="examples.mat does not exist"):
        FLIC(tmp_path, "train")
    with pytest.raises(ValueError, match="split must be one of"):
        FLIC(tmp_path, "val")


def test_a_corrupt_or_foreign_examples_mat_names_the_file(flic_root):
    mat = flic_root / "examples.mat"
    mat.write_bytes(b"not a MATLAB file at all")
    with pytest.raises(ValueError, match=r"examples.mat is not a readable MATLAB file"):
        FLIC(flic_root, "train")
    savemat(mat, {"something_else": np.zeros(3)})
    with pytest.raises(ValueError, match=r"has no variable 'examples' \(it has \['something_else'\]\)"):
        FLIC(flic_root, "train")
    examples = np.zeros((1, 1), dtype=[("coords", object), ("filepath", object)])
    examples[0, 0] = (_coords(0), "a.jpg")
    savemat(mat, {"examples": examples})
    with pytest.raises(ValueError, match=r"'examples' lacks the fields \['istrain', 'istest', 'torsobox'\]"):
        FLIC(flic_root, "train")


def test_a_record_with_wrong_coords_names_the_example(flic_root):
    dtype = [(name, object) for name in ("coords", "filepath", "istrain", "istest", "torsobox")]
    examples = np.zeros((1, 2), dtype=dtype)
    examples[0, 0] = (_coords(0), "a.jpg", np.array([[1]]), np.array([[0]]), np.array([[1.0, 2.0, 3.0, 4.0]]))
    examples[0, 1] = (np.zeros((2, 5)), "b.jpg", np.array([[1]]), np.array([[0]]), np.array([[1.0, 2.0, 3.0, 4.0]]))
    savemat(flic_root / "examples.mat", {"examples": examples})
    with pytest.raises(ValueError, match=r"example 1: coords must be \(2, 29\); got \(2, 5\)"):
        FLIC(flic_root, "train")
