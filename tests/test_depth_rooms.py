"""Lecture 05: the ray caster's geometry (walls, floor, boxes, normals, labels), determinism and splits."""

import math

import numpy as np
import pytest
import torch

from course_lib.depth import CLASSES, SyntheticRooms, camera_rotation, render_rooms, sample_room
from course_lib.depth.rooms import MAX_BOXES, room_seed_sequence, scale_room


def empty_room(W=20.0, H=3.0, D=20.0, cam=(10.0, 1.5, 5.0), yaw=0.0, pitch=0.0, fov=60.0, boxes=()):
    """A hand-made room in the layout of ``sample_room``: a box room, a camera, optional (lo, hi, label) boxes."""
    lo = np.full((MAX_BOXES, 3), np.inf, np.float32)
    hi = np.full((MAX_BOXES, 3), -np.inf, np.float32)
    label = np.full(MAX_BOXES, 2, np.int64)
    for k, (a, b, lab) in enumerate(boxes):
        lo[k], hi[k], label[k] = a, b, lab
    return {"room": np.array([W, H, D], np.float32), "cam": np.array(cam, np.float32), "yaw": yaw,
            "pitch": pitch, "fov": math.radians(fov), "lo": lo, "hi": hi, "box_label": label,
            "colors": np.full((6 + MAX_BOXES, 3), 0.5, np.float32), "grain": np.ones((6 + MAX_BOXES, 3), np.float32),
            "floor_tiles": False, "light": np.array([W / 2, H - 0.05, D / 2], np.float32), "noise": 0}


def test_camera_facing_a_wall_sees_constant_depth_and_the_wall_normal():
    # Camera 2.5 m in front of the far wall z = D, level: every pixel that sees that wall has depth 2.5 m.
    out = render_rooms([empty_room(W=40.0, H=40.0, D=10.0, cam=(20.0, 20.0, 7.5))], 24, 32)
    assert (out["labels"] == 1).all()  # structure everywhere: the wall fills the view
    torch.testing.assert_close(out["depth"], torch.full((1, 1, 24, 32), 2.5), atol=1e-4, rtol=0)
    # its normal points back at the camera: −z in the camera frame
    torch.testing.assert_close(out["normals"][0, :, 5, 7], torch.tensor([0.0, 0.0, -1.0]), atol=1e-6, rtol=0)
    assert out["valid"].all()


