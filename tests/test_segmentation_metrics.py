"""Confusion matrix and the four FCN scores, on hand-made examples and against a slow loop."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.segmentation import (
    boundary_accuracy,
    boundary_band,
    confusion_matrix,
    confusion_matrix_loop,
    segmentation_scores,
)


def test_confusion_matrix_rows_truth_columns_prediction_and_ignore():
    target = torch.tensor([[0, 0, 1], [2, 255, 1]])
    pred = torch.tensor([[0, 1, 1], [1, 2, 1]])  # the prediction under 255 does not count
    hist = confusion_matrix(pred, target, 3)
    want = torch.tensor([[1, 1, 0], [0, 2, 0], [0, 1, 0]])
    torch.testing.assert_close(hist, want)
    assert hist.sum() == 5


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_confusion_matrix_matches_loop(K, n, seed):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, K, (n,), generator=g)
    target[torch.rand(n, generator=g) < 0.2] = 255
    pred = torch.randint(0, K, (n,), generator=g)
    torch.testing.assert_close(confusion_matrix(pred, target, K), confusion_matrix_loop(pred, target, K))


def numpy_scores(hist):
    """The FCN repository's score.py, transcribed in numpy."""
    hist = np.asarray(hist, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.diag(hist).sum() / hist.sum()
        acc_cls = np.nanmean(np.diag(hist) / hist.sum(1))
        iu = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist))
        mean_iu = np.nanmean(iu)
        freq = hist.sum(1) / hist.sum()
        fwavacc = (freq[freq > 0] * iu[freq > 0]).sum()
    return acc, acc_cls, mean_iu, fwavacc, iu


def test_scores_on_a_hand_made_matrix():
    hist = torch.tensor([[50, 10, 0], [5, 35, 0], [0, 0, 0]])  # class 2 absent from the truth, never predicted
    s = segmentation_scores(hist)
    assert s["pixel_acc"] == pytest.approx(85 / 100)
    assert s["mean_acc"] == pytest.approx((50 / 60 + 35 / 40) / 2)  # class 2: 0/0 = NaN, skipped
    iu0, iu1 = 50 / (60 + 55 - 50), 35 / (40 + 45 - 35)
    assert s["mean_iou"] == pytest.approx((iu0 + iu1) / 2)
    assert s["fw_iou"] == pytest.approx(0.6 * iu0 + 0.4 * iu1)
    assert math.isnan(s["per_class_iou"][2])


def test_absent_class_that_is_predicted_counts_as_zero_iou():
    hist = torch.tensor([[8, 2], [0, 0]])  # class 1 never true, predicted twice
    s = segmentation_scores(hist)
    assert s["per_class_iou"][1] == 0.0
    assert s["mean_iou"] == pytest.approx((0.8 + 0.0) / 2)
    assert s["mean_acc"] == pytest.approx(0.8)  # accuracy of class 1 is 0/0: NaN, skipped by nanmean


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=16, max_size=16))
def test_scores_match_fcn_score_py(values):
    hist = torch.tensor(values).view(4, 4)
    if hist.sum() == 0:
        return
    s = segmentation_scores(hist)
    acc, acc_cls, mean_iu, fw, iu = numpy_scores(hist.numpy())
    for got, want in ((s["pixel_acc"], acc), (s["mean_acc"], acc_cls), (s["mean_iou"], mean_iu),
                      (s["fw_iou"], fw)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
    np.testing.assert_allclose(np.array(s["per_class_iou"]), iu)


def test_perfect_prediction_scores_one():
    target = torch.randint(0, 4, (2, 8, 8), generator=torch.Generator().manual_seed(0))
    s = segmentation_scores(confusion_matrix(target.clone(), target, 4))
    for key in ("pixel_acc", "mean_acc", "mean_iou", "fw_iou"):
        assert s[key] == pytest.approx(1.0)


def test_labels_out_of_range_raise():
    with pytest.raises(ValueError, match=r"target labels must be in \[0, 2\] or ignore_index=255; found \[3\]"):
        confusion_matrix(torch.zeros(4, dtype=torch.long), torch.tensor([0, 1, 3, 255]), 3)
    with pytest.raises(ValueError, match="pred labels"):
        confusion_matrix(torch.tensor([0, 5]), torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long), 3)
    with pytest.raises(TypeError, match="integer dtype"):
        confusion_matrix(torch.zeros(3), torch.zeros(3, dtype=torch.long), 3)
    with pytest.raises(ValueError, match=r"hist must be \(K, K\)"):
        segmentation_scores(torch.zeros(3, dtype=torch.long))


def test_boundary_band_and_accuracy():
    target = torch.zeros(1, 12, 12, dtype=torch.long)
    target[:, :, 6:] = 1  # one vertical edge between columns 5 and 6
    band = boundary_band(target, width=2)
    assert band[0, 0].tolist() == [False] * 3 + [True] * 6 + [False] * 3  # columns 3..8 are within 2 px
    pred = target.clone()
    pred[:, :, 6] = 0  # wrong at the edge only
    correct, total = boundary_accuracy(pred, target, width=2)
    assert (correct, total) == (12 * 6 - 12, 12 * 6)
    target[:, :, 0] = 255
    assert not boundary_band(target, width=1)[0, :, 0].any()  # ignored pixels never count
