"""Trusted checks of lecture 07 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded (with the slow loop
versions beside them). The notebook's ``bins`` and training-set ``prior`` are not answer cells: the checks pass
the paper's 313 bins and a normalised stand-in prior as arguments.
"""

import torch

import course_lib
from course_lib.colorization.bins import ab_bins
from course_lib.colorization.decode import annealed_mean
from course_lib.colorization.encoding import soft_encode
from course_lib.colorization.lab import rgb_to_lab
from course_lib.colorization.rebalance import rebalance_weights
from course_lib.grading.checker import expect_close as _close

# Several references per test cell: the keys beyond the grade_id only name them (the checker withholds the values).
REFERENCES = {
    "test_soft_encode": "course_lib.colorization.encoding:soft_encode",
    "test_soft_encode, loop": "course_lib.colorization.encoding:soft_encode_loop",
    "test_rebalance": "course_lib.colorization.rebalance:rebalance_weights",
    "test_annealed_mean": "course_lib.colorization.decode:annealed_mean",
    "test_annealed_mean, direct": "course_lib.colorization.decode:annealed_mean_direct",
}


def check_soft_encode(student):
    f = student.function("soft_encode")
    bins = ab_bins()  # (313, 2), the paper's bins (the notebook's `bins`)
    z = f(torch.zeros(1, 2, 1, 1), bins, k=5, sigma=5.0)
    assert type(z) is torch.Tensor and z.shape == (1, 313, 1, 1), f"ab = (0, 0): expected (1, 313, 1, 1), got {z!r}"
    _close(z[0, 120, 0, 0], torch.tensor(0.6488), "ab = (0, 0), k = 5, sigma = 5: the weight of the centre bin",
           atol=1e-4, rtol=0)
    _close(z.sum(dim=1), torch.ones(1, 1, 1), "the weights of a pixel must sum to 1")
    g = torch.Generator().manual_seed(11)
    ab = rgb_to_lab(torch.rand(2, 3, 3, 4, generator=g))[:, 1:]
    for k, sigma in [(5, 5.0), (10, 5.0), (3, 8.0)]:
        _close(f(ab, bins, k=k, sigma=sigma), soft_encode(ab, bins, k=k, sigma=sigma),
               f"random colours, k = {k}, sigma = {sigma}", atol=1e-4, rtol=0)


def check_rebalance(student):
    f = student.function("rebalance_weights")
    _close(f(torch.tensor([0.5, 0.3, 0.2]), lam=0.5), torch.tensor([0.8283, 1.0899, 1.2943]),
           "prior (0.5, 0.3, 0.2), lam = 0.5", atol=1e-4, rtol=0)
    # The notebook's prior comes from its training set; any normalised prior over the 313 bins serves this test.
    prior = torch.softmax(3 * torch.randn(313, generator=torch.Generator().manual_seed(0)), dim=0)
    lam = course_lib.settings("colorization")["lam"]
    weights = f(prior, lam=lam)
    assert type(weights) is torch.Tensor, f"expected a tensor, got {weights!r}"
    _close((prior * weights).sum(), torch.tensor(1.0), f"a prior over 313 bins, lam = {lam}: sum(prior * w) must be 1")
    g = torch.Generator().manual_seed(12)
    p = torch.rand(20, generator=g, dtype=torch.float64)
    p = p / p.sum()
    for lam in (0.1, 0.5, 0.9, 1.0):
        _close(f(p, lam=lam), rebalance_weights(p, lam=lam), f"a random float64 prior over 20 bins, lam = {lam}")


def check_annealed_mean(student):
    f = student.function("annealed_mean")
    two_bins = torch.tensor([[-50.0, 0.0], [50.0, 0.0]])
    p2 = torch.tensor([0.6, 0.4]).view(1, 2, 1, 1)
    _close(f(p2, two_bins, T=1.0), torch.tensor([-10.0, 0.0]).view(1, 2, 1, 1), "two bins (0.6, 0.4), T = 1: the mean")
    _close(f(p2, two_bins, T=0.01), torch.tensor([-50.0, 0.0]).view(1, 2, 1, 1), "T = 0.01: close to the mode",
           atol=1e-3, rtol=0)
    bins = ab_bins()
    g = torch.Generator().manual_seed(13)
    p = torch.softmax(torch.randn(2, 313, 3, 3, generator=g) * 3, dim=1)
    for T in (1.0, 0.38, 0.1):
        _close(f(p, bins, T=T), annealed_mean(p, bins, T=T), f"random distributions over the 313 bins, T = {T}",
               atol=1e-3, rtol=1e-4)


CHECKS = {"test_soft_encode": check_soft_encode, "test_rebalance": check_rebalance,
          "test_annealed_mean": check_annealed_mean}
