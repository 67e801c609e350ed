"""Intake: what ``make grade`` accepts from ``submitted/`` before any student code runs.

A class is graded whatever one submission holds. Each ``submitted/<student>/<lecture>/`` is checked here, by the
grader, without following a single link:

* the student id and every file name match ``[A-Za-z0-9_][A-Za-z0-9_.-]*`` (nbgrader treats ``--student`` as a
  pattern, so ``*`` would have meant everyone; a comma would have planted columns in ``grades.csv``);
* the lecture is one of the course's;
* every entry is a regular file or a folder (no symlinks, devices, FIFOs or sockets), with one link only (a hard
  link to a file elsewhere is refused), each file at most ``max_file_mb`` and the submission at most
  ``max_submission_mb``, at most ``max_files`` files;
* ``<lecture>.ipynb`` is there and is a valid notebook (nbformat 4).

A submission that fails is not graded: :func:`check_class` returns it with the reason, which ``make grade``
writes into ``grades.csv`` ("not graded: <reason>") and into that student's feedback; the rest of the class is
graded.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import json
import os
import re
import stat

from .sandbox import Limits

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


# The caps on a submission (max_file_mb, max_submission_mb, max_files; COURSE_GRADE_MAX_FILE_MB, ... override them)
# are fields of the grading limits, read from the environment in one place.
IntakeLimits = Limits


def good_name(name: str) -> bool:
    """True for a student id or file name intake accepts.

    >>> [good_name(n) for n in ("ada", "s_01.b", "*", "a,b", "..", "-rf", "a b", "00_welcome (1).ipynb")]
    [True, True, False, False, False, False, False, False]
    """
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def shown(name: str) -> str:
    """A name as it may appear in a log or a CSV cell: control characters escaped, at most 60 characters."""
    text = name.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text[:60] + ("..." if len(text) > 60 else "")


def check_submission(folder: str, lecture: str, limits: IntakeLimits) -> str | None:
    """Why ``folder`` (``submitted/<student>/<lecture>``) can't be graded, or None when it can."""
    try:
        top = os.lstat(folder)
    except OSError as exc:
        return f"cannot read the submission folder ({exc.strerror})"
    if not stat.S_ISDIR(top.st_mode):
        return "the submission is not a plain folder (a link or a file)"
    total, count = 0, 0
    for parent, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = os.path.join(parent, name)
            rel = os.path.relpath(path, folder)
            if not good_name(name):
                return f"the name {shown(rel)!r} is not accepted (letters, digits, _ . - only)"
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                return f"{shown(rel)} is a symbolic link; only regular files are accepted"
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                return f"{shown(rel)} is not a regular file (a device, FIFO or socket)"
            if info.st_nlink > 1:
                return f"{shown(rel)} is a hard link to another file; only plain copies are accepted"
            count += 1
            total += info.st_size
            if info.st_size > limits.max_file_mb * 2**20:
                return f"{shown(rel)} is {info.st_size / 2**20:.1f} MB, over the {limits.max_file_mb:g} MB per file"
            if count > limits.max_files:
                return f"more than {limits.max_files} files"
            if total > limits.max_submission_mb * 2**20:
                return f"the submission is over {limits.max_submission_mb:g} MB"
    notebook = os.path.join(folder, f"{lecture}.ipynb")
    if not os.path.isfile(notebook) or os.path.islink(notebook):
        found = sorted(n for n in os.listdir(folder) if n.endswith(".ipynb"))
        return (f"no {lecture}.ipynb in the submission" + (f" (found {', '.join(shown(n) for n in found)})"
                                                           if found else ""))
    return check_notebook_file(notebook)


def check_notebook_file(path: str) -> str | None:
    """Why the file at ``path`` is not a valid notebook, or None."""
    import nbformat  # noqa: PLC0415

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"{os.path.basename(path)} is not valid JSON ({str(exc)[:80]})"
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        return f"{os.path.basename(path)} is not a version 4 notebook"
    try:
        nbformat.validate(nbformat.from_dict(data))
    except nbformat.ValidationError as exc:
        return f"{os.path.basename(path)} is not a valid notebook ({str(exc).splitlines()[0][:120]})"
    return None


def check_class(submitted: str, lectures: list[str], limits: IntakeLimits | None = None
                ) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    """``({lecture: [students to grade]}, [(lecture, student, reason) not graded])`` for ``submitted/``.

    ``lectures`` are the course's lectures; a folder of another name is reported once per student, and a
    student id that is not accepted is reported with its name escaped (:func:`shown`).
    """
    limits = limits or IntakeLimits.from_env()
    accepted: dict[str, list[str]] = {lecture: [] for lecture in lectures}
    refused: list[tuple[str, str, str]] = []
    for student in sorted(os.listdir(submitted)):
        path = os.path.join(submitted, student)
        if not good_name(student):
            refused.append(("*", shown(student), "the student id is not accepted (letters, digits, _ . - only)"))
            continue
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            refused.append(("*", student, "not a plain folder (a link or a file)"))
            continue
        for name in sorted(os.listdir(path)):
            if name not in accepted:
                refused.append((shown(name), student, f"{shown(name)!r} is not a lecture of this course"))
                continue
            why = check_submission(os.path.join(path, name), name, limits)
            if why is None:
                accepted[name].append(student)
            else:
                refused.append((name, student, why))
    return accepted, refused
