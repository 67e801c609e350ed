"""The small core every lecture shares: profiles, device, checks, training loop, checkpoints, timing, plots,
exercises, and the registries that topics fill (``registry``). Topic packages import from here and never from
each other; core names no topic."""

from . import receptive
from .checkpoints import checkpoint_or_train, checkpoint_path, load_checkpoint, load_model, save_checkpoint
from .checks import (
    check_choice,
    check_memory,
    check_model_input,
    check_number,
    check_positive_int,
    check_same_shape,
    check_seed,
    check_tensor,
)
from .confusion import confusion_matrix, confusion_matrix_loop, label_scores, mean_iou
from .device import get_device, resolve_device, seed_everything
from .exercises import exercise, is_grading, tests_passed
from .modules import num_params, round_to_half
from .profiles import PROFILES, preset, profile, settings
from .timing import time_fn
from .training import LivePlot, fit, to_device

__all__ = [
    "receptive", "LivePlot", "PROFILES", "preset",
    "check_choice", "confusion_matrix", "confusion_matrix_loop", "mean_iou",
    "label_scores", "check_memory", "check_model_input", "check_number", "resolve_device",
    "check_positive_int", "check_same_shape",
    "check_seed", "check_tensor",
    "checkpoint_or_train",
    "checkpoint_path", "exercise", "fit", "get_device", "is_grading", "load_checkpoint", "load_model", "profile",
    "num_params", "round_to_half", "save_checkpoint", "seed_everything", "settings", "tests_passed", "time_fn",
    "to_device",
]
