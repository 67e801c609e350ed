"""Feedback that never leaks hidden tests.

:class:`HideHiddenTests` (feedback) removes each ``### BEGIN HIDDEN TESTS`` region from the graded test cells
and reduces the error output of such a cell to its exception line (the assert message written for the student),
since a full traceback would quote the hidden line that failed. Student cells are left alone even if they
contain nbgrader's markers, and any output that quotes a hidden line is removed. (Since the trusted checker,
hidden tests no longer live in the notebooks at all; this stays as a second line for a course that keeps some.)

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import json
import re

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer

from .sanitize import sanitize_html


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


# Output mime types the feedback renders; everything else (application/javascript, widget views, SVG, PDF,
# vendor bundles that the templates turn into <script>) is dropped.
FEEDBACK_MIMETYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg",
                      "image/gif")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


class SanitizeOutputs(NbGraderPreprocessor):
    """Feedback preprocessor: the notebook is made static before the template renders it.

    * outputs keep only :data:`FEEDBACK_MIMETYPES` (no application/javascript, no widget views); image data must
      be base64 and image metadata may only give numeric width/height; an output left with nothing is dropped;
    * text/html outputs are sanitized; text/markdown outputs are rendered to HTML and sanitized;
    * markdown cells are rendered and sanitized (kept as markdown cells holding one raw-HTML block, so that
      nbgrader's template still shows their score); raw cells are sanitized;
    * the notebook's widget state goes (the template would load the widget manager's scripts for it).

    :func:`sanitize_feedback_file` on the written page is the second line of defence.

    Lecture: 00_welcome (how exercises are graded)
    """

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            cell.source = _as_html_block(_render_markdown(_text(cell.source)))
            cell.pop("attachments", None)
        elif cell.cell_type == "raw":
            cell.source = sanitize_html(_text(cell.source))
        elif cell.cell_type == "code":
            cell.outputs = [out for out in map(_static_output, cell.get("outputs", [])) if out is not None]
        return cell, resources


def _static_output(output):
    if output.get("output_type") not in ("execute_result", "display_data"):
        return output  # streams and errors: the template escapes their text
    data = {}
    for mime, value in output.get("data", {}).items():
        value = _text(value) if isinstance(value, (str, list)) else None
        if mime not in FEEDBACK_MIMETYPES or value is None:
            continue
        if mime == "text/html":
            value = sanitize_html(value)
        elif mime == "text/markdown":
            mime, value = "text/html", sanitize_html(_render_markdown(value))
        elif mime.startswith("image/") and not _BASE64.fullmatch(value):
            continue
        data.setdefault(mime, value)
    if not data:
        return None
    output.data = NotebookNode(data)
    metadata = NotebookNode()
    for mime, meta in output.get("metadata", {}).items():
        if mime in data and isinstance(meta, dict):
            sizes = {k: v for k, v in meta.items() if k in ("width", "height") and type(v) in (int, float)}
            if sizes:
                metadata[mime] = NotebookNode(sizes)
    output.metadata = metadata
    return output


def _render_markdown(source: str) -> str:
    """Markdown to sanitized HTML with nbconvert's own renderer (the one the feedback template would use)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return sanitize_html(markdown2html_mistune(source))


def _as_html_block(fragment: str) -> str:
    """One raw-HTML markdown block: a <div> on one line (a blank line would end the block; "&#10;" keeps it)."""
    return '<div class="sanitized">' + fragment.replace("\r", "").replace("\n", "&#10;") + "</div>"


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


# ---------------------------------------------------------------------------------------------------------------
# Capped outputs: a submission cannot make the graded notebook (and the grader holding it) arbitrarily large.
# ---------------------------------------------------------------------------------------------------------------

NOTE = "[output truncated by the grader: {}]\n"


