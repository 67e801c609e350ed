"""Human pose: Tompson et al., NIPS 2014 (part detector, spatial model, joint training) and CVPR 2015.

Lecture 01 (part detector): :mod:`.data` (synthetic people, heat-map targets), :mod:`.detector`
(multi-resolution ConvNet), :mod:`.metrics` (argmax decoding, PCK, FLIC detection rate), :mod:`.flic` (the real
FLIC data), :mod:`.tasks` (training commands).
"""

from course_lib.core import num_params

from . import config  # registers the settings, train tasks and course-map panels  # noqa: F401
from .data import EDGES, JOINTS, SyntheticPose, gaussian_heatmaps
from .detector import PartDetector, heatmap_loss
from .flic import FLIC
from .metrics import detection_rate, detection_rate_curve, heatmap_argmax, joint_distances, pck, torso_size
from .plots import draw_pose, plot_detection_curves
from .tasks import evaluate_detector, load_detector, predict_joints, train_detector

__all__ = [
    "EDGES", "FLIC", "JOINTS", "PartDetector", "SyntheticPose", "detection_rate", "detection_rate_curve", "draw_pose",
    "evaluate_detector", "gaussian_heatmaps", "heatmap_argmax", "heatmap_loss", "joint_distances", "load_detector",
    "num_params", "pck", "plot_detection_curves", "predict_joints", "torso_size", "train_detector",
]

# Lecture 02 (spatial model and joint training): belief propagation and its approximations, FFT convolution,
# the spatial model, the joint model.
from .bp import bp_message, brute_force_marginals, chain_marginals  # noqa: E402
from .convbp import conv_message, star_belief, star_marginals  # noqa: E402
from .fftconv import direct_conv2d, fft_conv2d  # noqa: E402
from .joint import JointModel, load_pose_models, train_spatial_and_joint  # noqa: E402
from .spatial import SpatialModel, belief_loss  # noqa: E402

__all__ += [
    "JointModel", "SpatialModel", "belief_loss", "bp_message", "brute_force_marginals", "chain_marginals",
    "conv_message", "direct_conv2d", "fft_conv2d", "load_pose_models", "star_belief", "star_marginals",
    "train_spatial_and_joint",
]

# Lecture 03 (efficient localization): the coarse model with more pooling and SpatialDropout, the coarse-to-fine
# cascade with shared features, localization error, the `localization` and `localization-dropout` tasks.
from .cascade import (  # noqa: E402
    Cascade,
    FineModel,
    cascade_loss,
    crop_boxes,
    crop_features,
    crop_to_image,
    image_to_crop,
    image_to_map,
    map_to_image,
)
from .coarse import CoarseModel, count_macs, neighbour_correlation, spatial_dropout_reference  # noqa: E402
from .localization import (  # noqa: E402
    load_dropout_model,
    load_localization,
    localization_error,
    train_dropout_study,
    train_localization,
)

__all__ += [
    "Cascade", "CoarseModel", "FineModel", "cascade_loss", "count_macs", "crop_boxes", "crop_features", "crop_to_image",
    "image_to_crop", "image_to_map", "load_dropout_model", "load_localization", "localization_error", "map_to_image",
    "neighbour_correlation", "spatial_dropout_reference", "train_dropout_study", "train_localization",
]
