"""Colorization as classification: Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016.

Read in the order of the paper: ``lab`` (the colour space), ``bins`` (quantised ab, Q = 313), ``encoding``
(nearest-bin and soft encoding), ``rebalance`` (class rebalancing), ``losses`` (L2 vs multinomial
cross-entropy), ``net`` (the scaled-down network and ``colorize``), ``decode`` (annealed mean), ``metrics``
(AuC, saturation), ``data`` (ambiguous synthetic scenes, scikit-image photos), ``tasks`` (training and the
shipped checkpoints), ``pretext`` (the linear probe: colourisation as self-supervised pre-training).

The paper's 313 bins ship as ``data/pts_in_hull_313.txt``, copied from ``resources/pts_in_hull.npy`` of
github.com/richzhang/colorization (via the course's ``reference/colorization-ab-bins-313.txt``).

Lecture: 07_colorization
"""

from course_lib.core import num_params

from . import config  # registers the settings, train tasks and course-map panels  # noqa: F401
from .bins import ab_bins, bin_rgb, in_gamut_bins
from .data import LEGACY_GRAY, PALETTES, PHOTOS, SHAPES, SyntheticColorScenes, legacy_photos, load_photo, palette_mean
from .decode import TEMPERATURE, anneal, annealed_mean, annealed_mean_direct, mode
from .encoding import decode_nearest, encode_nearest, encode_nearest_loop, soft_encode, soft_encode_loop
from .lab import gray_to_rgb, lab_to_rgb, rgb_to_lab
from .losses import l2_loss, multinomial_cross_entropy
from .metrics import (
    accuracy_auc,
    accuracy_curve,
    accuracy_curve_loop,
    bootstrap_auc,
    hsv_saturation,
    inverse_prior_weights,
    mean_chroma,
    per_image_auc,
)
from .net import AB_SCALE, NORM_L, ColorizationNet, colorize, predict_ab
from .pretext import linear_probe, probe_features
from .rebalance import empirical_prior, pixel_weights, rebalance_weights, smooth_prior
from .tasks import (
    KINDS,
    build_model,
    color_metrics,
    evaluate,
    load_or_train,
    predict_full,
    split_lab,
    train_colorization,
    train_model,
    training_prior,
)

__all__ = [
    "AB_SCALE", "KINDS", "LEGACY_GRAY", "NORM_L", "PALETTES", "PHOTOS", "SHAPES", "TEMPERATURE", "ColorizationNet",
    "SyntheticColorScenes", "ab_bins", "accuracy_auc", "accuracy_curve", "accuracy_curve_loop", "anneal",
    "annealed_mean", "annealed_mean_direct", "bin_rgb", "bootstrap_auc", "build_model", "color_metrics", "colorize",
    "decode_nearest", "empirical_prior", "encode_nearest", "encode_nearest_loop", "evaluate", "gray_to_rgb",
    "hsv_saturation", "in_gamut_bins", "inverse_prior_weights", "l2_loss", "lab_to_rgb", "legacy_photos",
    "linear_probe", "load_or_train", "load_photo", "mean_chroma", "mode", "multinomial_cross_entropy",
    "num_params", "palette_mean", "per_image_auc", "pixel_weights", "predict_ab", "predict_full", "probe_features",
    "rebalance_weights", "rgb_to_lab", "smooth_prior", "soft_encode", "soft_encode_loop", "split_lab",
    "train_colorization", "train_model", "training_prior",
]
