"""Names that a package exports but loads on first use (PEP 562), so that importing it costs nothing until then.

``import course_lib`` used to import torch (1.2 s of CPU on this 2-core machine). Every nbgrader process reads
``nbgrader_config.py``, which imports ``course_lib.grading``, so each autograde, feedback and export run paid it
without using torch. The notebooks' ``course_lib.settings(...)`` and ``from course_lib.core import fit`` work as
before: the name's module is imported on first use, then the name is bound in the package like an eager import.

Lecture: none (library plumbing)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable


def lazy_exports(package: str, exports: dict[str, str], submodules: Iterable[str] = ()
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps an exported name to the submodule (relative,
    e.g. ``"checks"``) that defines it; ``submodules`` are reachable as attributes (``course_lib.core.receptive``)
    before anyone imported them.

    >>> getattr_, dir_ = lazy_exports("course_lib.core", {"num_params": "modules"})
    >>> getattr_("num_params").__name__, "num_params" in dir_()
    ('num_params', True)
    """
    submodules = frozenset(submodules)

    def __getattr__(name: str) -> object:
        module = sys.modules[package]
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)  # bound once, as an eager import would have: no second lookup
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports, *submodules})

    return __getattr__, __dir__
