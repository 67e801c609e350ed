"""Trusted checks of lecture 06 (the test cells' visible tests and their former hidden tests), run by the grader's
checker (course_lib.grading.checker), never in the student's kernel and never released.

``student.call(name, ...)`` returns what the student's function returned, rebuilt as plain data; the references
are the grader's own course_lib, withheld on the student's side while this lecture is graded (with the slow loop
version of ``average_patches``). The notebook's ``clean`` crops are not an answer cell: the checks make their own
images. A fake net is sent as ``Source("lambda y: ...")``; a net that must know the clean image rebuilds it from
the same seeded generator as the check (``_X_SOURCE``), since only source code crosses to the student's side.

Decided here (issue 22):
* the residual loss is the mean over every element (N, C, H, W) of (f(y) - (y - x))^2, as
  ``course_lib.restoration.residual_loss`` computes and the test cell checks; it must backpropagate (its
  gradients with respect to y and x are compared with the reference's);
* a Gaussian kernel may come back in any floating dtype (the specification names none): values are compared in
  float64 to 1e-6, so a correct float64 kernel passes and a wrong one fails for its values;
* ``psnr_db`` returns float64, as its specification says.
"""

import torch

from course_lib.grading.checker import Source, StudentError
from course_lib.grading.checker import expect_close as _close
from course_lib.restoration.corruptions import add_gaussian_noise, gaussian_kernel
from course_lib.restoration.dncnn import residual_loss
from course_lib.restoration.metrics import psnr
from course_lib.restoration.patch_mlp import average_patches_loop, extract_patches

# Several references per test cell: the keys beyond the grade_id only name them (the checker withholds the values).
REFERENCES = {
    "test_psnr": "course_lib.restoration.metrics:psnr",
    "test_average_patches": "course_lib.restoration.patch_mlp:average_patches",
    "test_average_patches, loop": "course_lib.restoration.patch_mlp:average_patches_loop",
    "test_residual_loss": "course_lib.restoration.dncnn:residual_loss",
    "test_gaussian_kernel": "course_lib.restoration.corruptions:gaussian_kernel",
}


