"""Exercises with a reference fallback, graded by nbgrader.

In a lecture notebook the student writes a function; the graded test cell then wraps it::

    output_size = exercise(output_size, reference=course_lib.core.receptive.conv_output_size)

* Student run, exercise not done (the body still raises ``NotImplementedError``): the first call prints that
  the reference implementation from ``course_lib`` is used, and the lecture carries on with it.
* Student run, exercise done: the student's function is used, and the visible tests check it.
* nbgrader grading (``NBGRADER_EXECUTION`` is ``autograde`` or ``validate``): never fall back; an
  unimplemented exercise raises and its test cell fails, so it earns no points.

Lecture: 00_welcome
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable


def is_grading() -> bool:
    """True while nbgrader executes the notebook to grade or validate it."""
    return os.environ.get("NBGRADER_EXECUTION", "").strip().lower() in {"autograde", "validate"}


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
    return wrapper
