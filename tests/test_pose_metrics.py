"""course_lib.pose.metrics: argmax decoding, PCK and the FLIC detection rate (lecture 01)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from course_lib.pose import (
    JOINTS,
    detection_rate,
    detection_rate_curve,
    gaussian_heatmaps,
    heatmap_argmax,
    pck,
    torso_size,
)


def test_argmax_hand_made():
    hm = torch.zeros(1, 2, 4, 5)
    hm[0, 0, 1, 3] = 1.0  # row v=1, column u=3
    hm[0, 1, 3, 0] = 2.0
    assert_close(heatmap_argmax(hm), torch.tensor([[[3.0, 1.0], [0.0, 3.0]]]))
    assert_close(heatmap_argmax(hm, stride=4), torch.tensor([[[13.5, 5.5], [1.5, 13.5]]]))


def test_subpixel_moves_towards_the_heavier_neighbour():
    hm = torch.zeros(1, 1, 5, 5)
    hm[0, 0, 2, 2], hm[0, 0, 2, 3], hm[0, 0, 2, 1] = 1.0, 0.5, 0.0  # parabola vertex at u = 2 + 1/6
    out = heatmap_argmax(hm, subpixel=True)
    assert_close(out, torch.tensor([[[2.0 + 1 / 6, 2.0]]]))
    edge = torch.zeros(1, 1, 3, 3)
    edge[0, 0, 0, 0], edge[0, 0, 0, 1] = 1.0, 0.5  # maximum on the border: no refinement across it
    assert_close(heatmap_argmax(edge, subpixel=True), torch.tensor([[[0.0, 0.0]]]))
    flat = torch.ones(1, 1, 3, 3)  # no curvature: stay on the integer maximum
    assert_close(heatmap_argmax(flat, subpixel=True), heatmap_argmax(flat))


@settings(max_examples=40, deadline=None)
@given(x=st.floats(8.0, 56.0), y=st.floats(8.0, 56.0), stride=st.sampled_from([1, 2, 4]))
def test_decoding_a_target_recovers_the_joint(x, y, stride):
    # Away from the border, where the maximum's cell has neighbours on both sides.
    coords = torch.tensor([[[x, y]]])
    hm = gaussian_heatmaps(coords, 64, stride=stride, sigma=float(stride))
    coarse = heatmap_argmax(hm, stride=stride)
    fine = heatmap_argmax(hm, stride=stride, subpixel=True)
    assert float((coarse - coords).abs().max()) <= stride / 2 + 1e-4
    assert float((fine - coords).abs().max()) <= 0.15 * stride + 1e-4


def test_pck_hand_made():
    target = torch.zeros(4, 2, 2)
    pred = torch.tensor([[[3.0, 4.0], [0, 0]], [[0, 1.0], [0, 9]], [[6, 8.0], [0, 0]], [[0, 2], [0, 2]]])
    # Distances joint 0: 5, 1, 10, 2; joint 1: 0, 9, 0, 2. Threshold 0.5 * 10 = 5 (inclusive).
    assert_close(pck(pred, target, 10.0, 0.5), torch.tensor([0.75, 0.75]))
    norm = torch.tensor([10.0, 1.0, 40.0, 1.0])  # thresholds 5, 0.5, 20, 0.5
    assert_close(pck(pred, target, norm, 0.5), torch.tensor([0.5, 0.5]))
    visible = torch.tensor([[True, False], [True, False], [False, False], [False, False]])
    out = pck(pred, target, 10.0, 0.5, visible)
    assert_close(out[0], torch.tensor(1.0))
    assert math.isnan(float(out[1]))  # never visible: undefined, not 0


def _torso_pose(b=3):
    g = torch.Generator().manual_seed(0)
    target = torch.rand(b, len(JOINTS), 2, generator=g) * 60
    return target, target + torch.randn(b, len(JOINTS), 2, generator=g) * 3


def test_detection_rate_against_a_loop():
    target, pred = _torso_pose(6)
    rate = detection_rate(pred, target, 10)
    for j in range(len(JOINTS)):
        hits = 0
        for b in range(6):
            torso = math.dist(target[b, JOINTS.index("lhip")].tolist(), target[b, JOINTS.index("rsho")].tolist())
            hits += math.dist(pred[b, j].tolist(), target[b, j].tolist()) / (torso / 100) <= 10
        assert abs(float(rate[j]) - 100 * hits / 6) < 1e-4
    assert_close(torso_size(target), (target[:, 7] - target[:, 4]).norm(dim=-1))


def test_curve_is_monotone_and_matches_detection_rate():
    target, pred = _torso_pose(50)
    radii, rates = detection_rate_curve(pred, target)
    assert radii.shape == (41,) and rates.shape == (41, len(JOINTS))
    assert bool((rates[1:] >= rates[:-1]).all())
    assert_close(rates[20], detection_rate(pred, target, 10.0))
    assert_close(rates[0], torch.zeros(len(JOINTS)))
    _, perfect = detection_rate_curve(target, target, radii=[0.0, 5.0])
    assert_close(perfect, torch.full((2, len(JOINTS)), 100.0))


def test_bad_inputs_say_what_came():
    with pytest.raises(ValueError, match=r"heatmaps must be \(B, J, H, W\); got \(2, 64, 64\)"):
        heatmap_argmax(torch.zeros(2, 64, 64))
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        pck(torch.zeros(2, 9, 2), torch.zeros(3, 9, 2), 1.0, 0.1)
    with pytest.raises(ValueError, match="alpha must be"):
        pck(torch.zeros(2, 9, 2), torch.zeros(2, 9, 2), 1.0, -0.1)
    with pytest.raises(ValueError, match=r"target must have shape \(B, 9, 2\)"):
        detection_rate(torch.zeros(2, 4, 2), torch.zeros(2, 4, 2), 10)
