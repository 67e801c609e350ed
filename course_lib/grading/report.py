"""What ``make grade`` writes for the instructor besides nbgrader's gradebook: ``grades.csv`` (every submission,
graded or refused at intake), a feedback page for each refused submission, and the similarity report (near-identical
answers, answers that reproduce course_lib's reference), all for review by hand.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import csv
import json
import pathlib
import sys


def similarity_report(root: pathlib.Path, lecture: str, students: list[str], out=sys.stdout) -> list[tuple]:
    """Pairs of submissions with near-identical answer code, and answers that reproduce course_lib's reference
    (for review by hand, never a penalty): ``[(lecture, who, similarity, grade_ids)]``, also printed."""
    import inspect  # noqa: PLC0415

    from . import checker, review  # noqa: PLC0415

    notebooks = {}
    for student in students:
        try:
            notebooks[student] = json.loads((root / "submitted" / student / lecture / f"{lecture}.ipynb").read_text())
        except (OSError, ValueError):
            continue
    found = [(lecture, f"{a} ~ {b}", score, ids) for a, b, score, ids in review.similar_pairs(notebooks)]
    try:
        _, references = checker.load_checks(root / "solutions" / lecture / "checks.py")
    except (FileNotFoundError, ValueError):
        references = {}
    sources = {}
    for test_id, qualname in references.items():
        module, _, name = qualname.replace(":", ".").rpartition(".")
        try:
            sources["ex_" + test_id.removeprefix("test_")] = inspect.getsource(
                getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError, OSError, TypeError):
            continue
    for student, nb in notebooks.items():
        ids = review.copies_of_reference(nb, sources)
        if ids:
            found.append((lecture, f"{student} ~ course_lib reference", 1.0, ids))
    for lec, who, score, ids in found:
        out.write(f"similar ({lec}, review by hand): {who}: {score:.2f} on {', '.join(ids)}\n")
    return found


GRADES_COLUMNS = ["assignment", "student_id", "status", "raw_score", "late_submission_penalty", "score",
                  "max_score", "timestamp"]


def write_grades(root: pathlib.Path, export: list[dict], not_graded: list[tuple[str, str, str]]) -> None:
    """``grades.csv``: nbgrader's export plus a row per submission that was not graded, written with the csv
    module's quoting (a comma or a quote in a cell stays in its cell) and no cell a spreadsheet would run as a
    formula."""
    rows = [{**{k: row.get(k, "") for k in GRADES_COLUMNS}, "status": "graded"} for row in export]
    rows += [{"assignment": lecture, "student_id": student, "status": f"not graded: {reason}", "raw_score": "",
              "late_submission_penalty": "", "score": "0", "max_score": "", "timestamp": ""}
             for lecture, student, reason in not_graded]
    with open(root / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=GRADES_COLUMNS, quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        for row in sorted(rows, key=lambda r: (r["assignment"], r["student_id"])):
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in ("=", "+", "@", "\t", "\r") else v)
                             for k, v in row.items()})


def write_not_graded_feedback(root: pathlib.Path, not_graded: list[tuple[str, str, str]]) -> None:
    """A feedback page saying why, for each submission intake refused (where its names are safe to use)."""
    import html  # noqa: PLC0415

    from .intake import good_name  # noqa: PLC0415

    for lecture, student, reason in not_graded:
        if not (good_name(lecture) and good_name(student)) or lecture == "*":
            continue
        folder = root / "feedback" / student / lecture
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{lecture}.html").write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{lecture}: not graded</title></head><body>"
            f"<h1>{lecture}: not graded</h1><p>{html.escape(reason)}</p><p>Fix this and submit again, or ask your "
            f"instructor.</p></body></html>\n")
