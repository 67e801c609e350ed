"""Trusted checks of lecture 03 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded. A
``torch.Generator`` cannot cross the channel: the generator argument of SpatialDropout is sent as
``Source("torch.Generator().manual_seed(s)")``, which the answer server evaluates on the student's side.
"""

import torch

from course_lib.grading.checker import Source
from course_lib.grading.checker import expect_close as _close
from course_lib.localization.cascade import cascade_loss
from course_lib.localization.crops import crop_to_image, image_to_crop

REFERENCES = {
    "test_spatial_dropout": "course_lib.localization.coarse:spatial_dropout_reference",
    "test_crop_to_image": "course_lib.localization.crops:crop_to_image",
    "test_cascade_loss": "course_lib.localization.cascade:cascade_loss",
}


def _generator(seed):
    return Source(f"torch.Generator().manual_seed({int(seed)})")


def check_spatial_dropout(student):
    f = student.function("my_spatial_dropout")
    x = torch.rand(16, 32, 4, 4, generator=torch.Generator().manual_seed(0)) + 0.5  # positive: 0 means dropped
    y = f(x, 0.25, _generator(0))
    assert type(y) is torch.Tensor and y.shape == x.shape, f"expected Tensor{list(x.shape)}, got {y!r}"
    dropped, kept = (y == 0).flatten(2).all(-1), (y != 0).flatten(2).all(-1)  # (B, C) whole channel zero / not
    assert bool((dropped | kept).all()), "every channel must be dropped entirely or kept entirely"
    _close(y[kept], x[kept] / 0.75, "p = 0.25: a kept channel is x / (1 - p)")
    assert 0.15 < float(dropped.float().mean()) < 0.35, (
        f"about p = 0.25 of the channels are dropped; got {float(dropped.float().mean()):.2f}")
    assert bool((dropped.any(1) & kept.any(1)).any()), (
        "one draw per channel: a sample keeps some channels, drops others")
    assert bool((dropped.any(0) & kept.any(0)).any()), "one draw per sample: a channel is dropped in some samples only"
    x = torch.rand(64, 64, 3, 3, generator=torch.Generator().manual_seed(1)) + 0.5
    for p in (0.0, 0.5, 0.8):
        y = f(x, p, _generator(1))
        assert type(y) is torch.Tensor and y.shape == x.shape, f"p = {p}: expected Tensor{list(x.shape)}, got {y!r}"
        kept = (y != 0).flatten(2).all(-1)
        assert bool(((y == 0).flatten(2).all(-1) | kept).all()), f"p = {p}: whole channels dropped or kept"
        _close(y[kept], x[kept] / (1 - p), f"p = {p}: a kept channel is x / (1 - p)")
        share = float(1 - kept.float().mean())
        assert abs(share - p) < 0.05, f"p = {p}: {share:.3f} of the 4096 channels dropped"
    _close(f(x, 0.0), x, "p = 0 and no generator: the input unchanged")
    y = f(x, 0.5, _generator(2))
    d, k = (y == 0).flatten(2).all(-1), (y != 0).flatten(2).all(-1)  # (B, C)
    assert bool((d.any(0) & k.any(0)).all()), "a mask of shape (1, C, 1, 1) is shared by the whole batch"
    assert bool((d.any(1) & k.any(1)).all()), "a mask of shape (B, 1, 1, 1) drops whole samples"


def check_crop_to_image(student):
    f = student.function("my_crop_to_image")
    c = torch.tensor([10.0, 20.0])
    _close(f(torch.tensor([5.5, 5.5]), c, crop=24, size=12), c, "the grid centre (5.5, 5.5) maps to the crop centre")
    _close(f(torch.tensor([0.0, 11.0]), c, crop=24, size=12), torch.tensor([-1.0, 31.0]),
           "the first and last samples sit half a spacing inside the crop")
    g = torch.Generator().manual_seed(4)
    uv, centres = torch.rand(5, 9, 2, generator=g) * 12, torch.rand(5, 9, 2, generator=g) * 64
    for crop, size in [(24, 12), (24, 24), (48, 12), (10, 5)]:
        got = f(uv, centres, crop=crop, size=size)
        why = f"random samples, crop={crop}, size={size}"
        _close(got, crop_to_image(uv, centres, crop=crop, size=size), why)
        _close(image_to_crop(got, centres, crop=crop, size=size), uv, why + ": image_to_crop must invert it")


def check_cascade_loss(student):
    h, g = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 6, 6)
    ht, gt = h.clone(), g.clone()
    ht[0, 0, 1, 1] = 1.0  # one coarse cell off by 1: E1 = 1 / 6
    gt[1, 2, 0, 0] = 2.0  # one fine cell off by 2: E_fine = 4 / 6
    for lam, want in ((0.5, 1 / 6 + 0.5 * 4 / 6), (0.0, 1 / 6)):
        got = student.call("my_cascade_loss", h, ht, g, gt, lam=lam)
        _close(got, torch.tensor(want), f"one coarse cell off by 1, one fine cell off by 2, lam={lam} (a 0-dim "
                                        "float32 tensor)")
    r = torch.Generator().manual_seed(5)
    a, b = torch.rand(3, 9, 8, 8, generator=r), torch.rand(3, 9, 8, 8, generator=r)
    c, d = torch.rand(3, 9, 12, 12, generator=r), torch.rand(3, 9, 12, 12, generator=r)
    for lam in (0.0, 1.0, 3.5):
        got, grads = student.call_with_grad("my_cascade_loss", [a, b, c, d], grad=[0, 2], lam=lam)
        _close(got, cascade_loss(a, b, c, d, lam=lam), f"random maps, lam={lam}")
        assert grads is not None, (f"lam={lam}: the loss must backpropagate to the predicted maps (a 0-dim tensor "
                                   "built from them with torch operations), or training cannot use it")
        coarse, fine = a.clone().requires_grad_(True), c.clone().requires_grad_(True)
        cascade_loss(coarse, b, fine, d, lam=lam).backward()
        _close(grads[0], coarse.grad, f"lam={lam}: the gradient reaching the coarse maps")
        _close(grads[1], fine.grad, f"lam={lam}: the gradient reaching the fine maps")


CHECKS = {"test_spatial_dropout": check_spatial_dropout, "test_crop_to_image": check_crop_to_image,
          "test_cascade_loss": check_cascade_loss}
