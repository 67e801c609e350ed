"""The multi-scale network of Eigen & Fergus (ICCV 2015; the slides "Architecture"): one design that
predicts depth, surface normals and semantic labels from a single RGB image.

* **Scale 1, global.** Strided convolutions shrink the whole image to a few cells, then two fully connected
  layers see *all* of it at once and output a coarse feature map (the slide's 19×14 for a 320×240 input, about
  1/16). Only this scale knows where the floor, the walls and the vanishing point are.
* **Scale 2, mid resolution.** Convolutions on image features at 1/4 resolution (the slide's 75×55),
  concatenated with the upsampled scale-1 output, predict the map at 1/4 resolution.
* **Scale 3, refinement.** Convolutions on image features at 1/2 resolution, concatenated with the upsampled
  scale-2 prediction, refine it at 1/2 resolution.

Depth and normals share scale 1 and keep separate scales 2 and 3 (slide "Training": a 1.6× speed-up). Any
subset of scales can be switched off (``scales=(1, 2)``, ``(2,)``, ...), which is the slide's "Contributions of
Scales" ablation in one argument: without scale 1, scale 2 sees only local image features; without scale 2,
scale 3 refines the upsampled scale-1 prediction; the last active scale's prediction is the output.

Deviations, for a net that trains in minutes on a CPU on 64×48 images (all documented in the lecture):

* scale 1's coarse map is at 1/8 resolution (8×6 at 64×48; the paper's 1/16 would be 4×3 pixels) and its
  convolutions are a small plain stack trained from scratch, not ImageNet's AlexNet/VGG;
* the labels head shares scale 1 with depth and normals (the paper trains a separate network for labels), so one
  training run gives all three maps for each scale setting;
* all scales train jointly, end to end (the paper trains scales 1+2 first, then scale 3 with them fixed), and
  scale 3 predicts a correction added to its upsampled input rather than the map itself;
* batch normalisation after every convolution (not in the paper) so that a few epochs suffice.

Lecture: 05_depth
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_model_input, check_positive_int

TASKS = ("depth", "normals", "labels")
OUT_CHANNELS = {"depth": 1, "normals": 3, "labels": 4}
SCALES = (1, 2, 3)
MEAN_LOG_DEPTH = math.log(3.0)  # initial bias of the depth heads: rooms are a few metres deep


def conv_bn(c_in: int, c_out: int, *, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    """``kernel``×``kernel`` convolution (3 by default), batch norm, ReLU; ``stride=2`` halves H and W."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _head(c_in: int, task: str) -> nn.Conv2d:
    """The last convolution of a task: ``OUT_CHANNELS[task]`` maps; depth starts at log(3 m)."""
    head = nn.Conv2d(c_in, OUT_CHANNELS[task], 3, padding=1)
    if task == "depth":
        nn.init.zeros_(head.weight)
        nn.init.constant_(head.bias, MEAN_LOG_DEPTH)
    return head


