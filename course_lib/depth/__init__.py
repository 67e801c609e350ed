"""Depth, surface normals and semantic labels from one image (Eigen & Fergus, ICCV 2015).

Read in the order of the paper: ``rooms`` (synthetic indoor rooms, ray-cast with exact depth, normals and
labels) and ``nyu`` (the real NYU Depth v2 labelled set, read from a local file), ``multiscale`` (the three-scale
network), ``losses`` (scale-invariant depth loss with gradient term, normals, labels), ``metrics`` (the slides'
error tables), ``recipe`` (the scale settings compared and how one is trained), ``evaluation`` (predicting,
scoring, the no-network baselines), ``plots`` (depth and normal maps) and ``tasks`` (``load_or_train`` and
``python -m course_lib.train depth``).

Lecture: 05_depth
"""

from course_lib.core import num_params

from . import config  # registers the settings, train task and course-map panel  # noqa: F401
from .evaluation import baseline_predictions, evaluate, evaluate_predictions, predict
from .exercises import reference
from .losses import flip_batch, labels_loss, multitask_loss, normals_loss, scale_invariant_loss
from .metrics import (
    DEPTH_KEYS,
    NORMAL_KEYS,
    angular_error,
    bootstrap_difference,
    depth_metrics,
    label_metrics,
    near_discontinuity,
    normal_metrics,
    per_image_normal_mean,
    per_image_si_log,
)
from .multiscale import OUT_CHANNELS, SCALES, TASKS, MultiScaleNet, Scale1, Scale2, Scale3, finish
from .nyu import NYU_4_FROM_13, nyu_depth_v2
from .plots import show_depth, show_normals
from .recipe import (
    CONTROL_NAMES,
    CONTROLS,
    VARIANT_NAMES,
    VARIANTS,
    build_model,
    matched_scale2_width,
    scales_of,
    train_model,
)
from .rooms import (
    CLASSES,
    IGNORE_INDEX,
    SPLITS,
    SyntheticRooms,
    camera_rotation,
    pixel_rays,
    render_rooms,
    room_seed_sequence,
    sample_room,
    scale_room,
)
from .tasks import load_or_train, train_depth

__all__ = [
    "CLASSES", "CONTROL_NAMES", "CONTROLS", "DEPTH_KEYS", "IGNORE_INDEX", "MultiScaleNet", "NORMAL_KEYS",
    "NYU_4_FROM_13", "OUT_CHANNELS", "SCALES", "SPLITS", "Scale1", "Scale2", "Scale3", "SyntheticRooms", "TASKS",
    "VARIANTS", "VARIANT_NAMES", "angular_error", "baseline_predictions", "bootstrap_difference", "build_model",
    "camera_rotation", "depth_metrics", "evaluate", "evaluate_predictions", "finish", "flip_batch", "label_metrics",
    "labels_loss", "load_or_train", "matched_scale2_width", "multitask_loss", "near_discontinuity", "normal_metrics",
    "normals_loss", "num_params", "nyu_depth_v2", "per_image_normal_mean", "per_image_si_log", "pixel_rays",
    "predict", "reference", "render_rooms", "room_seed_sequence", "sample_room", "scale_invariant_loss", "scale_room",
    "scales_of", "show_depth", "show_normals", "train_depth", "train_model",
]
