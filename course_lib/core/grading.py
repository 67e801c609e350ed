"""nbgrader pieces of the course: keep hidden tests out of the feedback students receive.

nbgrader's feedback is the autograded notebook rendered to HTML, hidden tests included. Our feedback step adds
:class:`HideHiddenTests`, which removes each ``### BEGIN HIDDEN TESTS`` region from the test cells and reduces
the error output of a cell that had one to its exception line (the assert message written for the student),
since a full traceback would quote the hidden line that failed.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """Feedback preprocessor: strip hidden-test code and the tracebacks that would quote it."""

    def preprocess_cell(self, cell, resources, cell_index):
        removed = self._remove_hidden_test_region(cell)
        if removed and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
