"""Exercises with a reference fallback, graded by nbgrader.

In a lecture notebook the student writes a function; the graded test cell then wraps it::

    output_size = exercise(output_size, reference=course_lib.core.receptive.conv_output_size)

* Student run, exercise not done (the body still raises ``NotImplementedError``): the first call prints that
  the reference implementation from ``course_lib`` is used, and the lecture carries on with it.
* Student run, exercise done: the student's function is used, and the visible tests check it.
* nbgrader grading (``NBGRADER_EXECUTION`` is ``autograde`` or ``validate``): never fall back; an
  unimplemented exercise raises and its test cell fails, so it earns no points. And an answer that merely calls
  the reference earns nothing either: while the student's function runs under grading, the reference refuses to
  run (its code object is swapped for one that raises, then restored: the one place the course swaps code at
  run time, because every alias of the reference, ``course_lib.x.f`` or ``from course_lib.x import f``, is the
  same function object and must be refused).

After the visible tests, :func:`tests_passed` says plainly whose code they ran on: the student's, or the
reference that stood in for an unfinished exercise.

Lecture: 00_welcome
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import types
from collections.abc import Callable

# Made by the grading sandbox (course_lib.grading.sandbox) and read-only inside it: a submission that clears
# NBGRADER_EXECUTION to bring back the reference fallback is still graded as graded.
GRADING_MARKER = "/.convnet-grading"


def is_grading() -> bool:
    """True while nbgrader executes the notebook to grade or validate it (or the grading sandbox runs it)."""
    if os.environ.get("NBGRADER_EXECUTION", "").strip().lower() in {"autograde", "validate"}:
        return True
    return os.path.isdir(GRADING_MARKER)


def exercise(student: Callable, *, reference: Callable, name: str | None = None) -> Callable:
    """Wrap a student's function so that an unimplemented one falls back to ``reference`` (not when grading).

    Parameters
    ----------
    student : callable
        The function the student wrote (or the stub that raises ``NotImplementedError``).
    reference : callable
        ``course_lib``'s implementation of the same idea, with the same signature.
    name : str, optional
        Name shown in the message; defaults to the student's function name.

    Returns
    -------
    callable
        Behaves as ``student``, or as ``reference`` once ``student`` has raised ``NotImplementedError``.
    """
    if not callable(student) or not callable(reference):
        raise TypeError("exercise(student, reference=...) needs two functions")
    label = name or getattr(student, "__name__", "exercise")
    state = {"fallback": False}

    @functools.wraps(student)
    def wrapper(*args, **kwargs):
        if state["fallback"]:
            return reference(*args, **kwargs)
        try:
            if is_grading():
                with _refused(reference):
                    return student(*args, **kwargs)
            return student(*args, **kwargs)
        except NotImplementedError:
            if is_grading():
                raise
            state["fallback"] = True
            print(
                f"Exercise `{label}` is not implemented yet: using the reference implementation "
                f"`{reference.__module__}.{reference.__name__}` so the lecture can go on."
            )
            return reference(*args, **kwargs)

    wrapper.uses_reference = lambda: state["fallback"]  # type: ignore[attr-defined]
    wrapper.exercise_label = label  # type: ignore[attr-defined]
    return wrapper


def tests_passed(*functions: Callable, what: str = "visible tests") -> None:
    """Print whose code the tests just above ran on; call it at the end of a visible test block.

    ``functions`` are the wrappers returned by :func:`exercise`. When one of them fell back to the reference,
    the message says that the reference passed, not the student's code.
    """
    fell_back = [getattr(f, "exercise_label", getattr(f, "__name__", "?")) for f in functions
                 if getattr(f, "uses_reference", lambda: False)()]
    if fell_back:
        message = (f"{what}: ran on course_lib's reference, not on your code: "
                   f"{', '.join(fell_back)} not implemented yet")
    else:
        message = f"{what} passed on your code"
    print(message)


def _reference_refused(*args, **kwargs):
    # Runs with the reference's globals: only builtins may appear here.
    raise RuntimeError("this course_lib function is the reference of the exercise being graded: an answer that "
                       "calls it earns no points; write the computation yourself")


class _refused:
    """Context manager: while active, calling ``reference`` raises (grading only; see the module docstring)."""

    def __init__(self, reference: Callable):
        self.function = reference if isinstance(reference, types.FunctionType) else None
        if self.function is not None and self.function.__closure__:
            self.function = None  # a closure's code cannot be swapped for one without its free variables

    def __enter__(self):
        if self.function is not None:
            self.saved = self.function.__code__
            self.function.__code__ = _reference_refused.__code__
        return self

    def __exit__(self, *exc):
        if self.function is not None:
            self.function.__code__ = self.saved
        return False


def original(qualname: str):
    """The genuine object ``module:attribute`` (or ``module.attribute``), from a fresh import of its module.

    The module is executed anew from its file, outside ``sys.modules``, so names a submission rebinds or
    attributes it patches on the imported module (``course_lib.core.receptive.conv_output_size = mine``,
    ``torch.testing.assert_close = lambda *a, **k: None``) do not reach what a test cell gets. A fresh
    ``torch.testing`` would mean a second torch: for torch, the function is taken from the submodule that defines
    it (``torch.testing._comparison``), loaded afresh the same way.

    Examples
    --------
    >>> original("course_lib.core.receptive:conv_output_size")(32, 3, padding=1)
    32
    """
    module_name, _, attribute = qualname.replace(":", ".").rpartition(".")
    if module_name == "torch.testing":
        module_name = "torch.testing._comparison"
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or spec.loader is None:
        raise ValueError(f"original() needs a module with a source file; got {module_name!r}")
    fresh = importlib.util.spec_from_file_location(f"_original_.{module_name}", spec.origin)
    module = importlib.util.module_from_spec(fresh)
    module.__package__ = module_name.rpartition(".")[0] if not spec.submodule_search_locations else module_name
    fresh.loader.exec_module(module)
    # (course_lib.core.exercises.is_grading itself reads the sandbox's marker directory, which the kernel cannot
    # remove, so clearing os.environ["NBGRADER_EXECUTION"] does not bring back the reference fallback.)
    if not hasattr(module, attribute):
        raise ValueError(f"{module_name} has no attribute {attribute!r}")
    sys.modules.pop(fresh.name, None)
    return getattr(module, attribute)
