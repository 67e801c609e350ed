"""course_lib: the library behind convnet-course, "further applications of ConvNets", hands-on.

The few calls every notebook makes live here: :func:`get_device`, :func:`seed_everything`, :func:`profile`
and :func:`settings`. Everything else is in ``course_lib.core`` and one subpackage per paper family
(``pose``, ``localization``, ``segmentation``, ``depth``, ``restoration``, ``colorization``).

Names and subpackages load on first use (``course_lib.core.lazy``): ``import course_lib`` alone does not import
torch, so the grading tools that only need ``course_lib.grading`` start quickly.
"""

__version__ = "0.1.0"

from .core.lazy import lazy_exports  # noqa: E402

__all__ = ["__version__", "get_device", "profile", "seed_everything", "settings"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {"get_device": "core.device", "seed_everything": "core.device", "profile": "core.profiles",
     "settings": "core.profiles"},
    submodules=("core", "pose", "localization", "segmentation", "depth", "restoration", "colorization", "grading",
                "train"),
)
