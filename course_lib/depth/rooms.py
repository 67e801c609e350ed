"""Synthetic indoor rooms for lecture 05: a vectorised torch ray caster with exact depth, normals and labels.

Eigen & Fergus (ICCV 2015) train on NYU Depth v2: Kinect images of real rooms with depth, and labels for part of
them. A lecture that must run in a minute on a laptop needs a stand-in that keeps what makes the problem hard:
from one image, depth must be inferred from *layout, perspective and shading*, not read off a colour. Each room
here is a box (floor, four walls, ceiling) with furniture (tables on four legs, beds, cabinets, sofas; boxes with
or without legs) and small props on the floor and on the furniture, seen by a pinhole camera of random height,
pitch, yaw and field of view. Surfaces carry procedural textures (floor planks or tiles, painted walls, wood
grain) with random colours per room, and are shaded by a Lambertian point light near the ceiling.

Because every surface is an axis-aligned box face, one ray cast gives everything exactly:

* ``depth``: the z coordinate of the hit point in the camera frame (metres), as NYU's depth maps;
* ``normals``: unit surface normals in the camera frame (x right, y down, z forward), facing the camera;
* ``labels``: NYU's 4 "structure classes" (Silberman et al. ECCV 2012): 0 floor, 1 structure (walls and
  ceiling), 2 furniture, 3 prop; 255 = ignore (surfaces seen at a grazing angle);
* ``valid``: where depth is "measured": not at grazing angles (|cos| < 0.08) and not beyond ``MAX_DEPTH``,
  mimicking the holes of a Kinect.

Rays are cast for many rooms at once: slab intersection of every pixel's ray with every box, as tensors of shape
(B, P, K, 3) (rooms, pixels, boxes, axes), in chunks of rooms. It runs on the GPU if given ``device="cuda"``.

Deviations from real data: no occlusion shadows, no inter-reflections, no sensor noise model beyond a little
Gaussian noise on RGB, furniture only axis-aligned. These rooms are easier than NYU; the lecture says so.

Splits: room ``i`` of ``split`` is drawn from ``numpy.random.SeedSequence([seed, SPLITS.index(split), i])``, so
train and test share no room (the lecture 01 lesson of FLIC-plus).

Lecture: 05_depth
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib.core import check_choice, check_memory, check_number, check_positive_int, check_seed, resolve_device

SPLITS = ("train", "test")
CLASSES = ("floor", "structure", "furniture", "prop")
IGNORE_INDEX = 255
MAX_DEPTH = 10.0  # metres: Kinect's useful range; farther is "invalid"
GRAZING = 0.08  # |cos(angle between ray and normal)| below this: no depth measured, label ignored
MAX_BOXES = 28  # boxes per room (furniture parts and props); unused slots are empty

# Surface ids: 0 floor, 1 ceiling, 2..5 walls (x=0, x=W, z=0, z=D), 6.. boxes.
_FLOOR, _CEILING = 0, 1


def room_seed_sequence(seed: int, split: str, index: int) -> np.random.SeedSequence:
    """The random stream of room ``index`` of ``split``: distinct (split, index) pairs never share a stream."""
    check_seed(seed)
    check_choice(split, "split", SPLITS)
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index must be an int ≥ 0, but found {index!r}")
    return np.random.SeedSequence([int(seed), SPLITS.index(split), int(index)])


def _hsv(rng: np.random.Generator, h: tuple, s: tuple, v: tuple) -> np.ndarray:
    """A random RGB colour (3,) from ranges of hue, saturation and value (all in [0, 1])."""
    import colorsys

    return np.array(colorsys.hsv_to_rgb(rng.uniform(*h) % 1.0, rng.uniform(*s), rng.uniform(*v)), np.float32)


def sample_room(rng: np.random.Generator) -> dict:
    """Draw one room's geometry, camera, colours and light from ``rng`` (numpy), as numpy arrays.

    Returns a dict: ``room`` (3,) width, height, depth in metres (x, y, z extents; y up); ``cam`` (3,) camera
    position; ``yaw``, ``pitch`` (radians; pitch < 0 looks down), ``fov`` (horizontal, radians); ``lo``, ``hi``
    (MAX_BOXES, 3) box corners (empty slots have lo > hi); ``box_label`` (MAX_BOXES,) 2 furniture / 3 prop;
    ``colors`` (6 + MAX_BOXES, 3) base colour per surface; ``grain`` (6 + MAX_BOXES, 3) texture frequencies;
    ``floor_tiles`` (bool), ``light`` (3,) light position, ``reach`` (1: the light's fall-off length scale),
    ``noise`` (seed of the RGB noise).

    Lecture: 05_depth
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), but found "
                        f"{type(rng).__name__}")
    W, H, D = rng.uniform(3.0, 6.0), rng.uniform(2.4, 3.2), rng.uniform(3.5, 7.0)
    # Camera near one end of the room, looking into it (yaw around +z), slightly down.
    cam = np.array([rng.uniform(0.6, W - 0.6), rng.uniform(1.0, 1.8), rng.uniform(0.3, 1.0)], np.float32)
    centre_yaw = math.atan2(W / 2 - cam[0], D / 2 - cam[2])
    yaw = centre_yaw + rng.uniform(-0.35, 0.35)
    pitch = -rng.uniform(0.1, 0.45)
    fov = math.radians(rng.uniform(55.0, 70.0))
    lo = np.full((MAX_BOXES, 3), np.inf, np.float32)
    hi = np.full((MAX_BOXES, 3), -np.inf, np.float32)
    label = np.full(MAX_BOXES, 2, np.int64)
    colors = np.zeros((6 + MAX_BOXES, 3), np.float32)
    grain = np.zeros((6 + MAX_BOXES, 3), np.float32)
    k = 0

    def add(a, b, lab, color, gr):
        nonlocal k
        if k < MAX_BOXES:
            lo[k], hi[k], label[k], colors[6 + k], grain[6 + k] = a, b, lab, color, gr
            k += 1

    tops = []  # (x0, x1, z0, z1, y) of surfaces where props can stand
    for _ in range(rng.integers(1, 5)):
        kind = rng.choice(["table", "bed", "cabinet", "sofa"])
        w, d = {"table": (rng.uniform(0.8, 1.6), rng.uniform(0.6, 1.0)),
                "bed": (rng.uniform(1.4, 2.0), rng.uniform(1.9, 2.1)),
                "cabinet": (rng.uniform(0.5, 1.6), rng.uniform(0.4, 0.6)),
                "sofa": (rng.uniform(1.6, 2.2), rng.uniform(0.8, 1.0))}[kind]
        if rng.random() < 0.5:
            w, d = d, w
        h = {"table": rng.uniform(0.7, 0.8), "bed": rng.uniform(0.4, 0.6), "cabinet": rng.uniform(0.8, 2.0),
             "sofa": rng.uniform(0.7, 0.9)}[kind]
        for _try in range(10):  # place it inside the room and away from the camera
            x0, z0 = rng.uniform(0.05, max(0.06, W - w - 0.05)), rng.uniform(0.05, max(0.06, D - d - 0.05))
            if kind == "cabinet" and rng.random() < 0.7:  # against a wall
                z0 = D - d - 0.02 if rng.random() < 0.5 else z0
                x0 = 0.02 if rng.random() < 0.5 else W - w - 0.02
            near_x = x0 - 0.6 < cam[0] < x0 + w + 0.6
            near_z = z0 - 0.6 < cam[2] < z0 + d + 0.6
            if not (near_x and near_z):
                break
        else:
            continue
        color = _hsv(rng, (0.02, 0.14), (0.2, 0.7), (0.3, 0.85)) if rng.random() < 0.6 else \
            _hsv(rng, (0.0, 1.0), (0.1, 0.6), (0.3, 0.9))
        gr = np.array([rng.uniform(8, 30), rng.uniform(0.5, 3), rng.uniform(8, 30)], np.float32)
        legs = kind == "table" or (kind != "bed" and rng.random() < 0.3)
        if legs:  # a slab on four legs: the floor shows underneath
            t, lw = (0.05 if kind == "table" else 0.3 * h), 0.06
            add([x0, h - t, z0], [x0 + w, h, z0 + d], 2, color, gr)
            for lx, lz in ((x0, z0), (x0 + w - lw, z0), (x0, z0 + d - lw), (x0 + w - lw, z0 + d - lw)):
                add([lx, 0.0, lz], [lx + lw, h - t, lz + lw], 2, color * 0.8, gr)
        else:
            add([x0, 0.0, z0], [x0 + w, h, z0 + d], 2, color, gr)
        tops.append((x0, x0 + w, z0, z0 + d, h))
    for _ in range(rng.integers(2, 7)):
        s = rng.uniform(0.1, 0.35, size=3)
        s[1] = rng.uniform(0.08, 0.45)
        if tops and rng.random() < 0.5:
            x0, x1, z0, z1, y = tops[rng.integers(len(tops))]
            px, pz = rng.uniform(x0, max(x0, x1 - s[0])), rng.uniform(z0, max(z0, z1 - s[2]))
        else:
            y = 0.0
            px, pz = rng.uniform(0.05, W - s[0] - 0.05), rng.uniform(0.05, D - s[2] - 0.05)
            if abs(px - cam[0]) < 0.4 and abs(pz - cam[2]) < 0.4:
                continue
        add([px, y, pz], [px + s[0], y + s[1], pz + s[2]], 3, _hsv(rng, (0, 1), (0.5, 0.95), (0.5, 1.0)),
            np.zeros(3, np.float32))
    # Room surfaces: floor (wood or tiles), ceiling (white-ish), walls (one paint per room, slight variation).
    colors[_FLOOR] = _hsv(rng, (0.03, 0.12), (0.2, 0.6), (0.25, 0.7)) if rng.random() < 0.7 else \
        _hsv(rng, (0, 1), (0.0, 0.3), (0.3, 0.8))
    colors[_CEILING] = _hsv(rng, (0, 1), (0.0, 0.08), (0.8, 0.95))
    wall = _hsv(rng, (0, 1), (0.05, 0.4), (0.55, 0.95))
    for j in range(2, 6):
        colors[j] = np.clip(wall * rng.uniform(0.9, 1.1), 0, 1)
    grain[_FLOOR] = [rng.uniform(2.5, 6.0), 13.0, rng.uniform(0.3, 0.6)]  # planks per metre, grain, tile size
    grain[2:6] = rng.uniform(1.0, 3.0, size=(4, 3))
    light = np.array([rng.uniform(0.2, 0.8) * W, H - 0.05, rng.uniform(0.3, 0.9) * D], np.float32)
    return {"room": np.array([W, H, D], np.float32), "cam": cam, "yaw": yaw, "pitch": pitch, "fov": fov,
            "lo": lo, "hi": hi, "box_label": label, "colors": colors, "grain": grain,
            "floor_tiles": bool(rng.random() < 0.4), "light": light, "reach": 1.0, "noise": int(rng.integers(2**31))}


