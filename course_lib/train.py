"""``python -m course_lib.train TASK [--profile fast|full] [--seed N] [--set KEY=VALUE ...] [--out DIR]``: the
command that makes every shipped checkpoint.

Each task lives in its topic package as ``train(cfg, profile, seed, out_dir, command) -> list[Path]``, where
``cfg`` is the task's row of the profile table (``course_lib.core.profiles``) with any ``--set`` overrides
applied (e.g. ``--set epochs=40`` for a documented long CPU run when no GPU is at hand). This module only
parses the command line and dispatches, so that the command recorded in a checkpoint is the one that made it.
Tasks are imported lazily: training one task never imports the others.

Lecture: 00_welcome (how checkpoints are made), and each lecture that loads one
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import shlex
import sys

from course_lib.core.checkpoints import ROOT
from course_lib.core.checks import check_seed
from course_lib.core.device import get_device, seed_everything
from course_lib.core.profiles import PROFILES, check_settings, profile, settings

# task name -> "module:function". The function trains, evaluates on the test split, saves its checkpoints
# (with the metrics it measured) under out_dir, and returns their paths.
TASKS = {
    "pose": "course_lib.pose.joint:train_pose",
    "pose-control": "course_lib.pose.joint:train_pose_control",
    "localization": "course_lib.pose.localization:train_localization",
    "localization-dropout": "course_lib.pose.localization:train_dropout_study",
    "fcn": "course_lib.segmentation.tasks:train_fcn",
    "depth": "course_lib.depth.tasks:train_depth",
    "restoration": "course_lib.restoration.tasks:train_restoration",
    "colorization": "course_lib.colorization.tasks:train_colorization",
}


# A task that shares another task's profile row (so that its --set overrides mean the same).
PROFILE_ROW = {"pose-control": "pose", "localization-dropout": "localization"}

# Checkpoints whose name does not start with the task that makes them.
MADE_BY = {"pose-detector-extra": "pose-control"}


def parse_override(item: str, cfg: dict) -> tuple[str, object]:
    """Parse ``KEY=VALUE`` against ``cfg``: the key must exist, the value takes the type of the current one."""
    if "=" not in item:
        raise SystemExit(f"--set expects KEY=VALUE, but found {item!r}")
    key, raw = item.split("=", 1)
    if key not in cfg:
        raise SystemExit(f"--set {key}: unknown setting; permitted keys are {sorted(cfg)}")
    kind = type(cfg[key])
    try:
        value = (raw.lower() in {"1", "true", "yes"}) if kind is bool else kind(raw)
    except ValueError:
        raise SystemExit(f"--set {key}: expected a {kind.__name__}, but found {raw!r}") from None
    return key, value


def resolve(task: str):
    """Return the training function of ``task``; a clear error if the task is unknown or not built yet."""
    if task not in TASKS:
        raise SystemExit(f"unknown task {task!r}; permitted tasks are {sorted(TASKS)}")
    module_name, func_name = TASKS[task].split(":")
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
        check_settings(PROFILE_ROW.get(task, task), cfg)
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


def main(argv: list[str] | None = None) -> list[pathlib.Path]:
    parser = argparse.ArgumentParser(prog="python -m course_lib.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("task", help=f"one of {sorted(TASKS)}")
    parser.add_argument("--profile", choices=PROFILES, default=None, help="default: the active profile")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting of the task's profile row (repeatable)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT, help=f"default: {ROOT}")
    args = parser.parse_args(argv)
    train = resolve(args.task)
    try:
        prof = args.profile or profile()
    except ValueError as err:
        raise SystemExit(str(err)) from None
    cfg = settings(PROFILE_ROW.get(args.task, args.task), prof)
    words = [args.task, "--profile", prof, "--seed", str(args.seed)]
    for item in args.overrides:
        key, value = parse_override(item, cfg)
        cfg[key] = value
        words += ["--set", f"{key}={value}"]
    command = "python -m course_lib.train " + " ".join(shlex.quote(a) for a in words)
    check_arguments(args.task, train, cfg, args.seed, args.out)
    seed_everything(args.seed)
    paths = train(cfg=cfg, profile=prof, seed=args.seed, out_dir=args.out, command=command)
    for p in paths:
        print(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
