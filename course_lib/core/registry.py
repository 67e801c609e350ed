"""Registries that the topic packages fill: settings rows, train tasks and course-map cards.

Core names no topic. Each topic package has a ``config.py`` that registers what is its own, as torchvision's
``models`` registry is filled by the modules that define the builders:

* :func:`register_settings`: the topic's settings row, a typed dataclass with a ``fast`` and a ``full`` preset
  (read with :func:`course_lib.settings`), and the ranges its meaning puts on some fields;
* :func:`register_task`: a ``python -m course_lib.train`` task, the function that runs it (``"module:function"``,
  imported only when the task runs) and the checkpoints it writes;
* :func:`register_card`: the lecture's panel on lecture 00's course map.

A topic registers when it is imported (its ``__init__`` imports its ``config``). A lookup of a name that nobody
has registered yet first imports every topic's ``config`` (:func:`discover`): so ``settings(name)`` works in a
fresh interpreter, and adding a lecture means adding its package folder, nothing in core.

Lecture: 00_welcome
"""

from __future__ import annotations

import dataclasses
import importlib
import pathlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SettingsRow:
    """A topic's settings: the dataclass, its presets per profile, and ranges (inclusive) of bounded fields."""

    name: str
    presets: dict  # profile name -> dataclass instance
    limits: dict  # field -> (low, high)

    @property
    def cls(self) -> type:
        return type(self.presets["fast"])


@dataclass(frozen=True)
class Task:
    """A ``python -m course_lib.train`` task: ``target`` is ``"module:function"`` with the signature
    ``function(*, cfg: dict, profile, seed, out_dir, command) -> list[Path]``; ``settings`` names the settings
    row whose ``--set`` keys it takes; ``makes`` lists the checkpoint-name prefixes it writes besides its name."""

    name: str
    target: str
    settings: str
    makes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    """One panel of the course map: ``draw(ax)`` draws a schematic into a matplotlib Axes, from nothing."""

    number: str
    title: str
    idea: str
    paper: str
    draw: Callable


SETTINGS: dict[str, SettingsRow] = {}
TASKS: dict[str, Task] = {}
CARDS: dict[str, Card] = {}

_PACKAGE = pathlib.Path(__file__).resolve().parents[1]  # course_lib/
_discovered = False


def register_settings(name: str, *, fast, full, limits: dict | None = None) -> None:
    """Register the settings row ``name``: ``fast`` and ``full`` are instances of one dataclass.

    Lecture: 00_welcome
    """
    if not (dataclasses.is_dataclass(fast) and type(fast) is type(full)):
        raise TypeError(f"settings {name!r}: fast and full must be instances of one dataclass, but found "
                        f"{type(fast).__name__} and {type(full).__name__}")
    fields = {f.name for f in dataclasses.fields(fast)}
    unknown = sorted(set(limits or {}) - fields)
    if unknown:
        raise ValueError(f"settings {name!r}: limits name fields {unknown} that {type(fast).__name__} lacks")
    SETTINGS[name] = SettingsRow(name, {"fast": fast, "full": full}, dict(limits or {}))


def register_task(name: str, target: str, *, settings: str | None = None, makes: tuple[str, ...] = ()) -> None:
    """Register the train task ``name`` (``target``: ``"module:function"``; ``settings``: its row, default
    ``name``; ``makes``: checkpoint-name prefixes it writes that do not start with ``name``).

    Lecture: 00_welcome
    """
    if ":" not in target:
        raise ValueError(f"task {name!r}: target must be 'module:function', but found {target!r}")
    TASKS[name] = Task(name, target, settings or name, tuple(makes))


def register_card(number: str, *, title: str, idea: str, paper: str, draw: Callable) -> None:
    """Register lecture ``number``'s course-map panel (``draw(ax)`` draws it).

    Lecture: 00_welcome
    """
    CARDS[number] = Card(number, title, idea, paper, draw)


def discover() -> None:
    """Import every topic package's ``config`` module (each ``course_lib/<topic>/config.py``), once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for folder in sorted(_PACKAGE.iterdir()):
        if (folder / "__init__.py").is_file() and (folder / "config.py").is_file():
            importlib.import_module(f"course_lib.{folder.name}.config")


def settings_row(name: str) -> SettingsRow:
    """The registered settings row ``name``; a ``ValueError`` naming the registered ones if there is none."""
    if not isinstance(name, str) or name not in SETTINGS:
        discover()
    if not isinstance(name, str) or name not in SETTINGS:
        raise ValueError(f"unknown task {name!r}; permitted tasks are {sorted(SETTINGS)}")
    return SETTINGS[name]


def task(name: str) -> Task:
    """The registered train task ``name``; a ``ValueError`` naming the registered ones if there is none."""
    if name not in TASKS:
        discover()
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; permitted tasks are {sorted(TASKS)}")
    return TASKS[name]


def all_settings() -> dict[str, SettingsRow]:
    """Every settings row, after importing every topic."""
    discover()
    return dict(SETTINGS)


def all_tasks() -> dict[str, Task]:
    """Every train task, after importing every topic."""
    discover()
    return dict(TASKS)


def all_cards() -> list[Card]:
    """Every course-map card in lecture order, after importing every topic."""
    discover()
    return [CARDS[k] for k in sorted(CARDS)]


def made_by(checkpoint: str) -> str:
    """The train task that writes the checkpoint named ``checkpoint``: the task whose name or ``makes`` prefix is
    the longest match (the prefix itself, or the prefix followed by ``-``).

    >>> register_task("demo", "demo.tasks:train")
    >>> register_task("demo-control", "demo.tasks:train_control", settings="demo", makes=("demo-net-extra",))
    >>> made_by("demo-net"), made_by("demo-net-extra"), made_by("demo-control-s1")
    ('demo', 'demo-control', 'demo-control')
    >>> _ = TASKS.pop("demo"), TASKS.pop("demo-control")
    """
    best, length = None, -1
    for t in all_tasks().values():
        for prefix in (t.name, *t.makes):
            if (checkpoint == prefix or checkpoint.startswith(prefix + "-")) and len(prefix) > length:
                best, length = t.name, len(prefix)
    return best if best is not None else checkpoint.split("-")[0]
