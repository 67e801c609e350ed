"""A plain multi-layer perceptron on patches: Burger, Schuler, Harmeling, "Image denoising: Can plain neural
networks compete with BM3D?" (CVPR 2012).

The net maps a noisy P × P patch (flattened) to a clean P × P patch through fully connected tanh layers. To
denoise a whole image, every overlapping patch (at a ``stride``) is denoised on its own and the overlapping
outputs are averaged pixel by pixel:

    x̂(p) = (1 / |{patches ∋ p}|) · Σ_{patches ∋ p} MLP(patch)(p).

``extract_patches`` and ``average_patches`` do this with ``F.unfold`` / ``F.fold``: ``fold`` *sums* the values
that land on each pixel, so the sum is divided by ``fold`` of a patch of ones (the number of patches covering
each pixel). ``average_patches_loop`` is the slow, obviously correct version the test compares against.

The paper's best MLP has 4 hidden layers of 2047 units on 17 × 17 (later 39 × 39) patches, trained for about a
month on a GPU on 362 million patches. Ours is much smaller and trained minutes on a CPU; the lecture reports
where that leaves it relative to non-local means and BM3D.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_model_input, check_positive_int, check_tensor


def _pad_to_grid(x: torch.Tensor, patch: int, stride: int) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad bottom/right so that patches at ``stride`` tile the image to its last row and column."""
    H, W = x.shape[-2:]
    ph = (-(H - patch)) % stride
    pw = (-(W - patch)) % stride
    mode = "reflect" if ph < H and pw < W else "replicate"
    return (F.pad(x, (0, pw, 0, ph), mode=mode) if ph or pw else x), ph, pw


def _check_grid(size: tuple[int, int], patch: int, stride: int, name: str) -> None:
    """Windows of ``patch`` at ``stride`` must fit in ``size`` = (H, W), tile it to its last row and column, and
    overlap or touch (a stride above the patch leaves pixels no window covers: their average is 0/0 = NaN)."""
    check_positive_int(patch, "patch")
    check_positive_int(stride, "stride")
    if stride > patch:
        raise ValueError(f"stride must be ≤ patch ({patch}) so that every pixel is covered, but found {stride}")
    H, W = size
    if patch > min(H, W):
        raise ValueError(f"patch {patch} is larger than the {name} ({H} × {W})")
    if (H - patch) % stride or (W - patch) % stride:
        raise ValueError(f"windows of patch {patch} at stride {stride} do not tile the {name} ({H} × {W}) to its "
                         f"last row and column: (H − patch) and (W − patch) must be multiples of the stride")


