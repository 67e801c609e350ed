"""Profiles: each task's settings for the ``fast`` and ``full`` profiles.

``fast`` is what the tests and a laptop run: every notebook top to bottom in about a minute on two CPU cores.
``full`` is what a GPU runs to reach the quality a lecture claims. Notebooks never branch on the profile; they
read their row with :func:`settings`. Each topic owns its row: a dataclass with a ``fast`` and a ``full`` preset,
registered in the topic's ``config.py`` (see :mod:`course_lib.core.registry`); lecture 00's row is here.

The active profile comes from the ``COURSE_PROFILE`` environment variable (``fast`` or ``full``); when it is
unset the profile is ``full`` if a CUDA GPU is present, else ``fast``.

Lecture: 00_welcome
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .registry import register_settings, settings_row

PROFILES = ("fast", "full")


@dataclass
class WelcomeSettings:
    """Lecture 00's toy run: training images, passes, batch size and channel width."""

    n_train: int = 1024
    epochs: int = 4
    batch_size: int = 64
    width: int = 16


register_settings("welcome", fast=WelcomeSettings(), full=WelcomeSettings(n_train=4096, epochs=10, batch_size=128,
                                                                          width=32))


def check_settings(task: str, cfg: dict) -> dict:
    """Check a settings row (e.g. after ``--set`` overrides) before anything trains; return it.

    Rules for every row: an int setting is ≥ 1, or ≥ 0 where a profile uses 0 (e.g. ``spatial_n`` = 0, "all");
    a float is finite and ≥ 0, and a learning rate (``lr``, ``*_lr``) > 0; a str that names a comma-separated
    list in the table (``models``, ``variants``) is a non-empty list without repeats, and a str that is never
    empty in the table stays non-empty. The ``limits`` the topic registered add ranges for the settings whose
    meaning bounds them. A topic's own rules (its tasks module's ``check_config``) come on top.

    >>> check_settings("welcome", settings("welcome", "fast"))["epochs"]
    4

    Lecture: 00_welcome
    """
    row = settings_row(task)
    rows = [dataclasses.asdict(p) for p in row.presets.values()]
    for key, value in cfg.items():
        defaults = [row[key] for row in rows if key in row]
        if not defaults or isinstance(value, bool):
            continue
        if isinstance(value, int):
            low = 0 if 0 in defaults else 1
            if value < low:
                raise ValueError(f"{key} must be an int ≥ {low}, but found {value}")
        elif isinstance(value, float):
            positive = key == "lr" or key.endswith("_lr")
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"{key} must be a finite number {'> 0' if positive else '≥ 0'}, but found {value}")
        elif isinstance(value, str):
            if any("," in d for d in defaults):
                names = [v.strip() for v in value.split(",")]
                if not all(names):
                    raise ValueError(f"{key} must be a comma-separated list of names (e.g. {defaults[0]!r}) "
                                     f"without empty entries, but found {value!r}")
                if len(set(names)) != len(names):
                    raise ValueError(f"{key} must not name an entry twice, but found {value!r}")
            elif all(defaults) and not value.strip():
                raise ValueError(f"{key} must not be empty (e.g. {defaults[0]!r})")
        if key in row.limits and isinstance(value, (int, float)):
            lo, hi = row.limits[key]
            if not lo <= value <= hi:
                raise ValueError(f"{key} must be in [{lo:g}, {hi:g}], but found {value}")
    return cfg


def profile() -> str:
    """Return the active profile, ``"fast"`` or ``"full"``.

    Reads ``COURSE_PROFILE``; when unset, ``"full"`` if CUDA is available, else ``"fast"``.

    Lecture: 00_welcome
    """
    value = os.environ.get("COURSE_PROFILE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "fast"
    if value not in PROFILES:
        raise ValueError(f"COURSE_PROFILE must be one of {PROFILES}, but found {value!r}")
    return value


def preset(task: str, profile_name: str | None = None):
    """Return a copy of the typed settings of ``task`` (the topic's dataclass) in the given (default: active)
    profile: a misspelt field fails where it is written.

    >>> preset("welcome", "full").epochs
    10

    Lecture: 00_welcome
    """
    row = settings_row(task)
    name = profile() if profile_name is None else profile_name
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, but found {name!r}")
    return dataclasses.replace(row.presets[name])


def as_settings(cls: type, cfg):
    """``cfg`` as the topic's settings dataclass ``cls``: a ``cls`` passes through, a dict (a profile row, a
    checkpoint's ``config``) is checked and converted. A key that is not a field of ``cls`` fails here, naming it,
    instead of deep inside a run; a missing key takes the field's default (the ``fast`` preset's value).

    >>> as_settings(WelcomeSettings, {"epochs": 2}).epochs
    2

    Lecture: 00_welcome
    """
    if isinstance(cfg, cls):
        return cfg
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):  # e.g. the class of a reloaded module
        cfg = dataclasses.asdict(cfg)
    if not isinstance(cfg, Mapping):
        raise TypeError(f"cfg must be a {cls.__name__} or a dict of its fields, but found {type(cfg).__name__}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(cfg) - fields)
    if unknown:
        raise ValueError(f"cfg has settings {unknown} that {cls.__name__} does not define; its fields are "
                         f"{sorted(fields)}")
    return cls(**cfg)


def settings(task: str, profile_name: str | None = None) -> dict:
    """Return a copy of the settings row for ``task`` in the given (default: active) profile, as a plain dict
    (what a checkpoint stores as its ``config``).

    >>> settings("welcome", "fast")["epochs"]
    4

    Lecture: 00_welcome
    """
    return dataclasses.asdict(preset(task, profile_name))


def tasks() -> list[str]:
    """The names of every registered settings row (every topic imported first).

    Lecture: 00_welcome
    """
    from .registry import all_settings

    return sorted(all_settings())
