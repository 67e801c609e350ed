"""course_lib.pose.data: synthetic people and heat-map targets (lecture 01)."""

import math

import pytest
import torch
from torch.testing import assert_close

from course_lib.pose import EDGES, JOINTS, SyntheticPose, gaussian_heatmaps


@pytest.fixture(scope="module")
def train():
    return SyntheticPose("train", 24, 64, seed=3)


def test_joint_layout():
    assert len(JOINTS) == 9 and JOINTS[0] == "face"
    names = {tuple(sorted((JOINTS[a], JOINTS[b]))) for a, b in EDGES}
    assert names == {("face", "lsho"), ("face", "rsho"), ("lelb", "lsho"), ("lelb", "lwri"), ("relb", "rsho"),
                     ("relb", "rwri"), ("lhip", "lsho"), ("rhip", "rsho")}


def test_item_contract(train):
    item = train[5]
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert 0.0 <= float(item["image"].min()) and float(item["image"].max()) <= 1.0
    assert item["joints"].shape == (9, 2) and item["joints"].dtype == torch.float32
    assert item["visible"].shape == (9,) and item["visible"].dtype == torch.bool
    assert item["heatmaps"].shape == (9, 32, 32)
    j = item["joints"]
    assert_close(item["torso"], (j[JOINTS.index("lhip")] - j[JOINTS.index("rsho")]).norm())
    assert_close(item["heatmaps"], gaussian_heatmaps(j[None], 64, stride=2, sigma=2.0)[0])
    assert len(train) == 24 and train[-1]["joints"].shape == (9, 2)
    with pytest.raises(IndexError, match="out of range"):
        train[24]


def test_people_are_plausible(train):
    j = train.joints  # (N, J, 2)
    assert float(j.min()) >= 0 and float(j.max()) <= 63
    face, lsho, rsho = j[:, 0], j[:, JOINTS.index("lsho")], j[:, JOINTS.index("rsho")]
    assert bool((face[:, 1] < lsho[:, 1]).all() and (face[:, 1] < rsho[:, 1]).all())  # head above shoulders
    assert bool((lsho[:, 0] > rsho[:, 0]).all())  # the person's left is on the image's right (FLIC)
    assert 10 < float(train.torso.min()) and float(train.torso.max()) < 45
    # The person is drawn: at most joints the pixel differs from the image's own mean colour.
    assert train.images.float().std() > 20
    n, J = j.shape[:2]
    ij = j.round().long().clamp(0, 63)  # (N, J, 2) as (x, y)
    images = train.images.float()  # (N, 3, H, W)
    at_joints = images[torch.arange(n)[:, None], :, ij[..., 1], ij[..., 0]]  # (N, J, 3)
    mean = images.mean(dim=(2, 3))[:, None, :]  # (N, 1, 3)
    differs = (at_joints - mean).abs().amax(-1) > 10  # (N, J)
    assert float(differs.float().mean()) > 0.5, differs.float().mean(0)


def test_deterministic_and_seed_dependent():
    a, b = SyntheticPose("train", 6, 32, seed=7), SyntheticPose("train", 6, 32, seed=7)
    assert_close(a.images, b.images)
    assert_close(a.joints, b.joints)
    c = SyntheticPose("train", 6, 32, seed=8)
    assert (a.images.float() - c.images.float()).abs().mean() > 10
    # A prefix of a bigger split is the same data: samples do not depend on n.
    d = SyntheticPose("train", 3, 32, seed=7)
    assert_close(d.images, a.images[:3])


