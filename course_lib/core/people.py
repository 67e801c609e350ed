"""Synthetic upper-body people with FLIC's joints: the data of every lecture that finds joints in images.

Tompson et al. (NIPS 2014, CVPR 2015) train and test on FLIC (Sapp & Taskar, CVPR 2013): movie frames of upper
bodies, 10 annotated joints of which the papers use face, shoulders, elbows, wrists (and the hips for the torso
size). Each joint's training target is a heat map (:func:`course_lib.core.keypoints.gaussian_heatmaps`): a small
Gaussian centred on the joint, at the network's output resolution.

Deviation: FLIC is 5,003 real photographs and needs a download (its reader lives with the lecture that uses it).
So that every lecture runs offline in a minute, :class:`SyntheticPose` draws people instead: a trapezoid torso,
capsule arms, a skin-coloured head and hands, random proportions, clothing colours and body postures, on
cluttered textured
backgrounds with hand- and face-like distractors (skin-coloured blobs: the detector's favourite mistakes) and
occluders. It is much easier than FLIC, but it fails the same "stupid" way the slides show.

Coordinates are ``(x, y)`` in input pixels with integer values at pixel centres: pixel ``image[:, i, j]``
is at ``(x, y) = (j, i)`` (heat-map cells: see :mod:`course_lib.core.keypoints`).

"The person's left" follows FLIC: a person facing the camera has the left shoulder ``lsho`` on the image's
right.

It moved into core when lecture 03 got its own package: lectures 01-03 all draw their people here.

Lecture: 01, 02, 03 (the people the joint finders see)
"""

from __future__ import annotations

import numpy as np
import torch

from .checks import check_choice, check_positive_int, check_seed
from .datacache import cached_tensors
from .keypoints import gaussian_heatmaps

JOINTS = ("face", "lsho", "lelb", "lwri", "rsho", "relb", "rwri", "lhip", "rhip")
"""FLIC's upper-body joints in the order the course uses; J = 9."""

CACHE_PIXELS = 32 * 64 * 64
"""Splits of at least this many pixels (32 images of 64 × 64, a quarter of a second to draw) are cached on disk
(:mod:`course_lib.core.datacache`); smaller ones are drawn each time."""

EDGES = ((0, 1), (0, 4), (1, 2), (2, 3), (4, 5), (5, 6), (1, 7), (4, 8))
"""The kinematic tree as pairs of indices into ``JOINTS``: face–shoulders, shoulder–elbow, elbow–wrist,
shoulder–hip."""

SPLITS = {"train": 0, "test": 1, "val": 2}  # split -> code mixed into every seed: the streams never meet


# --------------------------------------------------------------------------------------------------------------
# Drawing: soft-edged shapes on a pixel grid (coverage in [0, 1] gives one pixel of anti-aliasing).


