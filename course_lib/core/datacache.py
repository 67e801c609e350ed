"""Rendered synthetic data, kept on disk under ``datasets/<name>/cache/`` so that it is drawn once per machine.

A synthetic split is a pure function of its arguments and of the code that draws it. Drawing 200 people takes
1.3 s on this 2-core machine; lecture 03 alone draws eight test splits (one per seed of its dropout study), and a
re-run of a notebook drew them all again. :func:`cached_tensors` keeps what a ``make`` function returns in a file
named by a hash of its arguments *and of the drawing code's source files*: a change to the code makes new files, so
a stale cache is never read. The folder is git-ignored (``datasets/*/cache/``) and safe to delete.

Nothing here can make a result wrong: a file that can't be read, or that holds anything but the tensors the caller
expects (names, shapes, dtypes: its ``valid``), is ignored and the data drawn again; a folder that can't be
written (the grading sandbox mounts ``datasets/`` read-only) just means no cache. ``COURSE_DATA_CACHE=off`` turns
it off.

Lecture: none (library plumbing; the data sets' own READMEs say what each holds)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import tempfile
from collections.abc import Callable

import torch

DATA_ROOT = pathlib.Path(__file__).resolve().parents[2] / "datasets"
ENV = "COURSE_DATA_CACHE"


def enabled() -> bool:
    """False when ``COURSE_DATA_CACHE`` is ``off`` (or ``0``, ``no``, ``false``); on by default."""
    value = os.environ.get(ENV, "on").strip().lower()
    if value not in ("on", "off", "1", "0", "yes", "no", "true", "false", ""):
        raise ValueError(f"{ENV} must be 'on' or 'off', but found {os.environ[ENV]!r}")
    return value not in ("off", "0", "no", "false")


def cache_file(name: str, key: dict, sources: list[str], root: pathlib.Path | None = None) -> pathlib.Path:
    """Where the data of ``key`` (a JSON-able dict of the arguments) drawn by the code in ``sources`` (file paths)
    is kept: ``<root>/<name>/cache/<sha256>.pt``."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    for source in sources:
        digest.update(pathlib.Path(source).read_bytes())
    return pathlib.Path(root or DATA_ROOT) / name / "cache" / f"{digest.hexdigest()[:32]}.pt"


def cached_tensors(name: str, key: dict, sources: list[str], make: Callable[[], dict[str, torch.Tensor]], *,
                   valid: Callable[[dict[str, torch.Tensor]], bool] | None = None,
                   root: pathlib.Path | None = None) -> dict[str, torch.Tensor]:
    """``make()`` (a dict of tensors), read from the cache if an earlier call stored it, else made and stored.

    Args:
        name: the data set's folder under ``datasets/`` (e.g. ``"synthetic_scenes"``); without that folder (an
            installed copy of course_lib, away from the repository) nothing is cached.
        key: every argument the data depends on, JSON-able.
        sources: the files of the code that draws it (their bytes enter the file name).
        make: draws the data; called when there is no usable file.
        valid: says whether tensors read back have the names, shapes and dtypes ``make`` gives; a file that fails
            it is ignored (and replaced).
        root: the folder holding ``name`` (default: the repository's ``datasets/``).

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (pathlib.Path(tmp) / "demo").mkdir()
    ...     a = cached_tensors("demo", {"n": 3}, [], lambda: {"x": torch.arange(3)}, root=tmp)
    ...     b = cached_tensors("demo", {"n": 3}, [], lambda: {"x": torch.zeros(3)}, root=tmp)  # read, not made
    >>> b["x"].tolist()
    [0, 1, 2]
    """
    folder = pathlib.Path(root or DATA_ROOT) / name
    if not enabled() or not folder.is_dir():
        return make()
    path = cache_file(name, key, sources, folder.parent)
    stored = _read(path)
    if stored is not None and (valid is None or valid(stored)):
        return stored
    data = make()
    _write(path, {"key": key, "tensors": data})
    return data


def _read(path: pathlib.Path) -> dict[str, torch.Tensor] | None:
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 (none yet, or a truncated or foreign file: draw the data again)
        return None
    tensors = stored.get("tensors") if isinstance(stored, dict) else None
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        return None
    return tensors


def _write(path: pathlib.Path, payload: dict) -> None:
    """Write ``payload`` next to ``path`` and rename it into place (a reader never sees half a file; two processes
    drawing the same split both write the same bytes); an unwritable folder means no cache, silently."""
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.chmod(tmp, 0o644)  # readable by the grading sandbox's own uid too
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
