"""``python -m course_lib.train TASK [--profile fast|full] [--seed N] [--set KEY=VALUE ...] [--out DIR]``: the
command that makes every shipped checkpoint.

Each task lives in its topic package as ``train(cfg, profile, seed, out_dir, command) -> list[Path]``, where
``cfg`` is the task's settings (the topic's dataclass preset for the profile, as a plain dict) with any ``--set``
overrides applied (e.g. ``--set epochs=40`` for a documented long CPU run when no GPU is at hand). The topics
register their tasks in their ``config.py`` (:func:`course_lib.core.registry.register_task`); this module only
parses the command line and dispatches, so that the command recorded in a checkpoint is the one that made it.
A task's training module is imported only when that task runs.

Lecture: 00_welcome (how checkpoints are made), and each lecture that loads one
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import pathlib
import shlex
import sys
import typing

from course_lib.core.checkpoints import ROOT
from course_lib.core.checks import check_seed
from course_lib.core.device import get_device, seed_everything
from course_lib.core.profiles import PROFILES, check_settings, preset, profile
from course_lib.core.registry import all_tasks
from course_lib.core.registry import task as registered_task


def parse_override(item: str, cfg) -> tuple[str, object]:
    """Parse ``KEY=VALUE`` against ``cfg``, a topic's settings dataclass (or a dict): the key must be one of its
    fields, and the value takes the field's declared type (a dict's: the type of the current value)."""
    if "=" not in item:
        raise SystemExit(f"--set expects KEY=VALUE, but found {item!r}")
    key, raw = item.split("=", 1)
    types = typing.get_type_hints(type(cfg)) if dataclasses.is_dataclass(cfg) else {k: type(v) for k, v in cfg.items()}
    if key not in types:
        raise SystemExit(f"--set {key}: unknown setting; permitted keys are {sorted(types)}")
    kind = types[key]
    try:
        value = (raw.lower() in {"1", "true", "yes"}) if kind is bool else kind(raw)
    except ValueError:
        raise SystemExit(f"--set {key}: expected a {kind.__name__}, but found {raw!r}") from None
    return key, value


def resolve(task: str):
    """Return the training function of ``task``; a clear error if the task is unknown or not built yet."""
    try:
        module_name, func_name = registered_task(task).target.split(":")
    except ValueError as err:
        raise SystemExit(str(err)) from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise SystemExit(f"task {task!r} is not available yet: {module_name} does not exist") from None
        raise
    return getattr(module, func_name)


def check_arguments(task: str, train, cfg: dict, seed: int, out: pathlib.Path) -> None:
    """Everything that can be checked before training, so that a run is never lost to a bad argument found after
    it: the seed, the settings (``check_settings``, then the task module's own ``check_config`` if it has one),
    ``COURSE_DEVICE``, and ``--out`` (a folder this user can write; created here)."""
    try:
        check_seed(seed, "--seed")
        check_settings(registered_task(task).settings, cfg)
        own = getattr(sys.modules.get(getattr(train, "__module__", ""), None), "check_config", None)
        if callable(own):
            own(cfg)
        get_device()
    except (TypeError, ValueError) as err:
        raise SystemExit(f"python -m course_lib.train {task}: {err}") from None
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--out {out} is a file; give a folder for the checkpoints")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SystemExit(f"--out {out} cannot be created ({err.strerror})") from None
    if not os.access(out, os.W_OK):
        raise SystemExit(f"--out {out} is not writable by this user")


def parse_command(argv: list[str]) -> tuple[argparse.Namespace, dict, str]:
    """Parse the command line: ``(args, cfg, command)``, where ``cfg`` is the task's settings (its dataclass preset
    for the profile, with the ``--set`` overrides, as a plain dict) and ``command`` the exact command that a
    checkpoint records. Checking comes after (:func:`check_arguments`)."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("task", help=f"one of {sorted(all_tasks())}")
    parser.add_argument("--profile", choices=PROFILES, default=None, help="default: the active profile")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting of the task's profile row (repeatable)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT, help=f"default: {ROOT}")
    args = parser.parse_args(argv)
    try:
        task = registered_task(args.task)
        args.profile = args.profile or profile()
    except ValueError as err:
        raise SystemExit(str(err)) from None
    typed = preset(task.settings, args.profile)  # the topic's dataclass: --set parses by field type
    words = [args.task, "--profile", args.profile, "--seed", str(args.seed)]
    for item in args.overrides:
        key, value = parse_override(item, typed)
        typed = dataclasses.replace(typed, **{key: value})
        words += ["--set", f"{key}={value}"]
    command = "python -m course_lib.train " + " ".join(shlex.quote(a) for a in words)
    return args, dataclasses.asdict(typed), command  # a plain dict: what the task gets and its checkpoints store


def main(argv: list[str] | None = None) -> list[pathlib.Path]:
    args, cfg, command = parse_command(sys.argv[1:] if argv is None else argv)
    train = resolve(args.task)
    check_arguments(args.task, train, cfg, args.seed, args.out)
    seed_everything(args.seed)
    paths = train(cfg=cfg, profile=args.profile, seed=args.seed, out_dir=args.out, command=command)
    for p in paths:
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