def _segment_distance(xx, yy, p0, p1):
    """Distance from every pixel centre to the segment p0-p1: (H, W)."""
    d = np.subtract(p1, p0)
    t = ((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / max(float(d @ d), 1e-6)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(xx - (p0[0] + t * d[0]), yy - (p0[1] + t * d[1]))


def _capsule(xx, yy, p0, p1, r):
    return np.clip(r - _segment_distance(xx, yy, p0, p1) + 0.5, 0.0, 1.0)


def _ellipse(xx, yy, c, rx, ry, angle=0.0):
    ca, sa = np.cos(angle), np.sin(angle)
    u = ((xx - c[0]) * ca + (yy - c[1]) * sa) / rx
    v = (-(xx - c[0]) * sa + (yy - c[1]) * ca) / ry
    # Signed distance to the ellipse, approximated in units of its smaller radius.
    return np.clip((1.0 - np.sqrt(u * u + v * v)) * min(rx, ry) + 0.5, 0.0, 1.0)


def _convex_polygon(xx, yy, pts):
    """Coverage of a convex polygon given counter-clockwise or clockwise corners (P, 2)."""
    pts = np.asarray(pts, dtype=np.float64)
    area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    sign = 1.0 if area > 0 else -1.0
    inside = np.full(xx.shape, np.inf)
    for a, b in zip(pts, np.roll(pts, -1, axis=0)):
        e = b - a
        n = sign * np.array([-e[1], e[0]]) / max(np.hypot(*e), 1e-6)  # inward normal
        inside = np.minimum(inside, (xx - a[0]) * n[0] + (yy - a[1]) * n[1])
    return np.clip(inside + 0.5, 0.0, 1.0)


def _paint(canvas, alpha, colour):
    """Alpha-blend a colour (3,) or a texture (H, W, 3) into canvas (H, W, 3) in place."""
    a = alpha[..., None]
    canvas *= 1.0 - a
    canvas += a * colour


def _texture(rng, xx, yy, base, size):
    """A random texture (H, W, 3) around colour ``base``: flat, stripes, checks or smooth noise."""
    kind = rng.integers(4)
    other = np.clip(base + rng.normal(0, 0.25, 3), 0, 1)
    if kind == 0:
        return np.broadcast_to(base, xx.shape + (3,)).copy()
    if kind == 1:  # stripes at a random angle and period
        th, period = rng.uniform(0, np.pi), rng.uniform(3, 10)
        m = (np.sin(2 * np.pi * (xx * np.cos(th) + yy * np.sin(th)) / period) > 0).astype(np.float64)
    elif kind == 2:  # checks
        p = rng.uniform(3, 9)
        m = ((np.floor(xx / p) + np.floor(yy / p)) % 2).astype(np.float64)
    else:  # smooth noise: a coarse random grid, bilinearly upsampled
        g = rng.uniform(0, 1, (6, 6))
        gx, gy = xx / (size - 1) * 5, yy / (size - 1) * 5
        x0, y0 = np.clip(np.floor(gx).astype(int), 0, 4), np.clip(np.floor(gy).astype(int), 0, 4)
        fx, fy = gx - x0, gy - y0
        m = (g[y0, x0] * (1 - fx) * (1 - fy) + g[y0, x0 + 1] * fx * (1 - fy)
             + g[y0 + 1, x0] * (1 - fx) * fy + g[y0 + 1, x0 + 1] * fx * fy)
    return base * (1 - m[..., None]) + other * m[..., None]


def _skin(rng):
    """A skin tone between dark and light, with a little jitter: (3,) RGB in [0, 1]."""
    t = rng.uniform()
    light, dark = np.array([0.96, 0.80, 0.68]), np.array([0.38, 0.24, 0.16])
    return np.clip(dark + t * (light - dark) + rng.normal(0, 0.03, 3), 0, 1)


def _draw_head(canvas, xx, yy, centre, r, skin, hair):
    """Face: a skin ellipse, a hair cap, two dark eyes."""
    _paint(canvas, _ellipse(xx, yy, centre, 0.85 * r, r), skin)
    cap = _ellipse(xx, yy, (centre[0], centre[1] - 0.45 * r), 0.9 * r, 0.65 * r) * (yy < centre[1] - 0.25 * r)
    _paint(canvas, cap, hair)
    for side in (-1, 1):
        _paint(canvas, _ellipse(xx, yy, (centre[0] + side * 0.35 * r, centre[1]), 0.12 * r + 0.3, 0.12 * r + 0.3),
               np.array([0.1, 0.08, 0.08]))


def _draw_hand(canvas, xx, yy, wrist, direction, r, skin):
    """Hand: a skin blob just beyond the wrist, along the forearm's ``direction`` (unit vector)."""
    c = np.asarray(wrist) + direction * 1.1 * r
    _paint(canvas, _ellipse(xx, yy, c, 1.2 * r, 0.9 * r, np.arctan2(direction[1], direction[0])), skin)


def _sample_body(rng, size):
    """Joint positions (J, 2) and the body measurements used to draw them."""
    for _ in range(50):
        T = rng.uniform(0.28, 0.42) * size  # torso height: neck to hips, pixels
        lean = rng.normal(0, np.deg2rad(8))
        down = np.array([np.sin(lean), np.cos(lean)])  # unit vector down the torso
        right = np.array([down[1], -down[0]])  # unit vector to the image's right
        neck = np.array([rng.uniform(0.3, 0.7) * size, rng.uniform(0.25, 0.45) * size])
        sw, hw = rng.uniform(0.55, 0.8) * T, rng.uniform(0.4, 0.6) * T
        lsho, rsho = neck + 0.5 * sw * right, neck - 0.5 * sw * right
        hips = neck + T * down
        lhip, rhip = hips + 0.5 * hw * right, hips - 0.5 * hw * right
        face = neck - rng.uniform(0.38, 0.48) * T * down + rng.normal(0, 0.04) * T * right
        ua, fa = rng.uniform(0.45, 0.62) * T, rng.uniform(0.4, 0.55) * T
        arms = []
        for side, sho in ((1, lsho), (-1, rsho)):
            # Angles from "straight down", positive = away from the body; the forearm bends further out or up.
            a1 = rng.uniform(np.deg2rad(-35), np.deg2rad(165))
            a2 = a1 + rng.uniform(np.deg2rad(-150), np.deg2rad(60))
            d1 = np.cos(a1) * down + side * np.sin(a1) * right
            d2 = np.cos(a2) * down + side * np.sin(a2) * right
            elb = sho + ua * d1
            arms.append((elb, elb + fa * d2))
        (lelb, lwri), (relb, rwri) = arms
        joints = np.stack([face, lsho, lelb, lwri, rsho, relb, rwri, lhip, rhip])  # (J, 2)
        if joints.min() >= 2 and joints.max() <= size - 3:
            break
    body = {"T": T, "down": down, "right": right, "neck": neck, "sw": sw, "hw": hw, "head_r": 0.2 * T}
    return joints, body


class SyntheticPose(torch.utils.data.Dataset):
    """Synthetic upper-body people with FLIC's 9 joints, generated deterministically from a seed.

    Every sample is drawn from its own random stream ``(seed, split, scene, frame)``; ``split`` enters every
    stream, so train and test never share a scene (the lesson of the slides' "FLIC-plus": FLIC's test frames
    had near-duplicates in its training set). A scene fixes the background, the distractors and the person's
    clothes and proportions; with ``frames_per_scene > 1`` consecutive samples are frames of one scene in
    different postures, like a movie shot.

    Parameters
    ----------
    split : {"train", "test", "val"}
    n : int
        Number of samples.
    size : int
        Image side in pixels (square images); divisible by ``stride``.
    seed : int
        Seed of the whole split: same (split, n, size, seed) → the same tensors.
    stride : int
        Output stride of the heat maps (input pixels per heat-map cell), default 2 = ``PartDetector().stride``.
    sigma : float, optional
        Heat-map Gaussian standard deviation in input pixels; default ``stride`` (one output cell).
    frames_per_scene : int
        Consecutive samples that share a scene.
    distractors : bool
        Draw hand- and face-like skin blobs in the background.
    occlusion : float
        Probability that a foreground object hides part of the person; joints under it are not ``visible``.

    Items are dicts:

    - ``"image"``: Tensor[3, H, W] float32 in [0, 1]
    - ``"joints"``: Tensor[J, 2] float32, ``(x, y)`` in input pixels
    - ``"visible"``: Tensor[J] bool, False where an occluder hides the joint
    - ``"torso"``: Tensor[] float32, ``|lhip − rsho|`` in pixels (FLIC's normaliser)
    - ``"heatmaps"``: Tensor[J, H / stride, W / stride] float32 in [0, 1]

    Examples
    --------
    >>> ds = SyntheticPose("train", 4, 64, seed=0)
    >>> ds[0]["image"].shape, ds[0]["heatmaps"].shape
    (torch.Size([3, 64, 64]), torch.Size([9, 32, 32]))

    Lecture: 01, 02, 03
    """

    def __init__(self, split: str, n: int, size: int = 64, seed: int = 0, *, stride: int = 2,
                 sigma: float | None = None, frames_per_scene: int = 1, distractors: bool = True,
                 occlusion: float = 0.25):
        check_choice(split, "split", tuple(SPLITS))
        check_positive_int(n, "n")
        check_positive_int(size, "size")
        check_positive_int(stride, "stride")
        check_positive_int(frames_per_scene, "frames_per_scene")
        if size % stride:
            raise ValueError(f"size must be divisible by stride={stride}, but found size={size}")
        if size < 16:
            raise ValueError(f"size must be ≥ 16 pixels to draw a person, but found {size}")
        if not 0.0 <= occlusion <= 1.0:
            raise ValueError(f"occlusion must be a probability in [0, 1], but found {occlusion}")
        self.split, self.n, self.size, self.seed = split, n, size, check_seed(seed)
        self.stride, self.sigma = stride, float(stride if sigma is None else sigma)
        self.frames_per_scene, self.distractors, self.occlusion = frames_per_scene, distractors, occlusion
        # Drawn once per machine, then read from datasets/synthetic_people/cache/ (core.datacache): the heat maps'
        # stride and sigma are not part of it, they are made per item.
        key = {"split": split, "n": n, "size": size, "seed": self.seed, "frames_per_scene": frames_per_scene,
               "distractors": bool(distractors), "occlusion": float(occlusion), "numpy": np.__version__}
        drawn = (cached_tensors("synthetic_people", key, [__file__], self._draw, valid=self._valid)
                 if n * size * size >= CACHE_PIXELS else self._draw())
        self.images = drawn["images"]  # (n, 3, H, W) uint8: a quarter of the memory of float32
        self.joints = drawn["joints"]  # (n, J, 2)
        self.visible = drawn["visible"]  # (n, J)
        self.scenes = drawn["scenes"]  # (n,) scene fingerprints
        self.torso = (self.joints[:, JOINTS.index("lhip")] - self.joints[:, JOINTS.index("rsho")]).norm(dim=-1)

    def _draw(self) -> dict[str, torch.Tensor]:
        images, joints, visible, scenes = [], [], [], []
        for i in range(self.n):
            img, jts, vis = self.render(i)
            images.append(torch.from_numpy(np.round(img * 255).astype(np.uint8)).permute(2, 0, 1))  # (3, H, W)
            joints.append(torch.from_numpy(jts).float())
            visible.append(torch.from_numpy(vis))
            scenes.append(self.scene_id(i))
        return {"images": torch.stack(images), "joints": torch.stack(joints), "visible": torch.stack(visible),
                "scenes": torch.tensor(scenes, dtype=torch.int64)}

    def _valid(self, drawn: dict[str, torch.Tensor]) -> bool:
        """What a cache file must hold to stand for :meth:`_draw`'s tensors."""
        n, size, j = self.n, self.size, len(JOINTS)
        want = {"images": ((n, 3, size, size), torch.uint8), "joints": ((n, j, 2), torch.float32),
                "visible": ((n, j), torch.bool), "scenes": ((n,), torch.int64)}
        return set(drawn) == set(want) and all(
            tuple(drawn[k].shape) == shape and drawn[k].dtype == dtype for k, (shape, dtype) in want.items())

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        if not -self.n <= i < self.n:
            raise IndexError(f"index {i} out of range for a SyntheticPose of {self.n} samples")
        joints = self.joints[i]
        heatmaps = gaussian_heatmaps(joints[None], self.size, stride=self.stride, sigma=self.sigma)[0]
        return {"image": self.images[i].float() / 255.0, "joints": joints, "visible": self.visible[i],
                "torso": self.torso[i], "heatmaps": heatmaps}

    def _rng(self, scene: int, part: int) -> np.random.Generator:
        # One stream per (seed, split, scene, part): part 0 = scene, 1 = distractors, 2 + f = frame f.
        code = SPLITS[self.split]
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(code, scene, part)))

    def scene_id(self, i: int) -> int:
        """A 63-bit fingerprint of sample ``i``'s scene stream; equal fingerprints = the same scene."""
        code = SPLITS[self.split]
        scene = i // self.frames_per_scene
        state = np.random.SeedSequence(self.seed, spawn_key=(code, scene)).generate_state(1, np.uint64)
        return int(state[0] >> np.uint64(1))

    def render(self, i: int):
        """Draw sample ``i``: image (H, W, 3) float64 in [0, 1], joints (J, 2) float64, visible (J,) bool."""
        S = self.size
        scene, frame = divmod(i, self.frames_per_scene)
        srng = self._rng(scene, 0)  # the scene: background, clothes, proportions
        drng = self._rng(scene, 1)  # the distractors (their own stream: switching them off changes nothing else)
        frng = self._rng(scene, 2 + frame)  # the frame: posture, position, occluder, noise
        yy, xx = np.mgrid[0:S, 0:S].astype(np.float64)
        canvas = _texture(srng, xx, yy, srng.uniform(0, 1, 3), S)
        # Background clutter: rectangles and ellipses of random textures.
        for _ in range(srng.integers(2, 6)):
            c, r = srng.uniform(0, S, 2), srng.uniform(0.06, 0.3) * S
            shape = (_ellipse(xx, yy, c, r, srng.uniform(0.3, 1.0) * r, srng.uniform(0, np.pi))
                     if srng.uniform() < 0.5 else
                     _convex_polygon(xx, yy, [c + [-r, -r / 2], c + [r, -r / 2], c + [r, r / 2], c + [-r, r / 2]]))
            _paint(canvas, shape, _texture(srng, xx, yy, srng.uniform(0, 1, 3), S))
        # Distractors: skin blobs shaped like hands and faces, the detector's favourite mistakes.
        if self.distractors:
            for _ in range(drng.integers(1, 4)):
                c, r = drng.uniform(0.05, 0.95, 2) * S, drng.uniform(0.03, 0.07) * S
                if drng.uniform() < 0.5:
                    _draw_head(canvas, xx, yy, c, 1.6 * r, _skin(drng), drng.uniform(0, 0.4, 3))
                else:
                    ang = drng.uniform(0, 2 * np.pi)
                    d = np.array([np.cos(ang), np.sin(ang)])
                    _paint(canvas, _capsule(xx, yy, c - 2.5 * r * d, c, 0.6 * r), _skin(drng))  # a bare forearm
                    _draw_hand(canvas, xx, yy, c, d, r, _skin(drng))
        # The person.
        skin, hair = _skin(srng), srng.uniform(0, 0.45, 3) * srng.uniform(0.3, 1.0)
        shirt = _texture(srng, xx, yy, srng.uniform(0, 1, 3), S)
        sleeve_skin = srng.uniform() < 0.35  # short sleeves: bare forearms
        joints, body = _sample_body(frng, S)
        face, lsho, lelb, lwri, rsho, relb, rwri, lhip, rhip = joints
        T, right, neck = body["T"], body["right"], body["neck"]
        arm_r = 0.09 * T
        _paint(canvas, _capsule(xx, yy, neck, face, 0.12 * T), skin)  # neck
        torso = [lsho + 0.6 * arm_r * right, lhip + 0.3 * arm_r * right, rhip - 0.3 * arm_r * right,
                 rsho - 0.6 * arm_r * right]
        _paint(canvas, _convex_polygon(xx, yy, torso), shirt)
        _draw_head(canvas, xx, yy, face, body["head_r"], skin, hair)
        for sho, elb, wri in ((lsho, lelb, lwri), (rsho, relb, rwri)):
            _paint(canvas, _capsule(xx, yy, sho, elb, arm_r), shirt)
            _paint(canvas, _capsule(xx, yy, elb, wri, 0.85 * arm_r), skin if sleeve_skin else shirt)
            d = (wri - elb) / max(np.hypot(*(wri - elb)), 1e-6)
            _draw_hand(canvas, xx, yy, wri, d, 0.85 * arm_r, skin)
        # Occluder: a textured foreground object entering from an image border.
        visible = np.ones(len(JOINTS), dtype=bool)
        if frng.uniform() < self.occlusion:
            side, w = frng.integers(4), frng.uniform(0.15, 0.35) * S
            lo = frng.uniform(0, 0.6) * S
            hi = lo + frng.uniform(0.3, 0.6) * S
            box = {0: (0, w, lo, hi), 1: (S - w, S, lo, hi), 2: (lo, hi, 0, w), 3: (lo, hi, S - w, S)}[side]
            x0, x1, y0, y1 = box
            occ = _convex_polygon(xx, yy, [(x0 - 0.5, y0 - 0.5), (x1, y0 - 0.5), (x1, y1), (x0 - 0.5, y1)])
            _paint(canvas, occ, _texture(frng, xx, yy, frng.uniform(0, 1, 3), S))
            ij = np.clip(np.round(joints[:, ::-1]).astype(int), 0, S - 1)  # (J, 2) as (row, col)
            visible = occ[ij[:, 0], ij[:, 1]] < 0.5
        # Camera: brightness, contrast and sensor noise.
        canvas = (canvas - 0.5) * frng.uniform(0.7, 1.2) + 0.5 + frng.uniform(-0.1, 0.1)
        canvas = np.clip(canvas + frng.normal(0, 0.02, canvas.shape), 0, 1)
        return canvas, joints, visible