class CapOutputs(NbGraderPreprocessor):
    """Autograde preprocessor, right after execution: at most ``max_output_bytes`` per output and
    ``max_notebook_bytes`` for all outputs of the notebook.

    A cut output is truncated (text: stream text, text/* data, an error's value and traceback) or dropped
    (images and other binary or JSON data over the budget), and a stdout stream note
    ``[output truncated by the grader: ...]`` follows it: stdout, not stderr, which would cost the cell its
    points. An error output stays an error (its cell still fails). Once the notebook's budget is spent, each
    cell keeps only its error output (shortened) and one note. nbgrader's ``LimitOutput`` caps lines; this caps
    bytes (one 200 MB line passes a line limit).

    Lecture: 00_welcome (how exercises are graded)
    """

    max_output_bytes = Integer(1 << 20, help="Bytes (UTF-8 text or base64) kept per output.").tag(config=True)
    max_notebook_bytes = Integer(20 << 20, help="Bytes kept for all outputs of a notebook.").tag(config=True)

    def preprocess(self, nb, resources):
        self._left = self.max_notebook_bytes
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        outputs, dropped = [], 0
        for output in cell.get("outputs", []):
            budget = min(self.max_output_bytes, self._left)
            if budget <= 0 and output.get("output_type") != "error":
                dropped += 1
                continue
            output, cut = _cap_output(output, max(budget, 0))
            self._left -= output_bytes(output)
            outputs.append(output)
            if cut:
                why = ("max_output_bytes" if budget == self.max_output_bytes else "max_notebook_bytes")
                outputs.append(_note(f"{'; '.join(cut)} (cap {budget:,} bytes, {why})"))
        if dropped:
            outputs.append(_note(f"{dropped} output(s) of this cell dropped: the notebook's outputs reached "
                                 f"{self.max_notebook_bytes:,} bytes (max_notebook_bytes)"))
        cell.outputs = outputs
        return cell, resources


def _note(what: str):
    return NotebookNode(output_type="stream", name="stdout", text=NOTE.format(what))


def _nbytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _truncate(text: str, nbytes: int) -> str:
    if text.isascii():
        return text[:nbytes]
    return text[:nbytes].encode("utf-8")[:nbytes].decode("utf-8", errors="ignore")


def output_bytes(output) -> int:
    """Bytes of an output's text, error, data (UTF-8; base64 as it is stored) and metadata, as the caps here count
    them."""
    size = _nbytes(_text(output.get("text", ""))) + _nbytes(str(output.get("evalue", "")))
    size += sum(_nbytes(_text(line)) for line in output.get("traceback", []))
    for value in output.get("data", {}).values():
        size += _nbytes(_text(value)) if isinstance(value, (str, list)) else _nbytes(json.dumps(value))
    return size + _metadata_bytes(output)


def _metadata_bytes(output) -> int:
    # the kernel sets an output's metadata as freely as its data (display(..., metadata=...)): 20 MB of it beside a
    # one-character text/plain had passed both caps
    metadata = output.get("metadata")
    return _nbytes(json.dumps(metadata)) if metadata else 0


def _cap_output(output, budget: int):
    """(output within ``budget`` bytes, [what was cut]); the output keeps its type, an error stays an error."""
    if output_bytes(output) <= budget:
        return output, []
    cut, kind = [], output.get("output_type")
    metadata = _metadata_bytes(output)
    if metadata > budget // 4:  # presentation only (image sizes and the like): dropped before any data is cut
        output.metadata = NotebookNode()
        cut.append(f"metadata of {metadata:,} bytes dropped")
        if output_bytes(output) <= budget:
            return output, cut
        metadata = 0
    if kind == "stream":
        text = _text(output.get("text", ""))
        output.text = _truncate(text, budget)
        cut.append(f"{output.get('name', 'stream')} cut from {_nbytes(text):,} bytes")
    elif kind == "error":
        evalue = str(output.get("evalue", ""))
        output.evalue = _truncate(evalue, min(budget, 1024) // 2)
        lines, left = [], max(budget - _nbytes(output.evalue), 0)
        for line in map(_text, output.get("traceback", [])):
            if _nbytes(line) > left:
                break
            lines.append(line)
            left -= _nbytes(line)
        output.traceback = lines
        cut.append(f"error value and traceback cut from {_nbytes(evalue):,} bytes")
    else:
        left, data = budget - metadata, NotebookNode()
        for mime, value in output.get("data", {}).items():
            text = isinstance(value, (str, list))
            size = _nbytes(_text(value)) if text else _nbytes(json.dumps(value))
            if size <= left:
                data[mime], left = value, left - size
            elif text and mime.startswith("text/"):
                data[mime] = _truncate(_text(value), left)
                left -= _nbytes(data[mime])
                cut.append(f"{mime} cut from {size:,} bytes")
            else:
                cut.append(f"{mime} of {size:,} bytes dropped")
        output.data = data
        output.metadata = NotebookNode({k: v for k, v in output.get("metadata", {}).items() if k in data})
    return output, cut