def scale_room(room: dict, s: float) -> dict:
    """The same room ``s`` times larger: walls, furniture, camera and light scaled about the origin, textures
    stretched with the surfaces, and a light ``s``² times as strong (its fall-off distance ``reach`` scaled).

    Rendered, it gives exactly the same picture with every depth multiplied by ``s``: one image does not
    determine the scale of the world (the slide's "Motivation", and why the loss is scale invariant).

    Lecture: 05_depth
    """
    s = check_number(s, "s", low=0.0, low_open=True, unit="a scale factor")
    out = dict(room)
    for key in ("room", "cam", "lo", "hi", "light"):
        out[key] = room[key] * np.float32(s)
    grain = room["grain"] / np.float32(s)  # spatial frequencies shrink as the surfaces grow
    grain[_FLOOR, 2] = room["grain"][_FLOOR, 2] * s  # ... except the floor's tile size, a length
    out["grain"], out["reach"] = grain, room["reach"] * s
    return out


def camera_rotation(yaw: torch.Tensor, pitch: torch.Tensor) -> torch.Tensor:
    """Camera-to-world rotations Tensor[B, 3, 3] from yaw and pitch Tensor[B] (radians).

    Columns are the camera axes in world coordinates (world: x right, y up, z forward at yaw 0): right
    ``r = (cos ψ, 0, −sin ψ)``, forward ``f = (sin ψ cos θ, sin θ, cos ψ cos θ)`` and down ``r × f``, so the camera
    frame is x right, y down, z forward (OpenCV's convention, and NYU's).

    Lecture: 05_depth
    """
    cy, sy, cp, sp = torch.cos(yaw), torch.sin(yaw), torch.cos(pitch), torch.sin(pitch)
    right = torch.stack([cy, torch.zeros_like(cy), -sy], -1)  # (B, 3)
    fwd = torch.stack([sy * cp, sp, cy * cp], -1)  # (B, 3)
    down = torch.linalg.cross(right, fwd)  # (B, 3)
    return torch.stack([right, down, fwd], -1)  # (B, 3, 3): columns r, down, f