def check_psnr(student):
    from skimage.metrics import peak_signal_noise_ratio  # noqa: PLC0415 (the independent reference)

    f = student.function("psnr_db")
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 1, 16, 16, generator=g)
    b = (a + 0.05 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    mine = f(a, b)
    assert type(mine) is torch.Tensor and mine.shape == (2,), f"expected one value per image, shape (2,); got {mine!r}"
    want = torch.tensor([peak_signal_noise_ratio(a[i].numpy(), b[i].numpy(), data_range=1.0) for i in range(2)],
                        dtype=torch.float64)
    _close(mine, want, "two noisy 16x16 images against scikit-image (a float64 tensor of shape (N,))",
           atol=1e-4, rtol=0)
    same = f(a, a)
    assert type(same) is torch.Tensor and bool(torch.isinf(same).all()), f"identical images must give inf; got {same!r}"
    g = torch.Generator().manual_seed(7)
    x8 = torch.randint(0, 256, (3, 3, 8, 8), generator=g, dtype=torch.uint8)
    y8 = torch.randint(0, 256, (3, 3, 8, 8), generator=g, dtype=torch.uint8)
    _close(f(x8, y8, data_range=255), psnr(x8, y8, 255), "uint8 images, data_range=255 (no wrap-around)",
           atol=1e-4, rtol=0)
    _close(f(a * 255, b * 255, data_range=255), psnr(a, b), "the images times 255, data_range=255", atol=1e-4, rtol=0)
    _close(f(a, b, data_range=2.0), psnr(a, b, 2.0), "data_range=2", atol=1e-4, rtol=0)
    c4, d4 = torch.rand(4, 3, 5, 7, generator=g), torch.rand(4, 3, 5, 7, generator=g)
    _close(f(c4, d4), psnr(c4, d4), "4 random colour images of 5x7", atol=1e-4, rtol=0)


def check_average_patches(student):
    f = student.function("average_patches")
    img = torch.rand(2, 1, 31, 25, generator=torch.Generator().manual_seed(6))  # (31 - 7), (25 - 7): multiples of 3
    cols = extract_patches(img, 7, 3)  # (2, L, 49)
    back = f(cols, (31, 25), 7, 3)
    assert type(back) is torch.Tensor and back.shape == img.shape, f"expected {tuple(img.shape)}, got {back!r}"
    _close(back, img, "overlapping 7x7 patches (stride 3) of two 31x25 images put back")
    g = torch.Generator().manual_seed(3)
    for h, w, p, s, c in [(17, 23, 5, 2, 3), (16, 16, 4, 4, 1), (12, 20, 6, 1, 2)]:
        patches = torch.randn(2, ((h - p) // s + 1) * ((w - p) // s + 1), c * p * p, generator=g, dtype=torch.float64)
        _close(f(patches, (h, w), p, s), average_patches_loop(patches, (h, w), p, s),
               f"random float64 patches: size ({h}, {w}), patch {p}, stride {s}, {c} channels")


def _x_source(shape, seed, dtype):
    return f"torch.rand({tuple(shape)}, generator=torch.Generator().manual_seed({seed}), dtype=torch.{dtype})"


def check_residual_loss(student):
    shape = (2, 1, 32, 32)
    xa = torch.rand(shape, generator=torch.Generator().manual_seed(50), dtype=torch.float32)
    ya = add_gaussian_noise(xa, 25, generator=torch.Generator().manual_seed(5))
    oracle = Source(f"lambda y: y - {_x_source(shape, 50, 'float32')}")  # knows the true noise
    zero = Source("lambda y: torch.zeros_like(y)")  # predicts no noise: x_hat = y
    got = student.call("residual_loss", oracle, ya, xa)
    assert type(got) is torch.Tensor and got.shape == (), f"expected a 0-dim tensor, got {got!r}"
    assert float(got) < 1e-12, f"the oracle predicts the noise exactly: loss 0; got {float(got)}"
    _close(student.call("residual_loss", zero, ya, xa), torch.mean((ya - xa) ** 2),
           "a net predicting no noise: the mean over all N*C*H*W elements of (y - x)^2")
    shape = (3, 1, 16, 16)
    gh = torch.Generator().manual_seed(8)
    xh = torch.rand(shape, generator=gh, dtype=torch.float64)
    yh = xh + 25 / 255 * torch.randn(xh.shape, generator=gh, dtype=torch.float64)
    flipped = Source(f"lambda y: {_x_source(shape, 8, 'float64')} - y")
    wrong_sign, no_noise = (float(student.call("residual_loss", net, yh, xh)) for net in (flipped, zero))
    assert wrong_sign > 3 * no_noise, (
        f"sign of the residual: a net predicting x - y must cost more ({wrong_sign:.4g} vs {no_noise:.4g})")
    lin = "lambda y: 0.3 * y - 0.1"
    got, grads = student.call_with_grad("residual_loss", [Source(lin), yh, xh], grad=[1, 2])
    y, x = yh.clone().requires_grad_(True), xh.clone().requires_grad_(True)
    want = residual_loss(eval(lin, {"torch": torch}), y, x)  # noqa: S307 (the check's own source)
    want.backward()
    assert type(got) is torch.Tensor and got.shape == (), f"expected a 0-dim tensor, got {got!r}"
    _close(got.double(), want.detach(), "a linear net 0.3 y - 0.1 on float64 images")
    assert grads is not None, ("the loss must backpropagate (a 0-dim tensor built with torch operations, not a float "
                               "or a detached value), or the net cannot be trained with it")
    _close(grads[0].double(), y.grad, "the gradient reaching y (through the net and the true noise y - x)")
    _close(grads[1].double(), x.grad, "the gradient reaching x")


def check_gaussian_kernel(student):
    f = student.function("gaussian_kernel")
    k5 = f(1.0, size=5)
    assert type(k5) is torch.Tensor and k5.shape == (5, 5), f"expected a (5, 5) tensor, got {k5!r}"
    assert k5.dtype.is_floating_point, f"a blur kernel holds fractions: expected a floating dtype, got {k5.dtype}"
    k5 = k5.double()
    _close(k5.sum(), torch.tensor(1.0, dtype=torch.float64), "sigma = 1, size = 5: a blur kernel must sum to 1")
    _close(k5, k5.T, "sigma = 1, size = 5: the kernel must be symmetric")
    assert int(k5.argmax()) == 12, "the peak must be at the centre pixel"
    for sigma, size in [(1.0, 5), (2.5, 9), (5.0, 3), (0.7, 7)]:
        got = f(sigma, size=size)
        assert type(got) is torch.Tensor and got.dtype.is_floating_point, f"expected a floating tensor, got {got!r}"
        _close(got.double(), gaussian_kernel(sigma, size=size).double(), f"sigma = {sigma}, size = {size} (any "
               "floating dtype; values to 1e-6)", atol=1e-6, rtol=0)
    for bad in (4, 10):
        try:
            got = f(1.0, size=bad)
        except StudentError as exc:
            assert "raised ValueError" in str(exc), f"size={bad} must raise a ValueError; {exc}"
        else:
            raise AssertionError(f"size={bad} must raise a ValueError (an even kernel has no centre pixel)")


CHECKS = {"test_psnr": check_psnr, "test_average_patches": check_average_patches,
          "test_residual_loss": check_residual_loss, "test_gaussian_kernel": check_gaussian_kernel}
