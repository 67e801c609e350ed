"""Helpers for the tests that handle notebooks and run nbgrader."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


def lecture_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and p.name[:2].isdigit())


def read(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def nbgrader(args: list[str], cwd, timeout: int = 900, **env) -> subprocess.CompletedProcess:
    """Run nbgrader with the project's interpreter first on PATH (nbgrader calls alembic and jupyter by name)."""
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env}
    proc = subprocess.run([str(BIN / "nbgrader"), *args, "--log-level=WARN"], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def course_copy(tmp_path, lectures: list[str]) -> pathlib.Path:
    """A throw-away course directory with the config and the given solutions, released there by nbgrader."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in lectures:
        shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        nbgrader(["generate_assignment", name, "--force"], cwd=course)
    return course