def extract_patches(x: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    """All ``patch × patch`` windows of ``x`` at ``stride``: Tensor[N, C, H, W] → Tensor[N, L, C·patch²],
    L = number of windows (row-major). The image must satisfy (H − patch) % stride == 0 (same for W), and
    stride ≤ patch.

    Lecture: 06_restoration
    """
    check_tensor(x, "x", dims="N C H W", dtype="float", nonempty=True)
    _check_grid(tuple(x.shape[-2:]), patch, stride, "image x")
    cols = F.unfold(x, kernel_size=patch, stride=stride)  # (N, C·P², L)
    return cols.transpose(1, 2)  # (N, L, C·P²)


def average_patches(patches: torch.Tensor, size: tuple[int, int], patch: int, stride: int) -> torch.Tensor:
    """Put patches back in place and average where they overlap: Tensor[N, L, C·patch²] → Tensor[N, C, H, W].

    ``fold`` adds up overlapping values; dividing by ``fold`` of ones (how many patches cover each pixel) turns
    the sum into the mean. On the patches of a clean image this returns the image exactly.

    Lecture: 06_restoration
    """
    check_tensor(patches, "patches", dims="N L D", dtype="float", nonempty=True)
    if not (isinstance(size, (tuple, list, torch.Size)) and len(size) == 2):
        raise ValueError(f"size must be (H, W), but found {size!r}")
    _check_grid(tuple(size), patch, stride, "output size")
    H, W = size
    L = ((H - patch) // stride + 1) * ((W - patch) // stride + 1)
    if patches.shape[1] != L or patches.shape[2] % (patch * patch):
        raise ValueError(f"patches must be (N, {L}, C·{patch}²) for {H} × {W} at stride {stride}; got "
                         f"{tuple(patches.shape)}")
    cols = patches.transpose(1, 2)  # (N, C·P², L)
    summed = F.fold(cols, output_size=size, kernel_size=patch, stride=stride)  # (N, C, H, W)
    ones = torch.ones_like(cols[:1, :patch * patch])  # (1, P², L): one channel is enough for the counts
    count = F.fold(ones, output_size=size, kernel_size=patch, stride=stride)  # (1, 1, H, W)
    return summed / count


def average_patches_loop(patches: torch.Tensor, size: tuple[int, int], patch: int, stride: int) -> torch.Tensor:
    """The slow reference of :func:`average_patches`: explicit loops over window positions."""
    N, L, D = patches.shape
    H, W = size
    C = D // (patch * patch)
    total = torch.zeros(N, C, H, W, dtype=patches.dtype)
    count = torch.zeros(1, 1, H, W, dtype=patches.dtype)
    positions = [(i, j) for i in range(0, H - patch + 1, stride) for j in range(0, W - patch + 1, stride)]
    assert len(positions) == L, f"{L} patches for {len(positions)} positions"
    for l, (i, j) in enumerate(positions):
        total[:, :, i:i + patch, j:j + patch] += patches[:, l].reshape(N, C, patch, patch)
        count[:, :, i:i + patch, j:j + patch] += 1
    return total / count


class PatchMLP(nn.Module):
    """Burger et al.'s denoiser: a noisy ``patch × patch`` patch in, a clean one out.

    Parameters
    ----------
    patch : int
        Side P of the patches (odd or even), input and output.
    hidden : int
        Units per hidden layer.
    layers : int
        Number of hidden layers (tanh).
    channels : int
        Image channels.

    Shapes: ``forward``: Tensor[N, C, P, P] → Tensor[N, C, P, P]; ``denoise``: Tensor[N, C, H, W] → same,
    clipped to [0, 1]. Inputs are centred as in the paper ((y − 0.5)/0.2) inside ``forward``.

    Lecture: 06_restoration
    """

    def __init__(self, *, patch: int = 13, hidden: int = 512, layers: int = 2, channels: int = 1):
        super().__init__()
        self.patch = check_positive_int(patch, "patch")
        self.hidden = check_positive_int(hidden, "hidden")
        self.layers = check_positive_int(layers, "layers")
        self.channels = check_positive_int(channels, "channels")
        D = channels * patch * patch
        dims = [D] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.Tanh()]
        blocks.append(nn.Linear(hidden, D))
        self.mlp = nn.Sequential(*blocks)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Denoise patches: Tensor[N, C, P, P] → Tensor[N, C, P, P] (not clipped)."""
        P, C = self.patch, self.channels
        # noisy images overshoot [0, 1] (σ = 50: ±5σ is ±1, and a photo has millions of pixels); 0..255 does not pass
        check_model_input(y, "y", self, dims="N C P P", shape=(None, C, P, P), min_value=-2.0, max_value=3.0)
        N = y.shape[0]
        out = self.mlp(((y - 0.5) / 0.2).reshape(N, C * P * P))  # (N, C·P²)
        return out.reshape(N, C, P, P) * 0.2 + 0.5

    @torch.no_grad()
    def denoise(self, y: torch.Tensor, *, stride: int = 3, batch_size: int = 4096) -> torch.Tensor:
        """Denoise whole images patch by patch and average the overlaps: Tensor[N, C, H, W] → Tensor[N, C, H, W]
        in [0, 1], on y's device. ``stride`` (1 to ``patch``) 1 is the most accurate and 9× slower than 3 (the
        paper's choice).

        Lecture: 06_restoration
        """
        check_tensor(y, "y", dims="N C H W", shape=(None, self.channels, None, None), dtype="float", finite=True,
                     nonempty=True)
        check_positive_int(stride, "stride")
        check_positive_int(batch_size, "batch_size")
        N, C, H, W = y.shape
        P = self.patch
        if stride > P:
            raise ValueError(f"stride must be ≤ the patch size {P} so that every pixel is covered, but found {stride}")
        if min(H, W) < P:
            raise ValueError(f"y must be at least {P} × {P} pixels (the patch size); got {tuple(y.shape)}")
        self.eval()
        device = next(self.parameters()).device
        yp, _, _ = _pad_to_grid(y.to(device), P, stride)  # (N, C, H', W')
        cols = extract_patches(yp, P, stride)  # (N, L, C·P²)
        L = cols.shape[1]
        flat = cols.reshape(N * L, C, P, P)
        out = torch.cat([self(chunk) for chunk in flat.split(batch_size)])  # (N·L, C, P, P)
        img = average_patches(out.reshape(N, L, C * P * P), tuple(yp.shape[-2:]), P, stride)  # (N, C, H', W')
        return img[..., :H, :W].clamp(0, 1).to(y.device)

    def extra_repr(self) -> str:
        return f"patch={self.patch}, hidden={self.hidden}, layers={self.layers}, channels={self.channels}"
