"""The small core every lecture shares: profiles, device, checks, training loop, checkpoints, timing, plots,
exercises, and the registries that topics fill (``registry``). Topic packages import from here and never from
each other; core names no topic.

The names below load on first use (:mod:`course_lib.core.lazy`): ``import course_lib.core`` imports no torch
until a name that needs it is used."""

from .lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["checkpoint_or_train", "checkpoint_path", "load_checkpoint", "load_model", "save_checkpoint"],
                    "checkpoints"),
    **dict.fromkeys(["check_choice", "check_memory", "check_model_input", "check_number", "check_positive_int",
                     "check_same_shape", "check_seed", "check_tensor"], "checks"),
    **dict.fromkeys(["confusion_matrix", "confusion_matrix_loop", "label_scores", "mean_iou"], "confusion"),
    **dict.fromkeys(["get_device", "resolve_device", "seed_everything"], "device"),
    **dict.fromkeys(["exercise", "is_grading", "tests_passed"], "exercises"),
    **dict.fromkeys(["num_params", "round_to_half"], "modules"),
    **dict.fromkeys(["PROFILES", "preset", "profile", "settings"], "profiles"),
    "time_fn": "timing",
    **dict.fromkeys(["LivePlot", "fit", "to_device"], "training"),
}
_SUBMODULES = ("checkpoints", "checks", "confusion", "course_map", "device", "environment", "exercises", "keypoints",
               "lazy", "modules", "notebooks", "people", "plotting", "profiles", "receptive", "registry", "stats",
               "timing", "toy", "training")

__all__ = ["receptive", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)
