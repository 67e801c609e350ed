"""Efficient object localization: Tompson, Goroshin, Jain, LeCun, Bregler, CVPR 2015.

Read in the order of the paper: :mod:`.coarse` (the coarse model: more pooling, SpatialDropout), :mod:`.crops`
(coordinate transforms and crops of shared features), :mod:`.cascade` (the fine model and the coarse-to-fine
cascade, loss E2), :mod:`.metrics` (localization error in pixels), :mod:`.tasks` (the ``localization`` and
``localization-dropout`` training tasks, loading their checkpoints). The people and heat-map pieces are core's
(shared with lectures 01-02); the ones this lecture uses are re-exported here.

Lecture: 03_localization
"""

from course_lib.core import num_params
from course_lib.core.keypoints import gaussian_heatmaps, heatmap_argmax, heatmap_loss, joint_distances
from course_lib.core.people import EDGES, JOINTS, SyntheticPose
from course_lib.core.plotting import draw_skeleton as draw_pose

from . import config  # registers the settings, train tasks and course-map panel  # noqa: F401
from .cascade import Cascade, FineModel, cascade_loss
from .coarse import CoarseModel, count_macs, neighbour_correlation, spatial_dropout_reference
from .crops import crop_boxes, crop_features, crop_to_image, image_to_crop, image_to_map, map_to_image
from .metrics import GROUPS, evaluate, group_errors, localization_error, predict
from .tasks import (
    dropout_seeds,
    load_or_train,
    make_datasets,
    train_cascade,
    train_coarse,
    train_dropout_study,
    train_localization,
    with_stride,
)

__all__ = [
    "EDGES", "GROUPS", "JOINTS", "Cascade", "CoarseModel", "FineModel", "SyntheticPose", "cascade_loss", "count_macs",
    "crop_boxes", "crop_features", "crop_to_image", "draw_pose", "dropout_seeds", "evaluate", "gaussian_heatmaps",
    "group_errors", "heatmap_argmax", "heatmap_loss", "image_to_crop", "image_to_map", "joint_distances",
    "load_or_train", "localization_error", "make_datasets", "map_to_image", "neighbour_correlation", "num_params",
    "predict", "spatial_dropout_reference", "train_cascade", "train_coarse", "train_dropout_study",
    "train_localization", "with_stride",
]
