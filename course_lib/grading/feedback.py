"""Feedback that never leaks hidden tests.

:class:`HideHiddenTests` (feedback) removes each ``### BEGIN HIDDEN TESTS`` region from the graded test cells
and reduces the error output of such a cell to its exception line (the assert message written for the student),
since a full traceback would quote the hidden line that failed. Student cells are left alone even if they
contain nbgrader's markers, and any output that quotes a hidden line is removed. (Since the trusted checker,
hidden tests no longer live in the notebooks at all; this stays as a second line for a course that keeps some.)

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """Feedback preprocessor: strip hidden-test code, the tracebacks that would quote it, and outputs quoting it."""

    def preprocess(self, nb, resources):
        hidden = set()
        for cell in nb.cells:
            if self._is_test_cell(cell):
                hidden |= self._hidden_lines(cell.source)
        self._hidden = {line for line in hidden if len(line) >= 20}
        return super().preprocess(nb, resources)

    @staticmethod
    def _is_test_cell(cell) -> bool:
        return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"

    def _hidden_lines(self, source: str) -> set[str]:
        lines, inside = set(), False
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                inside = True
            elif self.end_test_delimeter in line:
                inside = False
            elif inside and line.strip():
                lines.add(line.strip())
        return lines

    def preprocess_cell(self, cell, resources, cell_index):
        # Only the instructor's test cells (restored from the gradebook by autograde) carry hidden tests; a student
        # cell that merely contains the markers is not parsed (an unmatched marker would crash the feedback).
        if self._is_test_cell(cell) and self._remove_hidden_test_region(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        outputs = []
        for output in cell.get("outputs", []):
            text = _output_text(output)
            if any(line in text for line in self._hidden):
                output = NotebookNode(output_type="stream", name="stderr",
                                      text="[output removed by the grader: it quoted hidden tests]\n")
            outputs.append(output)
        if cell.cell_type == "code":
            cell.outputs = outputs
        return cell, resources


def _output_text(output) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    parts += [v if isinstance(v, str) else "".join(v) for v in output.get("data", {}).values()
              if isinstance(v, (str, list))]
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)
