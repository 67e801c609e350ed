"""Trusted checks of lecture 02 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded. The toy body of
the star-belief test is rebuilt here (the notebook's ``toy_body`` is not an answer cell, so the answer server
never defines it).
"""

import torch

from course_lib.core.keypoints import gaussian_heatmaps
from course_lib.grading.checker import expect_close as _close
from course_lib.pose.bp import bp_message
from course_lib.pose.convbp import chain_star_edges, conv_message, offset_potentials, star_belief, star_marginals

REFERENCES = {
    "test_bp_message": "course_lib.pose.bp:bp_message",
    "test_star_belief": "course_lib.pose.convbp:star_belief",
    "test_conv_message": "course_lib.pose.convbp:conv_message",
}


def check_bp_message(student):
    f = student.function("my_bp_message")
    _close(f(torch.tensor([1.0, 0.0]), torch.ones(2), torch.tensor([[0.9, 0.1], [0.1, 0.9]])),
           torch.tensor([0.9, 0.1]), "x_j surely in state 0, Psi prefers equal states 9:1")
    g = torch.Generator().manual_seed(0)
    u, inc, psi = torch.rand(5, generator=g), torch.rand(5, generator=g), torch.rand(5, 5, generator=g)
    _close(f(u, inc, psi), bp_message(u, inc, psi), "random 5-state unary, incoming and pairwise")
    for seed in range(3):
        g = torch.Generator().manual_seed(100 + seed)
        u, inc = torch.rand(7, generator=g, dtype=torch.float64), torch.rand(7, generator=g, dtype=torch.float64)
        psi = torch.rand(7, 7, generator=g, dtype=torch.float64)
        got = f(u, inc, psi)
        _close(got, bp_message(u, inc, psi), f"random 7-state float64 inputs (seed {100 + seed})")
        _close(got.sum(), torch.tensor(1.0, dtype=torch.float64), "the message must sum to one")
    _close(f(torch.tensor([1.0, 0.0]), torch.ones(2), torch.tensor([[0.0, 1.0], [1.0, 0.0]])),
           torch.tensor([0.0, 1.0]), "Psi forces x_i != x_j (pairwise[a, b] = Psi(x_j = a, x_i = b))")


def toy_body(size, sigma=1.0):
    """The notebook's toy unaries and pairwise potentials (4 joints on a size x size grid)."""
    s = size / 12
    truth = torch.tensor([[3.0, 1.5], [5.0, 4.5], [7.0, 7.0], [8.0, 10.0]]) * s
    distractor = torch.tensor([[2.0, 10.0]]) * s
    pairwise = offset_potentials(size, size, (truth[1:] - truth[:-1]).tolist(), sigma=sigma * s)  # (3, N, N)
    bumps = gaussian_heatmaps(torch.cat([truth, distractor])[None], size, stride=1, sigma=0.8 * s)[0].double()
    unary = 0.02 + 0.6 * bumps[:4]
    unary[3] += 1.0 * bumps[4]
    return unary.reshape(4, -1), pairwise


def check_star_belief(student):
    f = student.function("my_star_belief")
    psi = torch.tensor([[[0.2, 0.8], [0.2, 0.8]], [[0.5, 0.5], [0.0, 1.0]]])
    _close(f(torch.ones(2), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), psi), torch.tensor([0.0, 1.0]),
           "two sources that both prefer state 1 for f, a flat unary")
    unary, pairwise = toy_body(12)
    edges, star_pw = chain_star_edges(pairwise)
    _close(f(unary[3], unary[[2]], star_pw[[4]]), star_marginals(unary, star_pw, edges)[3],
           "the notebook's toy body (12 x 12): the wrist's belief from the elbow")
    for seed in range(3):
        g = torch.Generator().manual_seed(200 + seed)
        u, src = torch.rand(6, generator=g, dtype=torch.float64), torch.rand(3, 6, generator=g, dtype=torch.float64)
        psi = torch.rand(3, 6, 6, generator=g, dtype=torch.float64)
        _close(f(u, src, psi), star_belief(u, src, psi), f"3 random float64 sources of 6 states (seed {200 + seed})")
    _close(f(torch.ones(2), torch.tensor([[1.0, 0.0]]), torch.tensor([[[0.0, 1.0], [0.0, 1.0]]])),
           torch.tensor([0.0, 1.0]), "orientation: pairwise[i][x_i, f]")


def check_conv_message(student):
    f = student.function("my_conv_message")
    phi = torch.zeros(5, 5)
    phi[2, 1] = 1.0  # source at (x, y) = (1, 2)
    kernel = torch.zeros(3, 3)
    kernel[1, 2] = 1.0  # the target lies one cell to the right of the source
    expected = torch.full((5, 5), 0.5)
    expected[2, 2] = 1.5
    _close(f(phi, kernel, 0.5), expected, "a source at (1, 2), the target one cell to its right, background 0.5")
    for seed in range(3):
        g = torch.Generator().manual_seed(300 + seed)
        phi = torch.rand(9, 8, generator=g, dtype=torch.float64)
        kern = torch.rand(5, 5, generator=g, dtype=torch.float64)
        _close(f(phi, kern, 0.1), conv_message(phi, kern, 0.1),
               f"random float64 9x8 unary, 5x5 kernel (seed {300 + seed})")
    kernel = torch.zeros(3, 3)
    kernel[0, 1] = 1.0  # the target lies one cell above: checks the flip in y too
    phi = torch.zeros(4, 4)
    phi[2, 2] = 1.0
    out = f(phi, kernel)
    assert type(out) is torch.Tensor and out.shape == (4, 4), f"expected Tensor[4, 4], got {out!r}"
    _close(out[1, 2], torch.tensor(1.0), "the target one cell above the source (the kernel flipped in y too)")


CHECKS = {"test_bp_message": check_bp_message, "test_star_belief": check_star_belief,
          "test_conv_message": check_conv_message}
