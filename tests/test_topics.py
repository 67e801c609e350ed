"""The shape every topic package shares (issue 21): each registers its own settings, tasks and course-map panel,
exposes ``load_or_train`` with one signature, imports no other topic, and keeps its modules small, each with its
private helpers to itself."""

import ast
import importlib
import inspect
import pathlib

import pytest

from course_lib.core import registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_lib"
TOPICS = sorted(p.name for p in PACKAGE.iterdir() if (p / "config.py").is_file())
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "grading" not in p.relative_to(PACKAGE).parts)


def _imports(path: pathlib.Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every ``import``/``from ... import`` in ``path``."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            out.append((module, [alias.name for alias in node.names]))
    return out


def test_every_topic_registers_its_settings_tasks_and_course_map_panel():
    assert {"pose", "localization", "segmentation", "depth", "restoration", "colorization"} <= set(TOPICS)
    registry.discover()
    for topic in TOPICS:
        config = importlib.import_module(f"course_lib.{topic}.config")
        assert any(type(row.presets["fast"]).__module__ == config.__name__ for row in registry.SETTINGS.values()), topic
        owned = [t for t in registry.TASKS.values() if t.target.startswith(f"course_lib.{topic}.")]
        assert owned, f"{topic} registers no train task"
        assert any(c.draw.__module__ == config.__name__ for c in registry.CARDS.values()), topic


def test_one_entry_point_shape():
    signatures = {t: inspect.signature(importlib.import_module(f"course_lib.{t}").load_or_train) for t in TOPICS}
    params = {t: [(p.name, p.kind, p.default) for p in s.parameters.values()] for t, s in signatures.items()}
    first = params[TOPICS[0]]
    assert [name for name, _, _ in first] == ["name", "cfg", "seed", "device", "directory", "progress"]
    assert all(p == first for p in params.values()), params


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_shape(path):
    rel = path.relative_to(PACKAGE)
    lines = len(path.read_text().splitlines())
    assert lines <= 400, f"{rel} has {lines} lines: a module does one job, in at most 400"
    for module, names in _imports(path):
        if rel.parts[0] in TOPICS and module.startswith("course_lib."):
            other = module.split(".")[1]
            assert other in ("core", rel.parts[0]), f"{rel} imports {module}: topics import core, never each other"
        if module.startswith("course_lib"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{rel} imports private {private} from {module}: make a shared helper public"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_its_own_bad_input_rows(topic):
    path = ROOT / "tests" / "bad_inputs" / f"{topic}.py"
    assert path.is_file(), f"{topic}: its bad-input rows belong in {path.relative_to(ROOT)}"