def pixel_rays(H: int, W: int, fov: torch.Tensor) -> torch.Tensor:
    """Camera-frame rays through pixel centres, scaled so that their z is 1: Tensor[B, H*W, 3].

    With focal length ``f = (W / 2) / tan(fov / 2)`` (pixels) and principal point at the image centre, pixel
    (u, v) looks along ``((u + ½ − W/2) / f, (v + ½ − H/2) / f, 1)``; a hit at parameter t along it has depth t.

    Lecture: 05_depth
    """
    f = (W / 2) / torch.tan(fov / 2)  # (B,)
    v, u = torch.meshgrid(torch.arange(H, device=fov.device, dtype=fov.dtype),
                          torch.arange(W, device=fov.device, dtype=fov.dtype), indexing="ij")  # (H, W)
    x = (u.reshape(-1) + 0.5 - W / 2)[None] / f[:, None]  # (B, P)
    y = (v.reshape(-1) + 0.5 - H / 2)[None] / f[:, None]  # (B, P)
    return torch.stack([x, y, torch.ones_like(x)], -1)  # (B, P, 3)


def _stack(rooms: list[dict], key: str, device, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.stack([r[key] for r in rooms]), device=device, dtype=dtype)


def render_rooms(rooms: list[dict], H: int, W: int, *, device: torch.device | str = "cpu") -> dict:
    """Ray-cast a list of rooms from :func:`sample_room` at H × W pixels, all at once.

    Returns
    -------
    dict of tensors on ``device``
        ``rgb`` Tensor[B, 3, H, W] in [0, 1]; ``depth`` Tensor[B, 1, H, W] metres; ``normals`` Tensor[B, 3, H, W]
        unit, camera frame; ``labels`` Tensor[B, H, W] int64 (0-3, 255); ``valid`` Tensor[B, 1, H, W] bool.

    Lecture: 05_depth
    """
    if not isinstance(rooms, (list, tuple)) or not rooms:
        raise ValueError(f"rooms must be a non-empty list of sample_room() dicts, but found {rooms!r:.60}")
    check_positive_int(H, "H")
    check_positive_int(W, "W")
    device = resolve_device(device)
    B, P = len(rooms), H * W
    # the slab test holds a few (B, P, K, 3) float tensors at once
    check_memory(4.0 * 8 * B * P * MAX_BOXES * 3, f"ray-casting {B} rooms at {H} × {W} pixels",
                 "render fewer rooms at once (SyntheticRooms' chunk) or smaller images")
    f32 = dict(device=device, dtype=torch.float32)
    size = _stack(rooms, "room", device)  # (B, 3): W, H, D
    cam = _stack(rooms, "cam", device)  # (B, 3)
    yaw, pitch = (torch.tensor([r[key] for r in rooms], **f32) for key in ("yaw", "pitch"))  # (B,) each
    R = camera_rotation(yaw, pitch)  # (B, 3, 3) camera → world
    rays = pixel_rays(H, W, torch.tensor([r["fov"] for r in rooms], **f32))  # (B, P, 3) camera frame
    d = torch.einsum("bij,bpj->bpi", R, rays)  # (B, P, 3) world frame, depth = ray parameter t
    o = cam[:, None, :]  # (B, 1, 3)
    safe = torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)  # avoid 0-division; sign kept
    # 1. The room's inside: the ray exits through the nearest of the three far planes.
    far = torch.where(safe > 0, size[:, None, :], torch.zeros_like(safe))  # (B, P, 3)
    t_axes = (far - o) / safe  # (B, P, 3): t at which each axis leaves the room
    t, axis = t_axes.min(-1)  # (B, P)
    pos = torch.gather(safe, 2, axis[..., None])[..., 0] > 0  # exits through the high plane of that axis?
    # surface id: x → walls 2 (x=0) / 3 (x=W); y → floor 0 / ceiling 1; z → walls 4 (z=0) / 5 (z=D)
    surf = torch.where(axis == 1, pos.long(), torch.where(axis == 0, 2 + pos.long(), 4 + pos.long()))  # (B, P)
    n_axis, n_sign = axis, torch.where(pos, -1.0, 1.0)  # room normals point inwards
    # 2. Boxes: slab test of every ray against every box, (B, P, K, 3).
    lo, hi = _stack(rooms, "lo", device), _stack(rooms, "hi", device)  # (B, MAX_BOXES, 3)
    used = int((lo[..., 0] <= hi[..., 0]).sum(1).max()) if B else 0  # boxes fill slots 0.. in order
    lo, hi = lo[:, :max(used, 1)], hi[:, :max(used, 1)]  # (B, K, 3): skip slots empty in every room
    inv = 1.0 / safe[:, :, None, :]  # (B, P, 1, 3)
    t1 = (lo[:, None] - o[:, :, None]) * inv  # (B, P, K, 3)
    t2 = (hi[:, None] - o[:, :, None]) * inv
    t_near, near_axis = torch.minimum(t1, t2).max(-1)  # (B, P, K): entry time and the axis of the entry face
    t_far = torch.maximum(t1, t2).min(-1).values  # (B, P, K)
    hit = (t_near <= t_far) & (t_near > 1e-4) & (lo[:, None, :, 0] <= hi[:, None, :, 0])  # empty slots never hit
    t_box = torch.where(hit, t_near, torch.full_like(t_near, math.inf))
    t_b, k = t_box.min(-1)  # (B, P): nearest box
    box_first = t_b < t
    t = torch.where(box_first, t_b, t)
    b_axis = torch.gather(near_axis, 2, k[..., None])[..., 0]  # (B, P)
    b_sign = -torch.sign(torch.gather(safe, 2, b_axis[..., None])[..., 0])  # normal faces the ray's origin
    n_axis = torch.where(box_first, b_axis, n_axis)
    n_sign = torch.where(box_first, b_sign, n_sign)
    surf = torch.where(box_first, 6 + k, surf)
    # 3. Geometry outputs: depth, normals in the camera frame, labels.
    n_world = torch.zeros(B, P, 3, **f32).scatter_(2, n_axis[..., None], n_sign[..., None])  # (B, P, 3)
    n_cam = torch.einsum("bji,bpj->bpi", R, n_world)  # (B, P, 3): Rᵀ n
    box_label = _stack(rooms, "box_label", device, torch.long)  # (B, K)
    room_label = torch.where(surf == _FLOOR, 0, 1)
    labels = torch.where(box_first, torch.gather(box_label, 1, k), room_label)  # (B, P)
    cos = (n_cam * rays).sum(-1) / rays.norm(dim=-1)  # (B, P): cos between normal and viewing ray, < 0
    valid = (cos.abs() >= GRAZING) & (t <= MAX_DEPTH)
    labels = torch.where(cos.abs() >= GRAZING, labels, IGNORE_INDEX)
    # 4. Appearance: procedural texture × Lambertian shading from a point light.
    p = o + t[..., None] * d  # (B, P, 3) world hit points
    colors, grain = _stack(rooms, "colors", device), _stack(rooms, "grain", device)  # (B, S, 3)
    base = torch.gather(colors, 1, surf[..., None].expand(B, P, 3))  # (B, P, 3)
    g = torch.gather(grain, 1, surf[..., None].expand(B, P, 3))  # (B, P, 3)
    tex = _texture(p, surf, g, torch.tensor([r["floor_tiles"] for r in rooms], device=device))  # (B, P)
    light = _stack(rooms, "light", device)[:, None]  # (B, 1, 3)
    to_light = light - p
    dist2 = (to_light**2).sum(-1)
    lambert = ((n_world * to_light).sum(-1) / dist2.sqrt()).clamp_min(0)  # (B, P)
    reach2 = torch.tensor([r.get("reach", 1.0) for r in rooms], **f32)[:, None] ** 2  # (B, 1)
    shade = 0.3 + 0.9 * lambert / (1 + 0.04 * dist2 / reach2)  # fall-off with distance (in units of reach)
    rgb = (base * (tex * shade)[..., None]).clamp(0, 1)  # (B, P, 3)
    noise = torch.stack([torch.randn(P, 3, generator=torch.Generator().manual_seed(r["noise"])) for r in rooms])
    rgb = (rgb + 0.01 * noise.to(device)).clamp(0, 1)
    return {
        "rgb": rgb.permute(0, 2, 1).reshape(B, 3, H, W),
        "depth": t.reshape(B, 1, H, W),
        "normals": n_cam.permute(0, 2, 1).reshape(B, 3, H, W),
        "labels": labels.reshape(B, H, W).long(),
        "valid": valid.reshape(B, 1, H, W),
    }


