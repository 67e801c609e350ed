"""The part detector: a fully convolutional, multi-resolution ConvNet that outputs one heat map per joint.

Tompson, Jain, LeCun, Bregler, "Joint Training of a Convolutional Network and a Graphical Model for Human Pose
Estimation", NIPS 2014, section 3 (figures 2-4 of the paper, "PART DETECTOR" in the slides):

- A sliding-window ConvNet is run efficiently as one fully convolutional net over the whole image (Sermanet et
  al.'s OverFeat trick): every output pixel is the detector's answer for the window centred there.
- Multi-resolution: the same kind of convolution bank sees the image at full and at half resolution, so each
  output has two overlapping receptive fields, a sharp small one and a coarse wide one (context: where is the
  rest of the arm?). The half-resolution bank's output is upsampled ×2 and added to the full-resolution one,
  then shared 9×9 and 1×1 convolutions turn the merged features into one heat map per joint.
- The "simplified model" of the slides keeps only the full-resolution bank: "performance is close to the full
  model", fast enough for the real-time demo.

Deviations, for 64×64 teaching images on a CPU: a single 2×2 pooling stage (output stride 2, the paper pools
twice for stride 4 on 320×240 images); widths of 16-64 channels instead of 128-512; no local contrast
normalisation of the input (the synthetic images have no lighting gradients worth removing); a 5×5 merge
convolution instead of 9×9 at stride 2, which covers a similar part of the image. Training uses the paper's
mean-squared error against Gaussian heat-map targets, weighted towards the joints
(:func:`course_lib.core.keypoints.heatmap_loss`, shared with lecture 03).

Lecture: 01_pose_detector
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.core import check_choice, check_model_input, check_positive_int
from course_lib.core.keypoints import heatmap_loss
from course_lib.core.modules import conv_relu

__all__ = ["Bank", "PartDetector", "heatmap_loss"]


class Bank(nn.Sequential):
    """One resolution bank: conv 5×5 + ReLU, ``pools`` × (2×2 max-pool), conv 5×5 + ReLU, conv 5×5 + ReLU.

    Input Tensor[B, 3, H, W] → Tensor[B, width, H / 2^pools, W / 2^pools].
    """

    def __init__(self, width: int, pools: int = 1):
        layers = [conv_relu(3, width, 5)]
        layers += [nn.MaxPool2d(2) for _ in range(pools)]
        layers += [conv_relu(width, width, 5), conv_relu(width, width, 5)]
        super().__init__(*layers)


class PartDetector(nn.Module):
    """Fully convolutional multi-resolution part detector: images in, one heat map per joint out.

    Parameters
    ----------
    joints : int
        Number of joints J (heat maps), 9 for the course's FLIC joints.
    width : int
        Channels of each convolution bank; the 1×1 layer has ``2 · width``.
    simple : bool
        ``True``: the slides' "simplified model", the full-resolution bank alone (about 20 % fewer operations and
        no half-resolution context). ``False``: full- and half-resolution banks merged.

    Attributes
    ----------
    stride : int
        Input pixels per output cell (2): an (H, W) image gives (H / 2, W / 2) heat maps; output cell ``(u, v)`` is
        centred at input pixel ``(2u + 0.5, 2v + 0.5)`` (see :mod:`course_lib.core.keypoints`).

    Examples
    --------
    >>> net = PartDetector(9, width=16)
    >>> net(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 9, 32, 32])

    Lecture: 01_pose_detector
    """

    stride = 2

    def __init__(self, joints: int = 9, *, width: int = 32, simple: bool = False):
        super().__init__()
        check_positive_int(joints, "joints")
        check_positive_int(width, "width")
        check_choice(simple, "simple", (True, False))
        self.joints, self.width, self.simple = joints, width, simple
        self.full_res = Bank(width)  # stride 2, receptive field 22 input pixels
        self.half_res = None if simple else Bank(width)  # on the half-size image: stride 4, field 44 pixels
        # After the merge: the paper's 9x9 + 1x1 + 1x1 "fully connected" layers, as convolutions.
        self.head = nn.Sequential(
            conv_relu(width, width, 5),
            conv_relu(width, 2 * width, 1),
            nn.Conv2d(2 * width, joints, 1),
        )

    def extra_repr(self) -> str:
        return f"joints={self.joints}, width={self.width}, simple={self.simple}, stride={self.stride}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Heat maps for a batch of images.

        Parameters
        ----------
        images : Tensor[B, 3, H, W], float in [0, 1]; H and W divisible by 4.

        Returns
        -------
        Tensor[B, J, H / 2, W / 2], float: unnormalised heat maps (trained towards Gaussians of peak 1).
        """
        check_model_input(images, "images", self, dims="B C H W", shape=(None, 3, None, None),
                          min_value=0.0, max_value=1.0)
        B, C, H, W = images.shape
        if H % 4 or W % 4:
            raise ValueError(f"images must have H and W divisible by 4; got (H, W) = ({H}, {W})")
        x = images - 0.5  # centre the inputs (the paper's LCN also removes the mean)
        feats = self.full_res(x)  # (B, width, H/2, W/2)
        if self.half_res is not None:
            small = F.avg_pool2d(x, 2)  # (B, 3, H/2, W/2): the half-resolution image
            coarse = self.half_res(small)  # (B, width, H/4, W/4)
            up = F.interpolate(coarse, scale_factor=2, mode="bilinear", align_corners=False)  # (B, width, H/2, W/2)
            feats = feats + up  # overlapping receptive fields, merged by adding
        return self.head(feats)  # (B, J, H/2, W/2)
