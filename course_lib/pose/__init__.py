"""Human pose: Tompson et al., NIPS 2014 (part detector, spatial model, joint training).

Lecture 01 (part detector): :mod:`.detector` (multi-resolution ConvNet), :mod:`.metrics` (PCK, FLIC detection
rate), :mod:`.flic` (the real FLIC data), :mod:`.tasks` (training and evaluation). :mod:`.models` holds
``load_or_train`` for lectures 01-02. The synthetic people (``SyntheticPose``) and the heat-map pieces (targets,
argmax decoding, the weighted MSE) are shared with lecture 03 and live in :mod:`course_lib.core.people` and
:mod:`course_lib.core.keypoints`; they are re-exported here. Lecture 03 (CVPR 2015) is
:mod:`course_lib.localization`.
"""

from course_lib.core import num_params
from course_lib.core.keypoints import gaussian_heatmaps, heatmap_argmax, heatmap_loss, joint_distances
from course_lib.core.people import EDGES, JOINTS, SyntheticPose

from . import config  # registers the settings, train tasks and course-map panels  # noqa: F401
from .detector import PartDetector
from .flic import FLIC
from .metrics import detection_rate, detection_rate_curve, pck, torso_size
from .plots import draw_pose, plot_detection_curves
from .tasks import evaluate_detector, predict_joints, train_detector

__all__ = [
    "EDGES", "FLIC", "JOINTS", "PartDetector", "SyntheticPose", "detection_rate", "detection_rate_curve", "draw_pose",
    "evaluate_detector", "gaussian_heatmaps", "heatmap_argmax", "heatmap_loss", "joint_distances",
    "num_params", "pck", "plot_detection_curves", "predict_joints", "torso_size", "train_detector",
]

# Lecture 02 (spatial model and joint training): belief propagation and its approximations, FFT convolution,
# the spatial model, the joint model.
from .bp import bp_message, brute_force_marginals, chain_marginals  # noqa: E402
from .convbp import conv_message, star_belief, star_marginals  # noqa: E402
from .fftconv import direct_conv2d, fft_conv2d  # noqa: E402
from .joint import JointModel, train_spatial_and_joint  # noqa: E402
from .models import load_or_train  # noqa: E402
from .spatial import SpatialModel, belief_loss  # noqa: E402

__all__ += [
    "JointModel", "SpatialModel", "belief_loss", "bp_message", "brute_force_marginals", "chain_marginals",
    "conv_message", "direct_conv2d", "fft_conv2d", "load_or_train", "star_belief", "star_marginals",
    "train_spatial_and_joint",
]