def test_floor_depth_follows_the_pinhole_formula():
    h, fov, H, W = 1.5, 60.0, 24, 32
    out = render_rooms([empty_room(cam=(10.0, h, 5.0), fov=fov, D=200.0, W=200.0, H=3.0)
                        | {"cam": np.array([100.0, h, 5.0], np.float32)}], H, W)
    f = (W / 2) / math.tan(math.radians(fov) / 2)
    for v in range(H // 2 + 2, H):
        want = h * f / (v + 0.5 - H / 2)  # a level camera sees the floor at depth h·f / (v − c_y)
        assert out["labels"][0, v, 16] == 0
        assert float(out["depth"][0, 0, v, 16]) == pytest.approx(want, rel=1e-4)
    # the floor's normal is "up" in the world, i.e. −y (y points down) in the camera frame
    torch.testing.assert_close(out["normals"][0, :, H - 1, 3], torch.tensor([0.0, -1.0, 0.0]), atol=1e-6, rtol=0)


def test_box_in_front_of_the_camera_is_furniture_at_its_distance():
    box = ([9.0, 0.0, 8.0], [11.0, 3.0, 9.0], 2)  # a 2 m wide box whose front face is 3 m ahead
    out = render_rooms([empty_room(boxes=[box])], 24, 32)
    assert out["labels"][0, 12, 16] == 2
    assert float(out["depth"][0, 0, 12, 16]) == pytest.approx(3.0, rel=1e-5)
    prop = ([9.9, 1.4, 6.0], [10.1, 1.6, 6.2], 3)  # a small prop 1 m ahead, in front of the box
    out = render_rooms([empty_room(boxes=[box, prop])], 24, 32)
    assert out["labels"][0, 12, 16] == 3 and float(out["depth"][0, 0, 12, 16]) == pytest.approx(1.0, rel=1e-5)


def test_random_rooms_have_unit_normals_facing_the_camera_and_consistent_labels():
    rooms = SyntheticRooms("train", n=16, size=32, seed=3)
    n = rooms.normals
    torch.testing.assert_close(n.norm(dim=1), torch.ones(16, 24, 32), atol=1e-5, rtol=0)
    # facing the camera: the normal and the viewing ray (x, y, 1) point against each other
    H, W = 24, 32
    for i in range(16):
        f = (W / 2) / math.tan(rooms.params[i]["fov"] / 2)
        v, u = torch.meshgrid(torch.arange(H) + 0.5 - H / 2, torch.arange(W) + 0.5 - W / 2, indexing="ij")
        ray = torch.stack([u / f, v / f, torch.ones(H, W)])  # (3, H, W)
        assert ((n[i] * ray).sum(0) < 0).all()
    # labels agree with geometry: floor pixels have up-pointing normals (camera −y rotated by pitch), and lie
    # below the camera (their world height is 0)
    for i in range(16):
        p = rooms.params[i]
        R = camera_rotation(torch.tensor([p["yaw"]]), torch.tensor([p["pitch"]]))[0]  # camera → world
        n_world = torch.einsum("ij,jhw->ihw", R, n[i])  # (3, H, W)
        floor = rooms.labels[i] == 0
        assert torch.allclose(n_world[1][floor], torch.ones(()), atol=1e-5)
        structure = rooms.labels[i] == 1
        assert (n_world[1][structure].abs() > 0.99).logical_or(n_world[1][structure].abs() < 1e-5).all()
    assert set(rooms.labels.unique().tolist()) <= {0, 1, 2, 3, 255}
    assert rooms.rgb.min() >= 0 and rooms.rgb.max() <= 1
    assert rooms.depth[rooms.valid].min() > 0 and rooms.valid.float().mean() > 0.95


def test_same_seed_same_rooms_and_splits_share_no_room():
    a = SyntheticRooms("train", n=6, size=32, seed=1)
    b = SyntheticRooms("train", n=6, size=32, seed=1)
    for key in ("rgb", "depth", "normals", "labels", "valid"):
        torch.testing.assert_close(getattr(a, key), getattr(b, key))
    c = SyntheticRooms("train", n=6, size=32, seed=2)
    assert not torch.equal(a.depth, c.depth)
    test = SyntheticRooms("test", n=6, size=32, seed=1)
    train_keys = {tuple(room_seed_sequence(1, "train", i).generate_state(4)) for i in range(1000)}
    test_keys = {tuple(room_seed_sequence(1, "test", i).generate_state(4)) for i in range(1000)}
    assert not train_keys & test_keys
    assert not any(torch.equal(x, y) for x in a.depth for y in test.depth)
    # a room is the same whichever set it is rendered in (chunking does not matter)
    first = SyntheticRooms("train", n=40, size=32, seed=1, chunk=7)
    torch.testing.assert_close(first.depth[:6], a.depth)


def test_rooms_have_every_class_and_furniture_with_legs():
    rooms = SyntheticRooms("train", n=64, size=32, seed=0)
    counts = torch.bincount(rooms.labels[rooms.labels != 255].flatten(), minlength=4)
    assert (counts > 0).all(), dict(zip(CLASSES, counts.tolist()))
    rng = np.random.default_rng(room_seed_sequence(0, "train", 0))
    assert {"room", "cam", "lo", "hi"} <= set(sample_room(rng))


def test_dataset_items_and_errors():
    rooms = SyntheticRooms("test", n=2, size=32)
    item = rooms[1]
    assert item["rgb"].shape == (3, 24, 32) and item["depth"].shape == (1, 24, 32)
    assert item["normals"].shape == (3, 24, 32) and item["labels"].dtype == torch.int64
    assert item["valid"].dtype == torch.bool
    with pytest.raises(ValueError, match="size must be a multiple of 16, but found 40"):
        SyntheticRooms("train", n=2, size=40)
    with pytest.raises(ValueError, match="split must be one of"):
        SyntheticRooms("val", n=2, size=32)
    with pytest.raises(ValueError, match="n must be ≥ 1"):
        SyntheticRooms("train", n=0, size=32)


def test_a_room_twice_as_large_gives_the_same_image_and_twice_the_depth():
    room = sample_room(np.random.default_rng(room_seed_sequence(0, "test", 3)))
    a = render_rooms([room], 24, 32)
    b = render_rooms([scale_room(room, 2.0)], 24, 32)
    torch.testing.assert_close(b["depth"], 2 * a["depth"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b["rgb"], a["rgb"], atol=2e-3, rtol=0)
    assert torch.equal(b["labels"], a["labels"])
    torch.testing.assert_close(b["normals"], a["normals"])


@pytest.mark.gpu
def test_renderer_and_net_run_on_gpu_and_agree_with_cpu():
    cpu = SyntheticRooms("test", n=8, size=32, seed=4)
    gpu = SyntheticRooms("test", n=8, size=32, seed=4, device="cuda")  # rendered on the GPU, returned on the CPU
    same = (gpu.labels == cpu.labels).float().mean()
    assert same > 0.995, f"labels agree on only {float(same):.4f} of the pixels"
    hit = (gpu.labels == cpu.labels) & cpu.valid[:, 0]
    torch.testing.assert_close(gpu.depth[:, 0][hit], cpu.depth[:, 0][hit], atol=1e-3, rtol=1e-4)
    from course_lib.depth import MultiScaleNet

    net = MultiScaleNet(image_size=(24, 32), width=4, fc_width=16, coarse=4).eval()
    out_cpu = net(cpu.rgb)["depth"]
    out_gpu = net.to("cuda")(cpu.rgb.to("cuda"))["depth"]
    assert out_gpu.is_cuda
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, atol=1e-3, rtol=1e-3)
