"""Feedback that never leaks hidden tests.

:class:`HideHiddenTests` (feedback) removes each ``### BEGIN HIDDEN TESTS`` region from the graded test cells
and reduces the error output of such a cell to its exception line (the assert message written for the student),
since a full traceback would quote the hidden line that failed. Student cells are left alone even if they
contain nbgrader's markers, and any output that quotes a hidden line is removed. (Since the trusted checker,
hidden tests no longer live in the notebooks at all; this stays as a second line for a course that keeps some.)

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import html
import json
import pathlib
import re

import bleach
import tinycss2
from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer


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


# ---------------------------------------------------------------------------------------------------------------
# Sanitized feedback: what an instructor or a student opens is static HTML with no script of any kind.
# ---------------------------------------------------------------------------------------------------------------

# Tags kept (everything else is stripped, its text kept); attributes are decided by _allowed_attribute.
SAFE_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "meta", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "style",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "tt", "u", "ul", "var"})
# Elements removed together with everything inside them: script and its hosts, and foreign content (SVG, MathML),
# whose parsing rules differ from HTML's and are where sanitizer bypasses (mutation XSS) live.
DROPPED_WITH_CONTENT = frozenset({
    "script", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "noembed",
    "noframes", "xmp", "plaintext", "svg", "math", "form", "select", "textarea", "button"})
_GLOBAL_ATTRIBUTES = frozenset({"class", "id", "title", "style", "lang", "dir", "align", "role"})
_TAG_ATTRIBUTES = {"a": {"href", "name"}, "img": {"src", "alt", "width", "height"}, "meta": {"charset"},
                   "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}, "col": {"span"},
                   "colgroup": {"span"}, "ol": {"start"}, "details": {"open"}}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[a-z0-9+/=]*$")
# What a browser ignores inside a URL (and what hides a scheme from a naive check): whitespace, controls,
# invisible and non-ASCII characters.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s`]|[^\x00-\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def _url_is_safe(tag: str, value: str) -> bool:
    """http(s)/mailto, a relative URL or an anchor; ``data:image/(png|jpeg|gif)`` only as an <img> source."""
    url = _URL_NOISE.sub("", html.unescape(value)).lower()
    scheme = _SCHEME.match(url)
    if scheme is None:
        return ":" not in url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if scheme.group(1) == "data":
        return tag == "img" and _DATA_IMAGE.match(url) is not None
    return scheme.group(1) in _URL_SCHEMES


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    name = name.lower()
    if name.startswith("on") or name not in _GLOBAL_ATTRIBUTES | _TAG_ATTRIBUTES.get(tag, set()):
        return False
    return _url_is_safe(tag, value) if name in ("href", "src") else True


class _DropWithContent(html5lib_shim.Filter):
    """html5lib token filter: drop each element of DROPPED_WITH_CONTENT with all its tokens, and clean <style> text.

    Runs on the tree walker's tokens (a parsed tree, so start and end tags balance) before bleach's sanitizer,
    which on its own would strip a <script> tag but keep its code as visible text.
    """

    def __iter__(self):
        depth, in_style = 0, False
        for token in super().__iter__():
            kind, name = token["type"], token.get("name", "").lower()
            if depth:
                depth += (kind == "StartTag" and name in DROPPED_WITH_CONTENT) - (
                    kind == "EndTag" and name in DROPPED_WITH_CONTENT)
                continue
            if kind == "StartTag" and name in DROPPED_WITH_CONTENT:
                depth = 1
                continue
            if kind == "EmptyTag" and name in DROPPED_WITH_CONTENT:
                continue
            if name == "style":
                in_style = kind == "StartTag"
            elif in_style and kind in ("Characters", "SpaceCharacters"):
                token = {**token, "data": _clean_css(token["data"])}
            yield token


def _clean_css(css: str) -> str:
    """A <style> block without @import (an external stylesheet), malformed rules, or url(...) but data: images.

    ``<`` is written as the CSS escape ``\\3c `` so that nothing in the block can close it or open a tag.
    """
    rules = tinycss2.parse_stylesheet(css)
    rules = [r for r in rules if r.type != "error"
             and not (r.type == "at-rule" and r.lower_at_keyword in ("import", "namespace"))]
    _drop_urls(rules)
    # A rule that ends in an unterminated string or block is completed by the serializer, differently on each
    # pass; such malformed rules go, so that sanitizing twice changes nothing.
    texts = [tinycss2.serialize([rule]) for rule in rules]
    return "".join(t for t in texts if tinycss2.serialize(tinycss2.parse_stylesheet(t)) == t).replace("<", "\\3c ")


def _drop_urls(nodes) -> None:
    for i, node in enumerate(nodes):
        if node.type == "url" and not _DATA_IMAGE.match(_URL_NOISE.sub("", node.value).lower()):
            nodes[i] = tinycss2.ast.IdentToken(node.source_line, node.source_column, "none")
        elif node.type == "function" and node.lower_name in ("url", "expression", "image-set", "src"):
            nodes[i] = tinycss2.ast.IdentToken(node.source_line, node.source_column, "none")
        for child in ("prelude", "content", "arguments"):
            if isinstance(getattr(node, child, None), list):
                _drop_urls(getattr(node, child))


_CLEANER = bleach.sanitizer.Cleaner(tags=SAFE_TAGS, attributes=_allowed_attribute,
                                    protocols=_URL_SCHEMES | {"data"}, strip=True, strip_comments=True,
                                    css_sanitizer=CSSSanitizer())
# bleach's parser strips a disallowed tag as it reads it, and the text inside (a script's code) then reads as
# markup; this parser also keeps the elements to drop, so the parse matches a browser's and _DropWithContent can
# remove them whole. The sanitizer behind it still allows SAFE_TAGS only.
_CLEANER.parser = html5lib_shim.BleachHTMLParser(tags=SAFE_TAGS | DROPPED_WITH_CONTENT, strip=True,
                                                 consume_entities=False, namespaceHTMLElements=False)
# bleach escapes the text of a <style> block, which breaks CSS (``a > b``); here it is written raw, which is safe
# because _clean_css leaves no "<" in it and every other raw-text element (script, xmp, ...) is dropped.
_CLEANER.serializer.escape_rcdata = False
_walk = _CLEANER.walker
_CLEANER.walker = lambda dom: _DropWithContent(_walk(dom))


def sanitize_html(text: str) -> str:
    """Feedback HTML made safe to open: no script, event handler, script URL, frame, form or external resource.

    Parsed as a browser parses it (html5lib, via ``bleach``), then rebuilt from a safelist: :data:`SAFE_TAGS`
    stay, the elements of :data:`DROPPED_WITH_CONTENT` (script, iframe, object, embed, SVG, MathML, forms, ...) go
    with their content, any other tag is stripped and its text kept (escaped). Attributes: no ``on*`` handler;
    ``href``/``src`` only http(s), mailto, relative or ``#anchor``, and ``data:image/(png|jpeg|gif);base64`` as an
    ``<img src>``; entities, case, whitespace and control characters are resolved before a URL is judged
    (``&#106;avascript:``, ``  JaVaScRiPt:``). ``<meta>`` keeps only ``charset`` (no refresh); ``<link>`` and
    ``<base>`` go. ``<style>`` blocks stay, without ``@import`` and with ``url(...)`` only for data images;
    ``style`` attributes keep bleach's safelisted properties. Comments go. The result is stable: sanitizing it
    again gives it back.

    Parameters
    ----------
    text : str
        An HTML document or fragment, possibly hostile (student output, a generated feedback page).

    Returns
    -------
    str
        An HTML fragment (the ``<html>``, ``<head>`` and ``<body>`` tags themselves are dropped, their content
        kept; see :func:`sanitize_feedback_file` for a whole page).

    Examples
    --------
    >>> sanitize_html('<p onclick="x()">hi<script>alert(1)</script> <a href=" JaVaScRiPt:x">link</a></p>')
    '<p>hi <a>link</a></p>'

    Lecture: 00_welcome (how exercises are graded)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str; got {type(text).__name__}")
    return _CLEANER.clean(text)


def sanitize_feedback_file(path) -> None:
    """Rewrite a generated feedback page in place with :func:`sanitize_html` (after :class:`SanitizeOutputs`).

    The page is written back as a complete UTF-8 document; a second line of defence that does not trust the
    nbconvert template or any preprocessor before it.

    Lecture: 00_welcome (how exercises are graded)
    """
    path = pathlib.Path(path)
    body = sanitize_html(path.read_text(encoding="utf-8", errors="replace"))
    path.write_text(f'<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body>\n{body}\n</body>\n'
                    "</html>\n", encoding="utf-8")


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
            self._left -= _output_bytes(output)
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


def _output_bytes(output) -> int:
    size = _nbytes(_text(output.get("text", ""))) + _nbytes(str(output.get("evalue", "")))
    size += sum(_nbytes(_text(line)) for line in output.get("traceback", []))
    for value in output.get("data", {}).values():
        size += _nbytes(_text(value)) if isinstance(value, (str, list)) else _nbytes(json.dumps(value))
    return size


def _cap_output(output, budget: int):
    """(output within ``budget`` bytes, [what was cut]); the output keeps its type, an error stays an error."""
    if _output_bytes(output) <= budget:
        return output, []
    cut, kind = [], output.get("output_type")
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
        left, data = budget, NotebookNode()
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
