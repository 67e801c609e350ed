"""Sanitized feedback: what an instructor or a student opens is static HTML with no script of any kind.

:func:`sanitize_html` is bleach with allow-lists of tags (``SAFE_TAGS``), attributes and URL schemes, and a CSS
sanitizer; tags that carry code or active content (``DROPPED_WITH_CONTENT``: script, iframe, object, SVG, forms,
...) are dropped together with their content.
``course_lib.grading.feedback.SanitizeOutputs`` applies it to every output and markdown cell before nbgrader's
template renders the page; :func:`sanitize_feedback_file` applies it once more to the finished page.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import html
import pathlib
import re

import bleach
import tinycss2
from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer

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