def _texture(p: torch.Tensor, surf: torch.Tensor, g: torch.Tensor, tiles: torch.Tensor) -> torch.Tensor:
    """Brightness multiplier per hit point, Tensor[B, P] around 1: planks or tiles on the floor, faint paint
    variation on walls and ceiling, wood grain on furniture, none on props (``g`` = 0)."""
    x, y, z = p.unbind(-1)  # (B, P) each
    plank = torch.floor(x * g[..., 0])  # plank index across x
    planks = 0.85 + 0.1 * torch.frac(plank * 0.618) + 0.05 * torch.sin(z * g[..., 1] + plank * 2.0)
    tile = torch.floor(x / g[..., 2].clamp_min(0.1)) + torch.floor(z / g[..., 2].clamp_min(0.1))
    tiles_v = 0.85 + 0.15 * torch.remainder(tile, 2.0)
    edge = (torch.frac(x / g[..., 2].clamp_min(0.1)) < 0.04) | (torch.frac(z / g[..., 2].clamp_min(0.1)) < 0.04)
    tiles_v = torch.where(edge, 0.6, tiles_v)
    floor = torch.where(tiles[:, None], tiles_v, planks)
    paint = 1.0 + 0.04 * torch.sin(g[..., 0] * x + g[..., 1] * y) * torch.sin(g[..., 2] * z + g[..., 0] * y)
    wood = 1.0 + 0.08 * torch.sin(g[..., 0] * x + g[..., 1] * y + g[..., 2] * z)
    out = torch.where(surf == _FLOOR, floor, torch.where(surf < 6, paint, wood))
    return out


