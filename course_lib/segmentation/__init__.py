"""Semantic segmentation with fully convolutional networks (Long, Shelhamer, Darrell, CVPR 2015).

Read in the order of the paper: ``data`` (synthetic scenes) and ``voc`` (PASCAL VOC 2012), ``convolutionalize``
(a classifier becomes fully convolutional), ``sliding`` (the sliding-window baseline it replaces), ``upsample``
(bilinear in-network upsampling), ``fcn`` (FCN-32s/16s/8s), ``metrics`` (pixel accuracy, mean accuracy,
mean IU, frequency-weighted IU) and ``tasks`` (training recipes and ``python -m course_lib.train fcn``).

Lecture: 04_segmentation
"""

from course_lib.core import num_params

from . import config  # registers the settings, train tasks and course-map panels  # noqa: F401
from .convolutionalize import PatchClassifier, convolutionalize, score_map_size
from .data import CLASSES, IGNORE_INDEX, SyntheticScenes, render_scene
from .fcn import FCN, VARIANTS, TorchvisionVGG, VGGBackbone, fuse_skip, make_backbone
from .metrics import (
    boundary_accuracy,
    boundary_band,
    confusion_matrix,
    confusion_matrix_loop,
    evaluate_segmentation,
    mean_iou,
    segmentation_scores,
)
from .sliding import pad_for_patches, patch_segment, sample_patches, sliding_window_scores
from .tasks import (
    load_or_train,
    patch_metrics,
    scene_metrics,
    segmentation_loss,
    train_fcn,
    train_patch_classifier,
    train_segmenter,
)
from .upsample import Upsample, bilinear_kernel, bilinear_kernel_loop, crop_like
from .voc import VOC_CLASSES, voc, voc_palette, voc_transforms

__all__ = [
    "CLASSES", "FCN", "IGNORE_INDEX", "PatchClassifier", "SyntheticScenes", "TorchvisionVGG", "Upsample",
    "VARIANTS", "VGGBackbone", "VOC_CLASSES", "bilinear_kernel", "bilinear_kernel_loop", "boundary_accuracy",
    "boundary_band", "confusion_matrix", "confusion_matrix_loop", "convolutionalize", "crop_like",
    "evaluate_segmentation", "fuse_skip", "load_or_train", "make_backbone", "mean_iou", "num_params",
    "pad_for_patches", "patch_metrics", "patch_segment", "render_scene", "sample_patches", "scene_metrics",
    "score_map_size", "segmentation_loss", "segmentation_scores", "sliding_window_scores", "train_fcn",
    "train_patch_classifier", "train_segmenter", "voc", "voc_palette", "voc_transforms",
]
