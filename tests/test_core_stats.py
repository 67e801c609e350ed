"""course_lib.core.stats: paired intervals, against scipy and by simulation."""

import math

import pytest
import scipy.stats
import torch

from course_lib.core.stats import paired_bootstrap, paired_t_interval


def test_t_interval_matches_scipy():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(12, generator=g) + 0.3, torch.randn(12, generator=g)
    mean, low, high = paired_t_interval(a, b, level=0.9)
    d = (a.double() - b.double()).numpy()
    ref = scipy.stats.t.interval(0.9, len(d) - 1, loc=d.mean(), scale=scipy.stats.sem(d))
    assert mean == pytest.approx(d.mean()) and (low, high) == pytest.approx(ref)
    assert paired_t_interval([1.0], [0.0]) == (1.0, -math.inf, math.inf)


def test_bootstrap_is_deterministic_brackets_the_mean_and_narrows_with_n():
    g = torch.Generator().manual_seed(1)
    small = torch.randn(20, generator=g), torch.randn(20, generator=g)
    large = torch.randn(2000, generator=g), torch.randn(2000, generator=g)
    m, lo, hi = paired_bootstrap(*small)
    assert paired_bootstrap(*small) == (m, lo, hi)
    assert lo < m < hi
    _, lo2, hi2 = paired_bootstrap(*large)
    assert hi2 - lo2 < (hi - lo) / 3


def test_bootstrap_covers_the_true_mean_about_as_often_as_promised():
    g = torch.Generator().manual_seed(2)
    hits = 0
    for _ in range(200):
        a = torch.randn(40, generator=g) + 0.5
        _, lo, hi = paired_bootstrap(a, torch.zeros(40), n_boot=400)
        hits += lo <= 0.5 <= hi
    assert 0.88 <= hits / 200 <= 0.99, hits


def test_bad_inputs_name_the_value():
    with pytest.raises(ValueError, match=r"a and b must have the same shape; got \(3,\) and \(2,\)"):
        paired_bootstrap([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\), e.g. 0.95, but found 95"):
        paired_t_interval([1.0, 2.0], [0.0, 0.0], level=95)
    with pytest.raises(ValueError, match="a must be finite"):
        paired_bootstrap([float("nan"), 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="at least one paired value"):
        paired_t_interval([], [])
