"""Lecture 06_restoration: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("06_restoration", "ex_psnr", "test_psnr", {
        "uint8 arithmetic wraps around": """
def psnr_db(x, y, data_range=1.0):
    err = ((x - y).double() ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(data_range**2 / err)
""",
        "data range ignored": """
def psnr_db(x, y, data_range=1.0):
    err = ((x.double() - y.double()) ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(1.0 / err)
""",
    }),
    ("06_restoration", "ex_gaussian_kernel", "test_gaussian_kernel", {
        "not normalised": """
def gaussian_kernel(sigma, *, size):
    if size % 2 == 0:
        raise ValueError(f"size must be odd, but found {size}")
    r = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    return (g[:, None] * g[None, :]).float()
""",
        "even sizes accepted": """
def gaussian_kernel(sigma, *, size):
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]
    return (k / k.sum()).float()
""",
    }),
    ("06_restoration", "ex_average_patches", "test_average_patches", {
        "overlaps summed, not averaged": """
import torch.nn.functional as F

def average_patches(patches, size, patch, stride):
    return F.fold(patches.transpose(1, 2), output_size=size, kernel_size=patch, stride=stride)
""",
        "divided by the patch area, not the count": """
import torch.nn.functional as F

def average_patches(patches, size, patch, stride):
    summed = F.fold(patches.transpose(1, 2), output_size=size, kernel_size=patch, stride=stride)
    return summed / (patch * patch / stride**2)
""",
    }),
    ("06_restoration", "ex_residual_loss", "test_residual_loss", {
        "predicts the clean image": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - x) ** 2)
""",
        "noise sign flipped": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - (x - y)) ** 2)
""",
        "sum, not mean": """
def residual_loss(noise_net, y, x):
    return torch.sum((noise_net(y) - (y - x)) ** 2)
""",
        "cannot backpropagate (detached)": """
def residual_loss(noise_net, y, x):
    return torch.mean((noise_net(y) - (y - x)) ** 2).detach()
""",
        "a Python float": """
def residual_loss(noise_net, y, x):
    return float(torch.mean((noise_net(y) - (y - x)) ** 2))
""",
        "per-image squared norm, then the mean over images": """
def residual_loss(noise_net, y, x):
    return ((noise_net(y) - (y - x)) ** 2).sum(dim=(1, 2, 3)).mean()
""",
    }),
]

RIGHT = [
    # The specification names no dtype for the kernel: a correct kernel in float64 is right (issue 22).
    ("06_restoration", "ex_gaussian_kernel", "test_gaussian_kernel", {
        "float64 kernel": """
def gaussian_kernel(sigma, *, size):
    if size % 2 == 0:
        raise ValueError(f"size must be odd, but found {size}")
    r = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]
    return k / k.sum()
""",
    }),
]