class SyntheticRooms(torch.utils.data.Dataset):
    """Synthetic indoor rooms with RGB, depth, normals, 4-class labels and a validity mask, held in memory.

    Parameters
    ----------
    split : {"train", "test"}
        Disjoint room seeds (see :func:`room_seed_sequence`).
    n : int
        Number of rooms.
    size : int
        Image width in pixels; the height is ``3 * size // 4`` (NYU's 4:3). A multiple of 16 (the net's scale 1
        downsamples by 16).
    seed : int
        Base seed; the same (split, n, size, seed) always gives the same rooms.
    device : str or torch.device
        Where to ray-cast (the tensors are returned on the CPU).

    Items are dicts: ``rgb`` Tensor[3, H, W] float in [0, 1]; ``depth`` Tensor[1, H, W] metres; ``normals``
    Tensor[3, H, W] unit vectors, camera frame (x right, y down, z forward); ``labels`` Tensor[H, W] int64 in
    {0 floor, 1 structure, 2 furniture, 3 prop, 255 ignore}; ``valid`` Tensor[1, H, W] bool. The whole set is
    also available as attributes ``rgb``, ``depth``, ``normals``, ``labels``, ``valid`` (stacked along dim 0).

    Examples
    --------
    >>> rooms = SyntheticRooms("train", n=4, size=32)
    >>> rooms[0]["depth"].shape
    torch.Size([1, 24, 32])

    Lecture: 05_depth
    """

    classes = CLASSES
    num_classes = len(CLASSES)

    def __init__(self, split: str = "train", n: int = 256, size: int = 64, seed: int = 0, *,
                 device: torch.device | str = "cpu", chunk: int = 32):
        check_choice(split, "split", SPLITS)
        check_positive_int(n, "n")
        check_positive_int(size, "size")
        check_positive_int(chunk, "chunk")
        if size % 16:
            raise ValueError(f"size must be a multiple of 16, but found {size}")
        # held in memory: rgb, depth, normals (float32), labels (int64), valid (bool) per pixel
        check_memory(n * size * (3 * size // 4) * (4 * 7 + 8 + 1), f"SyntheticRooms(n={n}, size={size})",
                     "use fewer rooms (n) or a smaller size")
        device = resolve_device(device)
        self.split, self.n, self.size, self.seed = split, n, size, check_seed(seed)
        self.H, self.W = 3 * size // 4, size
        self.params = [sample_room(np.random.default_rng(room_seed_sequence(seed, split, i))) for i in range(n)]
        parts = [render_rooms(self.params[s:s + chunk], self.H, self.W, device=device) for s in range(0, n, chunk)]
        for key in ("rgb", "depth", "normals", "labels", "valid"):
            setattr(self, key, torch.cat([p[key] for p in parts]).cpu())

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {"rgb": self.rgb[i], "depth": self.depth[i], "normals": self.normals[i], "labels": self.labels[i],
                "valid": self.valid[i]}

    def __repr__(self) -> str:
        return f"SyntheticRooms(split={self.split!r}, n={self.n}, size={self.size}, seed={self.seed})"

