"""course_lib: the library behind convnet-course, "further applications of ConvNets", hands-on.

The few calls every notebook makes live here: :func:`get_device`, :func:`seed_everything`, :func:`profile`
and :func:`settings`. Everything else is in ``course_lib.core`` and one subpackage per paper family
(``pose``, ``segmentation``, ``depth``, ``restoration``, ``colorization``).
"""

__version__ = "0.1.0"

from .core.device import get_device, seed_everything  # noqa: E402
from .core.profiles import profile, settings  # noqa: E402

__all__ = ["__version__", "get_device", "profile", "seed_everything", "settings"]
