"""The coarse-to-fine cascade with shared features: crop, Siamese fine model, sub-pixel refinement.

Tompson, Goroshin, Jain, LeCun, Bregler, "Efficient Object Localization Using Convolutional Networks", CVPR
2015, section 4 (slides "CASCADE CROP", "FINE MODEL"):

1. The coarse model (:class:`~course_lib.localization.coarse.CoarseModel`) gives a heat map per joint at ``pooling``×
   stride; its argmax is a rough ``(x, y)`` per joint.
2. Around each rough estimate, a window of ``crop × crop`` input pixels is cut out of the coarse model's **early
   features at all resolutions** (layers that have not specialised yet, with consistent spatial context), with
   ``torchvision.ops.roi_align``; every resolution is resampled to the same ``R × R`` grid ("up-sample to bring
   features into canonical resolution").
3. One **fine model** runs on every crop: the crops come from different places, so conceptually there is one
   network per joint, but they share their weights (a Siamese network; the slides: "shared weights L_1 thru
   L_{n−1}"), and only the last 1×1 layer is per joint.
4. The fine heat map ``G_j`` over the crop is decoded with a sub-pixel argmax and mapped back to input pixels.

Training minimises ``E2 = E1 + λ·E_fine`` (:func:`cascade_loss`). ``shared_features=False`` is the slides'
"standard cascade" baseline: a ConvNet that only samples from the RGB crop, with its own copy of the early
layers (:meth:`Cascade.crops`), so that the two cascades differ only in sharing.

Coordinates and crops: :mod:`.crops`.

Deviations: crops of 24 input pixels on 64×64 images (the paper crops a 72×72 window on 320×240 images and
feeds it at several resolutions); crop centres are the coarse estimates, detached (no gradient flows into the
argmax, as in the paper).

Lecture: 03_localization
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.core import check_positive_int, check_tensor
from course_lib.core.keypoints import gaussian_heatmaps, heatmap_argmax, heatmap_loss
from course_lib.core.modules import conv_relu

from .coarse import CoarseModel
from .crops import crop_features, crop_to_image

# --------------------------------------------------------------------------------------------------------------
# The fine model and the cascade.


class FineModel(nn.Module):
    """The fine model: one fully convolutional network applied to every joint's crop (weights shared).

    conv 3×3 → conv 3×3 → conv 1×1 (shared by all joints, the Siamese part) → conv 1×1 with J outputs, of which
    crop ``j`` keeps channel ``j`` (the per-joint last layer). Small on purpose: it only has to place a peak inside
    a window whose features already carry the context, and it runs J times per image.

    Parameters
    ----------
    joints : int
        J.
    in_channels : int
        Channels of a crop: ``2 · coarse.width`` (early features of both resolution banks).
    width : int
        Channels of the hidden layers.

    Examples
    --------
    >>> FineModel(9, in_channels=32, width=8)(torch.rand(2 * 9, 32, 12, 12), joints_per_image=9).shape
    torch.Size([2, 9, 12, 12])

    Lecture: 03_localization
    """

    def __init__(self, joints: int = 9, *, in_channels: int, width: int = 16):
        super().__init__()
        check_positive_int(joints, "joints")
        check_positive_int(in_channels, "in_channels")
        check_positive_int(width, "width")
        self.joints, self.in_channels, self.width = joints, in_channels, width
        self.shared = nn.Sequential(conv_relu(in_channels, width, 3), conv_relu(width, width, 3),
                                    conv_relu(width, 2 * width, 1))
        self.last = nn.Conv2d(2 * width, joints, 1)

    def extra_repr(self) -> str:
        return f"joints={self.joints}, in_channels={self.in_channels}, width={self.width}"

    def forward(self, crops: torch.Tensor, *, joints_per_image: int) -> torch.Tensor:
        """Fine heat maps for batch-major crops.

        Parameters
        ----------
        crops : Tensor[B·J, C, R, R], float
            Row ``b·J + j`` is joint ``j``'s crop of image ``b`` (as :func:`crop_features` returns them).
        joints_per_image : int
            J; must equal ``self.joints``.

        Returns
        -------
        Tensor[B, J, R, R]: ``G_j`` over each crop.
        """
        check_tensor(crops, "crops", dims="N C R R", shape=(None, self.in_channels, None, None), dtype="float")
        if joints_per_image != self.joints or crops.shape[0] % self.joints:
            raise ValueError(f"crops must be (B·J, C, R, R) with J = {self.joints}; got {tuple(crops.shape)} "
                             f"and joints_per_image={joints_per_image}")
        N, C, R, _ = crops.shape
        J = self.joints
        out = self.last(self.shared(crops))  # (B·J, J, R, R): every joint's last layer on every crop
        out = out.reshape(N // J, J, J, R, R)  # (B, J crops, J channels, R, R)
        return out.diagonal(dim1=1, dim2=2).permute(0, 3, 1, 2)  # (B, J, R, R): crop j keeps channel j


class Cascade(nn.Module):
    """Coarse model + crops around its estimates + Siamese fine model → sub-pixel joint positions.

    Parameters
    ----------
    coarse : CoarseModel
    fine : FineModel
        ``in_channels`` must be ``2 · coarse.width``: the fine model reads early features of both banks.
    crop : int
        Crop side in input pixels (24 on 64×64 images: ±12 pixels around the coarse estimate, more than the
        ±8 pixels of a 16× cell).
    samples : int
        Samples per crop side R; ``crop`` must be a multiple of it (the fine heat maps' stride is
        ``crop / samples`` input pixels).
    shared_features : bool
        ``True``: crop the coarse model's early features, computed once on the whole image and shared.
        ``False``: the slides' standard cascade, "a ConvNet that ONLY samples from the RGB": a ``crop × crop``
        RGB window (one sample per input pixel) goes through the cascade's **own** copy of the early layers
        (``own_early``, started from the coarse model's weights, then trained separately), whose output is
        resampled to the same ``R × R`` grid. Same fine model, same layers, same starting point: the only
        differences are that its features see only the crop, and that they are not shared with (and do not
        train) the coarse model.

    Examples
    --------
    >>> coarse = CoarseModel(9, pooling=16, width=8)
    >>> cascade = Cascade(coarse, FineModel(9, in_channels=16, width=8))
    >>> out = cascade(torch.rand(2, 3, 64, 64))
    >>> out["coarse"].shape, out["fine"].shape, out["joints"].shape
    (torch.Size([2, 9, 4, 4]), torch.Size([2, 9, 12, 12]), torch.Size([2, 9, 2]))

    Lecture: 03_localization
    """

    def __init__(self, coarse: CoarseModel, fine: FineModel, *, crop: int = 24, samples: int = 12,
                 shared_features: bool = True):
        super().__init__()
        if not isinstance(coarse, CoarseModel):
            raise TypeError(f"coarse must be a CoarseModel, but found {type(coarse).__name__}")
        check_positive_int(crop, "crop")
        check_positive_int(samples, "samples")
        if crop % samples:
            raise ValueError(f"crop must be a multiple of samples={samples}, but found crop={crop}")
        if fine.in_channels != 2 * coarse.width:
            raise ValueError(f"fine.in_channels must be 2 · coarse.width = {2 * coarse.width}, "
                             f"but found {fine.in_channels}")
        self.coarse, self.fine = coarse, fine
        if not shared_features:
            # The standard cascade's own early layers: copies of the coarse model's (same architecture, same
            # starting weights), trained on RGB crops only and never shared with the coarse model.
            self.own_early = nn.ModuleList([copy.deepcopy(coarse.full_res.early),
                                            copy.deepcopy(coarse.half_res.early)])
        self.crop, self.samples, self.shared_features = crop, samples, shared_features

    def crops(self, images: torch.Tensor, centres: torch.Tensor, feats: list[torch.Tensor] | None = None
              ) -> torch.Tensor:
        """The fine model's input around ``centres``: Tensor[B·J, 2·width, R, R], batch-major.

        ``feats`` are the coarse model's early features of ``images`` (computed here when not given; the
        standard cascade does not use them).
        """
        if self.shared_features:
            feats = self.coarse.features(images) if feats is None else feats
            return crop_features(feats, self.coarse.feature_strides, centres, crop=self.crop, size=self.samples)
        rgb = crop_features([images - 0.5], (1,), centres, crop=self.crop, size=self.crop)  # (B·J, 3, c, c)
        full, half = self.own_early
        own = [full(rgb), half(F.avg_pool2d(rgb, 2))]  # (B·J, w, c/2, c/2), (B·J, w, c/4, c/4): zero-padded crop
        return torch.cat([F.interpolate(f, size=(self.samples, self.samples), mode="bilinear", align_corners=False)
                          for f in own], dim=1)  # (B·J, 2·w, R, R), sample centres as crop_to_image says

    @property
    def fine_stride(self) -> int:
        """Input pixels per fine heat-map sample, ``crop / samples``."""
        return self.crop // self.samples

    def extra_repr(self) -> str:
        return f"crop={self.crop}, samples={self.samples}, shared_features={self.shared_features}"

    def forward(self, images: torch.Tensor, centres: torch.Tensor | None = None) -> dict:
        """Run the cascade.

        Parameters
        ----------
        images : Tensor[B, 3, H, W], float in [0, 1]
        centres : Tensor[B, J, 2], optional
            Crop centres in input pixels; default the coarse model's sub-pixel argmax (detached).

        Returns
        -------
        dict with
            ``"coarse"``: Tensor[B, J, H / pooling, W / pooling], the coarse heat maps H';
            ``"centres"``: Tensor[B, J, 2], the crop centres ``(x, y)`` in input pixels;
            ``"fine"``: Tensor[B, J, R, R], the fine heat maps G' over the crops;
            ``"joints"``: Tensor[B, J, 2], the refined ``(x, y)`` in input pixels, always inside the crop.
        """
        feats = self.coarse.features(images)  # [(B, w, H/2, W/2), (B, w, H/4, W/4)]
        heat = self.coarse.heatmaps_from_features(feats)  # (B, J, H/pooling, W/pooling)
        B, J = heat.shape[:2]
        if centres is None:
            centres = heatmap_argmax(heat.float(), stride=self.coarse.stride, subpixel=True)  # (B, J, 2), no grad
        check_tensor(centres, "centres", dims="B J 2", shape=(B, J, 2), dtype="float")
        centres = centres.detach().to(images.device)
        fine = self.fine(self.crops(images, centres, feats), joints_per_image=J)  # (B, J, R, R)
        uv = heatmap_argmax(fine.float(), stride=1, subpixel=True)  # (B, J, 2) (u, v) in crop samples
        joints = crop_to_image(uv, centres, crop=self.crop, size=self.samples)  # (B, J, 2) input pixels
        return {"coarse": heat, "centres": centres, "fine": fine, "joints": joints}

    def fine_targets(self, joints: torch.Tensor, centres: torch.Tensor, *, sigma: float | None = None
                     ) -> torch.Tensor:
        """Targets G_j for the fine heat maps: a Gaussian at the true joint, on each crop's grid.

        Parameters
        ----------
        joints, centres : Tensor[B, J, 2], float
            True joints and crop centres, ``(x, y)`` input pixels.
        sigma : float, optional
            In input pixels; default one fine sample (``fine_stride``).

        Returns
        -------
        Tensor[B, J, R, R] in [0, 1]; near zero everywhere when the joint is outside its crop.
        """
        check_tensor(joints, "joints", dims="B J 2", shape=(None, None, 2), dtype="float")
        check_tensor(centres, "centres", dims="B J 2", shape=tuple(joints.shape), dtype="float")
        d = self.fine_stride
        # The joint in crop-local input pixels: sample u is then at d·u + (d − 1)/2, the convention of
        # gaussian_heatmaps, which we reuse on a `crop`-pixel image.
        local = joints - centres + self.crop / 2 - 0.5  # (B, J, 2)
        B, J, _ = local.shape
        hm = gaussian_heatmaps(local.reshape(B * J, 1, 2), self.crop, stride=d, sigma=float(sigma or d))
        return hm.reshape(B, J, self.samples, self.samples)  # (B, J, R, R)


def cascade_loss(coarse: torch.Tensor, coarse_target: torch.Tensor, fine: torch.Tensor, fine_target: torch.Tensor,
                 *, lam: float = 1.0, pos_weight: float = 0.0) -> torch.Tensor:
    """The slides' cascade objective ``E2 = E1 + λ·E_fine``.

    ``E1 = (1/N) Σ_j Σ_xy (H'_j(x, y) − H_j(x, y))²`` over the coarse maps and ``E_fine`` the same over the fine
    maps G, with N = B·J (every map of the batch). ``pos_weight`` > 0 weights each squared error by
    ``1 + pos_weight · target`` as :func:`~course_lib.core.keypoints.heatmap_loss` does (a training aid; 0 gives
    the slides' formula).

    Parameters
    ----------
    coarse, coarse_target : Tensor[B, J, h, w]
    fine, fine_target : Tensor[B, J, R, R]
    lam : float
        λ ≥ 0.

    Returns
    -------
    Tensor[] (scalar).

    Lecture: 03_localization
    """
    check_tensor(coarse, "coarse", dims="B J H W", dtype="float")
    check_tensor(coarse_target, "coarse_target", dims="B J H W", shape=tuple(coarse.shape), dtype="float")
    check_tensor(fine, "fine", dims="B J R R", dtype="float")
    check_tensor(fine_target, "fine_target", dims="B J R R", shape=tuple(fine.shape), dtype="float")
    if not lam >= 0:
        raise ValueError(f"lam must be ≥ 0, but found {lam}")
    # heatmap_loss is a mean over all B·J·h·w cells; the slides sum over the cells: multiply by h·w.
    e1 = heatmap_loss(coarse, coarse_target, pos_weight=pos_weight) * coarse[0, 0].numel()
    e_fine = heatmap_loss(fine, fine_target, pos_weight=pos_weight) * fine[0, 0].numel()
    return e1 + lam * e_fine