class Scale1(nn.Module):
    """Global scale: strided convolutions (÷16, rounded up) then two fully connected layers → Tensor[B, C1, H/8, W/8].

    Every output cell depends on every input pixel (the fully connected layer), so the coarse map can encode
    the room's layout as a whole.
    """

    def __init__(self, image_size: tuple[int, int], *, width: int, fc_width: int, out_features: int):
        super().__init__()
        H, W = image_size
        self.coarse = (H // 8, W // 8)
        self.out_features = out_features
        self.convs = nn.Sequential(conv_bn(3, width, stride=2), conv_bn(width, 2 * width, stride=2),
                                   conv_bn(2 * width, 4 * width, stride=2), conv_bn(4 * width, 8 * width, stride=2))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(8 * width * -(-H // 16) * -(-W // 16), fc_width),
                                nn.ReLU(inplace=True),
                                nn.Linear(fc_width, out_features * self.coarse[0] * self.coarse[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tensor[B, 3, H, W] → Tensor[B, C1, H/8, W/8]."""
        B = x.shape[0]
        return F.relu(self.fc(self.convs(x))).view(B, self.out_features, *self.coarse)  # (B, C1, H/8, W/8)


class Scale2(nn.Module):
    """Mid scale: image features at 1/4 resolution (+ upsampled scale-1 features) → Tensor[B, out, H/4, W/4].

    Its window (receptive field) is 39×39 input pixels with ``kernel=3``; ``kernel=1`` makes the three body
    convolutions 1×1 and shrinks it to 15×15 (two 3×3 stride-2 convolutions: 7 pixels; the 3×3 head at 1/4
    resolution: + 8), the lecture's test of "scale 2 wins because it sees most of a small image".
    """

    def __init__(self, task: str, *, width: int, context: int, kernel: int = 3):
        super().__init__()
        if kernel not in (1, 3):
            raise ValueError(f"kernel must be 1 or 3, but found {kernel!r}")
        self.image = nn.Sequential(conv_bn(3, width, stride=2), conv_bn(width, 2 * width, stride=2))
        self.body = nn.Sequential(conv_bn(2 * width + context, 2 * width, kernel=kernel),
                                  conv_bn(2 * width, 2 * width, kernel=kernel),
                                  conv_bn(2 * width, 2 * width, kernel=kernel))
        self.head = _head(2 * width, task)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        f = self.image(x)  # (B, 2w, H/4, W/4)
        if context is not None:
            f = torch.cat([f, F.interpolate(context, size=f.shape[-2:], mode="bilinear", align_corners=False)], 1)
        return self.head(self.body(f))  # (B, out, H/4, W/4)


class Scale3(nn.Module):
    """Refinement scale: image features at 1/2 resolution + the upsampled previous prediction → a corrected
    prediction Tensor[B, out, H/2, W/2]."""

    def __init__(self, task: str, *, width: int, previous: bool):
        super().__init__()
        c = OUT_CHANNELS[task]
        self.image = conv_bn(3, width, stride=2)
        self.body = nn.Sequential(conv_bn(width + (c if previous else 0), width), conv_bn(width, width))
        self.head = _head(width, task)
        if previous:  # a correction: starts at zero, so scale 3 begins as the identity on its input
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
        f = self.image(x)  # (B, w, H/2, W/2)
        if previous is None:
            return self.head(self.body(f))
        prev = F.interpolate(previous, size=f.shape[-2:], mode="bilinear", align_corners=False)  # (B, c, H/2, W/2)
        return prev + self.head(self.body(torch.cat([f, prev], 1)))


class MultiScaleNet(nn.Module):
    """Eigen & Fergus's three-scale network for any subset of tasks and scales.

    Parameters
    ----------
    tasks : tuple of {"depth", "normals", "labels"}
        The maps to predict; all share scale 1, each has its own scales 2 and 3.
    scales : tuple of {1, 2, 3}
        The scales used (non-empty): ``(1,)``, ``(2,)``, ``(1, 2)``, ``(1, 2, 3)`` are the slide's ablation.
    image_size : (int, int)
        Input (H, W), multiples of 8, at least 16 (scale 1's fully connected layer fixes it).
    width : int
        Base channel width (scale 1 goes up to 8·width; scale 2 uses 2·width, scale 3 width).
    fc_width : int
        Hidden units of scale 1's fully connected layer.
    coarse : int
        Channels of scale 1's coarse output (C1).
    scale2_width : int, optional
        Base width of scale 2 (it uses 2·scale2_width channels); default ``width``. A wider scale 2 alone matches
        scale 1's parameter count (the lecture's parameter-matched control).
    scale2_kernel : {3, 1}
        Kernel of scale 2's body convolutions: 3 (a 39×39-pixel window) or 1 (15×15), see :class:`Scale2`.

    ``forward(x)`` takes Tensor[B, 3, H, W] (RGB in [0, 1]) and returns a dict with, for each task, at the input's
    resolution (the last scale's output, bilinearly upsampled): ``"depth"`` Tensor[B, 1, H, W] **log** depth
    (log metres), ``"normals"`` Tensor[B, 3, H, W] unit vectors (camera frame), ``"labels"`` Tensor[B, 4, H, W]
    logits. ``forward(x, per_scale=True)`` returns ``{task: {scale: raw output at that scale's resolution}}``
    (slide "Output from each scale"). Only the last scale's output is trained as a prediction: in a model with
    scale 2, scale 1's head is unused by the loss (its features feed scale 2), so compare scales across the
    nested models ``(1,)``, ``(1, 2)``, ``(1, 2, 3)`` rather than inside one.

    Lecture: 05_depth
    """

    def __init__(self, tasks: tuple[str, ...] = TASKS, scales: tuple[int, ...] = SCALES, *,
                 image_size: tuple[int, int] = (48, 64), width: int = 16, fc_width: int = 256,
                 coarse: int = 16, scale2_width: int | None = None, scale2_kernel: int = 3):
        super().__init__()
        tasks, scales = tuple(tasks), tuple(sorted(set(scales)))
        if not tasks or any(t not in TASKS for t in tasks) or len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must be distinct names from {TASKS}, but found {tasks}")
        if not scales or any(s not in SCALES for s in scales):
            raise ValueError(f"scales must be a non-empty subset of {SCALES}, but found {scales}")
        if not (isinstance(image_size, (tuple, list)) and len(image_size) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in image_size)):
            raise ValueError(f"image_size must be (H, W), two ints, but found {image_size!r}")
        scale2_width = width if scale2_width is None else scale2_width
        for value, name in ((width, "width"), (fc_width, "fc_width"), (coarse, "coarse"),
                            (scale2_width, "scale2_width")):
            check_positive_int(value, name)
        if scale2_kernel not in (1, 3):
            raise ValueError(f"scale2_kernel must be 1 or 3, but found {scale2_kernel!r}")
        H, W = image_size
        if H % 8 or W % 8 or H < 16 or W < 16:
            raise ValueError(f"image_size must be (H, W), multiples of 8 and at least 16, but found {image_size}")
        self.tasks, self.scales, self.image_size = tasks, scales, (H, W)
        self.width, self.fc_width, self.coarse = width, fc_width, coarse
        self.scale2_width, self.scale2_kernel = scale2_width, scale2_kernel
        if 1 in scales:
            self.scale1 = Scale1((H, W), width=width, fc_width=fc_width, out_features=coarse)
            self.scale1_heads = nn.ModuleDict({t: nn.Conv2d(coarse, OUT_CHANNELS[t], 1) for t in tasks})
            if "depth" in tasks:
                nn.init.constant_(self.scale1_heads["depth"].bias, MEAN_LOG_DEPTH)
        if 2 in scales:
            ctx = coarse if 1 in scales else 0
            self.scale2 = nn.ModuleDict({t: Scale2(t, width=scale2_width, context=ctx, kernel=scale2_kernel)
                                         for t in tasks})
        if 3 in scales:
            self.scale3 = nn.ModuleDict({t: Scale3(t, width=width, previous=len(scales) > 1) for t in tasks})

    def extra_repr(self) -> str:
        return (f"tasks={self.tasks}, scales={self.scales}, image_size={self.image_size}, width={self.width}, "
                f"fc_width={self.fc_width}, coarse={self.coarse}"
                + (f", scale2_width={self.scale2_width}" if self.scale2_width != self.width else "")
                + (f", scale2_kernel={self.scale2_kernel}" if self.scale2_kernel != 3 else ""))

    def forward(self, x: torch.Tensor, *, per_scale: bool = False) -> dict:
        check_model_input(x, "x", self, dims="B C H W", shape=(None, 3, *self.image_size), min_value=0.0, max_value=1.0)
        if x.shape[0] == 0:
            raise ValueError(f"x must not be empty (B, C, H, W); got {tuple(x.shape)}")
        H, W = self.image_size
        if self.training and 1 in self.scales and x.shape[0] * -(-H // 16) * -(-W // 16) == 1:
            raise ValueError(f"x is one image of {H} × {W} in training mode: scale 1's last batch norm sees a 1 × 1 "
                             f"map, and batch norm needs more than one value per channel; use a batch of ≥ 2 or "
                             f"model.eval()")
        outs: dict = {t: {} for t in self.tasks}
        f1 = self.scale1(x) if 1 in self.scales else None  # (B, C1, H/8, W/8)
        for t in self.tasks:
            prev = None
            if f1 is not None:
                prev = outs[t][1] = self.scale1_heads[t](f1)  # (B, c, H/8, W/8)
            if 2 in self.scales:
                prev = outs[t][2] = self.scale2[t](x, f1)  # (B, c, H/4, W/4)
            if 3 in self.scales:
                prev = outs[t][3] = self.scale3[t](x, prev)  # (B, c, H/2, W/2)
        if per_scale:
            return outs
        return {t: finish(t, outs[t][self.scales[-1]], self.image_size) for t in self.tasks}


def finish(task: str, raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A scale's raw output Tensor[B, c, h, w] → the task's output at ``size``: bilinear upsampling, then unit
    length for normals. Lecture: 05_depth"""
    out = F.interpolate(raw, size=size, mode="bilinear", align_corners=False) if raw.shape[-2:] != size else raw
    return F.normalize(out, dim=1, eps=1e-6) if task == "normals" else out

