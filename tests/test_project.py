"""The project's own promises: consistent environments, clean notebooks, a fresh release, honest checkpoints."""

import re
import subprocess
import sys

import pytest
import tomllib
import torch
import yaml
from nbtools import ROOT, course_copy, lecture_names, read


def _names(requirements):
    return {re.split(r"[<>=!~ \[]", r.strip())[0].lower().replace("_", "-") for r in requirements}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [r for r in pip if not r.startswith("-e")]
    assert _names(listed) == _names(wanted), "environment.yml and pyproject.toml list different packages"
    assert sorted(listed) == sorted(wanted), "environment.yml and pyproject.toml differ in version ranges"


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1).splitlines()
    assert [line.split("#")[0].strip() for line in first_block[:2]] == ["make lab", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _all_notebooks():
    return sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "lectures").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_are_stored_without_outputs(path):
    nb = read(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} stores outputs: strip them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} stores an execution count"


def test_every_lecture_is_released():
    for name in lecture_names():
        assert (ROOT / "lectures" / name / f"{name}.ipynb").is_file(), f"run `make release`: lectures/{name} missing"
    released = {p.name for p in (ROOT / "lectures").iterdir() if p.is_dir()}
    assert released <= set(lecture_names()), f"lectures/ has folders with no source: {released - set(lecture_names())}"


@pytest.mark.parametrize("name", lecture_names())
def test_student_notebooks_hide_solutions(name):
    text = (ROOT / "lectures" / name / f"{name}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"lectures/{name} contains {marker!r}"


@pytest.mark.parametrize("name", lecture_names())
def test_solutions_have_graded_exercises(name):
    cells = read(ROOT / "solutions" / name / f"{name}.ipynb")["cells"]
    meta = [c["metadata"].get("nbgrader", {}) for c in cells]
    answers = [m for m in meta if m.get("solution")]
    tests = [m for m in meta if m.get("grade")]
    assert answers and tests, f"{name} has no nbgrader exercise"
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)), f"{name}: duplicate grade_ids"
    # The hidden tests live in the trusted checker's file, never in the notebook (tests/test_grading_checker.py checks
    # that every graded test cell has a check there).
    assert (ROOT / "solutions" / name / "checks.py").is_file(), f"{name}: no solutions/{name}/checks.py"


def test_lectures_are_not_stale(tmp_path):
    """lectures/ must be exactly what `make release` makes from solutions/ now."""
    names = lecture_names()
    course = course_copy(tmp_path, names)
    for name in names:
        fresh = read(course / "lectures" / name / f"{name}.ipynb")
        stored = read(ROOT / "lectures" / name / f"{name}.ipynb")
        assert [(c["cell_type"], "".join(c["source"]), c["metadata"]) for c in fresh["cells"]] == [
            (c["cell_type"], "".join(c["source"]), c["metadata"]) for c in stored["cells"]
        ], f"lectures/{name} is stale: run `make release`"


def test_every_solutions_cell_has_a_stable_id():
    """A cell without an id gets a random one from each `make release`, so lectures/ would change for nothing."""
    for name in lecture_names():
        nb = read(ROOT / "solutions" / name / f"{name}.ipynb")
        assert all(c.get("id") for c in nb["cells"]), f"solutions/{name}: cells without an id (give them one)"


CHECKPOINTS = sorted((ROOT / "checkpoints").glob("*.pt"))


def test_checkpoint_budget():
    sizes = {p.name: p.stat().st_size for p in CHECKPOINTS}
    assert all(s <= 5 * 2**20 for s in sizes.values()), f"checkpoints over 5 MB: {sizes}"
    assert sum(sizes.values()) <= 40 * 2**20, f"checkpoints total {sum(sizes.values()) / 2**20:.1f} MB > 40 MB"


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.name)
def test_checkpoints_say_how_they_were_made(path):
    ckpt = torch.load(path, weights_only=True, map_location="cpu")
    assert ckpt["command"].startswith("python -m course_lib.train "), ckpt["command"]
    assert ckpt["profile"] in ("fast", "full") and isinstance(ckpt["seed"], int) and ckpt["metrics"]


def test_train_command_errors_are_clear():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "course_lib.train", *args], capture_output=True, text=True,
                              cwd=ROOT)

    out = run("nope")
    assert out.returncode != 0 and "unknown task 'nope'; permitted tasks are" in out.stderr
    out = run("fcn", "--profile", "medium")
    assert out.returncode != 0 and "invalid choice: 'medium'" in out.stderr


def test_train_overrides_keep_types():
    from course_lib.train import parse_override

    cfg = {"epochs": 2, "lr": 0.1, "name": "x", "flag": False}
    assert parse_override("epochs=30", cfg) == ("epochs", 30)
    assert parse_override("lr=0.5", cfg) == ("lr", 0.5)
    assert parse_override("flag=true", cfg) == ("flag", True)
    with pytest.raises(SystemExit, match="unknown setting; permitted keys are"):
        parse_override("width=3", cfg)
    with pytest.raises(SystemExit, match="expected a int, but found 'many'"):
        parse_override("epochs=many", cfg)