def test_a_cached_split_is_the_drawn_one_and_a_bad_cache_file_is_drawn_again(tmp_path, monkeypatch):
    """datasets/synthetic_people/cache/ (core.datacache): the first split of 32 images of 64 x 64 is drawn and stored,
    the second read back (drawing is made to fail), equal to a split drawn with the cache off; a file that holds
    the wrong tensors, or is truncated, is ignored and drawn again; an unwritable folder means no cache."""
    from course_lib.core import datacache, people

    (tmp_path / "synthetic_people").mkdir()
    monkeypatch.setattr(datacache, "DATA_ROOT", tmp_path)
    monkeypatch.setenv("COURSE_DATA_CACHE", "off")
    drawn = SyntheticPose("test", 32, 64, seed=5)
    assert not (tmp_path / "synthetic_people" / "cache").exists()
    monkeypatch.setenv("COURSE_DATA_CACHE", "on")
    first = SyntheticPose("test", 32, 64, seed=5)
    files = list((tmp_path / "synthetic_people" / "cache").glob("*.pt"))
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o644"

    def no_drawing(self, i):
        raise AssertionError("drawn, although the cache holds the split")

    with monkeypatch.context() as m:
        m.setattr(people.SyntheticPose, "render", no_drawing)
        again = SyntheticPose("test", 32, 64, seed=5, stride=4)  # the stride is not part of what is stored
    for got in (first, again):
        for name in ("images", "joints", "visible", "scenes"):
            assert torch.equal(getattr(got, name), getattr(drawn, name)), name
    assert again[0]["heatmaps"].shape == (9, 16, 16)
    torch.save({"key": {}, "tensors": {"images": torch.zeros(1)}}, files[0])  # the wrong tensors
    assert torch.equal(SyntheticPose("test", 32, 64, seed=5).images, drawn.images)
    files[0].write_bytes(files[0].read_bytes()[:1000])  # truncated
    assert torch.equal(SyntheticPose("test", 32, 64, seed=5).joints, drawn.joints)
    for path in files[0].parent.iterdir():  # a folder nobody can write into (a file in its way, even for root)
        path.unlink()
    files[0].parent.rmdir()
    files[0].parent.write_text("not a folder")
    assert torch.equal(SyntheticPose("test", 32, 64, seed=5).images, drawn.images)
    monkeypatch.setenv("COURSE_DATA_CACHE", "maybe")
    with pytest.raises(ValueError, match="COURSE_DATA_CACHE must be 'on' or 'off', but found 'maybe'"):
        SyntheticPose("test", 32, 64, seed=5)


def test_train_and_test_share_no_scene():
    train, test = SyntheticPose("train", 40, 32, seed=0), SyntheticPose("test", 40, 32, seed=0)
    assert not set(train.scenes.tolist()) & set(test.scenes.tolist())
    other = SyntheticPose("test", 40, 32, seed=1)  # a neighbouring seed does not collide either
    assert not set(train.scenes.tolist()) & set(other.scenes.tolist())
    # No test image is (nearly) a copy of a training image.
    diff = (train.images.float()[:, None] - test.images.float()[None]).abs().mean(dim=(2, 3, 4))  # (40, 40)
    assert float(diff.min()) > 10, float(diff.min())


def test_frames_of_a_scene_share_the_background():
    ds = SyntheticPose("train", 12, 32, seed=0, frames_per_scene=2, occlusion=0.0)
    assert bool((ds.scenes[0::2] == ds.scenes[1::2]).all()) and len(set(ds.scenes.tolist())) == 6
    im = ds.images.float()  # (12, 3, 32, 32)
    # Frames of one scene differ by the pose and the camera jitter; different scenes differ everywhere.
    same = max((im[2 * k] - im[2 * k + 1]).abs().median() for k in range(6))
    other = min((im[2 * k + 1] - im[2 * k + 2]).abs().median() for k in range(5))
    assert float(same) < float(other), (float(same), float(other))


def test_occlusion_hides_joints():
    ds = SyntheticPose("train", 30, 32, seed=0, occlusion=1.0)
    hidden = (~ds.visible).sum()
    assert 0 < int(hidden) < ds.visible.numel()
    clean = SyntheticPose("train", 30, 32, seed=0, occlusion=0.0)
    assert bool(clean.visible.all())


def test_gaussian_heatmaps_against_a_loop():
    coords = torch.tensor([[[5.2, 9.7], [0.0, 0.0]], [[15.0, 3.5], [8.25, 8.25]]])  # (B=2, J=2, 2)
    hm = gaussian_heatmaps(coords, (12, 16), stride=4, sigma=3.0)
    assert hm.shape == (2, 2, 3, 4)
    for b in range(2):
        for j in range(2):
            x, y = coords[b, j].tolist()
            for v in range(3):
                for u in range(4):
                    cx, cy = 4 * u + 1.5, 4 * v + 1.5
                    want = math.exp(-((cx - x) ** 2 + (cy - y) ** 2) / 18.0)
                    assert abs(float(hm[b, j, v, u]) - want) < 1e-6
    on_centre = gaussian_heatmaps(torch.tensor([[[2.5, 4.5]]]), 8, stride=2, sigma=1.0)
    assert_close(on_centre.max(), torch.tensor(1.0))


def test_bad_inputs_say_what_came():
    with pytest.raises(ValueError, match=r"coords must be \(B, J, 2\); got \(9, 2\)"):
        gaussian_heatmaps(torch.zeros(9, 2), 64, stride=2, sigma=1.0)
    with pytest.raises(ValueError, match="divisible by stride=3"):
        gaussian_heatmaps(torch.zeros(1, 9, 2), 64, stride=3, sigma=1.0)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gaussian_heatmaps(torch.zeros(1, 9, 2), 64, stride=2, sigma=0.0)
    with pytest.raises(ValueError, match="split must be one of"):
        SyntheticPose("validation", 2, 32)
    with pytest.raises(ValueError, match="divisible by stride=4"):
        SyntheticPose("train", 2, 30, stride=4)
