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


STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"


def submit(course, lecture: str, student: str, answers: dict | None = None, cells: dict | None = None) -> None:
    """Fabricate submitted/<student>/<lecture>/ from the release: ``answers`` replace the stub inside an answer
    cell (by grade_id), ``cells`` replace an answer cell's whole source."""
    answers, cells = answers or {}, cells or {}
    released = read(pathlib.Path(course) / "lectures" / lecture / f"{lecture}.ipynb")
    for cell in released["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        source = "".join(cell["source"])
        if gid in answers:
            assert STUB in source, f"{gid}: the released answer cell has no stub"
            cell["source"] = source.replace(STUB, answers[gid].rstrip("\n"))
        if gid in cells:
            cell["source"] = cells[gid]
    folder = pathlib.Path(course) / "submitted" / student / lecture
    folder.mkdir(parents=True)
    (folder / f"{lecture}.ipynb").write_text(json.dumps(released))


def gradebook_scores(course, lecture: str) -> dict:
    """{(student, grade_id): score} for every graded cell of ``lecture`` in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{pathlib.Path(course) / 'gradebook.db'}") as gb:
        return {(g.student.id, g.name): g.score for s in gb.assignment_submissions(lecture)
                for nb in s.notebooks for g in nb.grades}
