"""Safe feedback and the review report: sanitize_html on hostile HTML, SanitizeOutputs, CapOutputs, and the
similarity checks (similar_pairs, copies_of_reference) on fabricated notebooks. Fast and deterministic: no kernel,
no nbgrader command.
"""

from __future__ import annotations

import base64
import html
import html.parser
import json
import random
import re
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from course_lib.grading.feedback import CapOutputs, HideHiddenTests, SanitizeOutputs
from course_lib.grading.review import copies_of_reference, normalised_tokens, similar_pairs
from course_lib.grading.sanitize import sanitize_feedback_file, sanitize_html

# ----------------------------------------------------------------------------------------------- sanitize_html

FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "link",
                  "svg", "math", "noscript", "template", "xmp", "plaintext", "textarea", "button", "input"}
SCRIPT_URL = re.compile(r"^(javascript|vbscript|data|livescript):")


class _Tags(html.parser.HTMLParser):
    """An independent parser (the standard library's, not html5lib) that records every tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_safe(out: str) -> None:
    parser = _Tags()
    parser.feed(out)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> survived in {out!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"handler {name}= survived in {out!r}"
            assert not (tag == "meta" and name in ("http-equiv", "content")), f"meta {name} survived in {out!r}"
            if name in ("href", "src", "action", "formaction", "xlink:href", "background", "srcset"):
                url = re.sub(r"[\x00-\x20\x7f-\xa0\s]", "", html.unescape(value or "")).lower()
                ok_image = tag == "img" and re.match(r"data:image/(png|jpeg|gif);base64,", url)
                assert ok_image or not SCRIPT_URL.match(url), f"{tag} {name}={value!r} survived in {out!r}"
    lowered = out.lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "vbscript:" not in lowered, out


HOSTILE = {
    "script": "<script>alert(1)</script>SAFE",
    "script uppercase": "<SCRIPT SRC=//evil/x.js></SCRIPT>SAFE",
    "split script": "<scr<script>ipt>alert(1)</scr</script>ipt>SAFE",
    "unclosed script": "SAFE<script>alert(1)",
    "img onerror": '<img src=x onerror=alert(1)>SAFE',
    "unquoted handler": "<b onmouseover=alert(1)>SAFE</b>",
    "handler with slash": '<img/src="x"/onerror="alert(1)">SAFE',
    "svg onload": '<svg onload=alert(1)><circle r="3"/></svg>SAFE',
    "svg script": '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">x</a></svg>SAFE',
    "svg style mutation": "<svg><style>&lt;/style&gt;&lt;img src=x onerror=alert(1)&gt;</style></svg>SAFE",
    "math mutation": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></math>SAFE",
    "noscript mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>SAFE',
    "javascript href": '<a href="  JaVaScRiPt:alert(1)">SAFE</a>',
    "entity href": '<a href="&#106;avascript:alert(1)">SAFE</a>',
    "hex entity no semicolon": '<a href="&#x6A&#x61vascript:alert(1)">SAFE</a>',
    "tab in scheme": '<a href="java&#x09;script:alert(1)">SAFE</a>',
    "newline in scheme": '<a href="java\nscript:alert(1)">SAFE</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">SAFE</a>',
    "data html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">SAFE</a>',
    "data svg image": '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">SAFE',
    "iframe": '<iframe src="https://evil/" srcdoc="<script>alert(1)</script>"></iframe>SAFE',
    "object embed": '<object data="x.swf"></object><embed src="x.swf">SAFE',
    "frameset": "<frameset><frame src=javascript:alert(1)></frameset>SAFE",
    "base": '<base href="https://evil/">SAFE',
    "form": '<form action="https://evil/"><input name=p><button formaction=javascript:alert(1)>b</button></form>SAFE',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">SAFE',
    "external stylesheet": '<link rel="stylesheet" href="https://evil/x.css">SAFE',
    "style import": '<style>@import url("https://evil/x.css"); p {color: red}</style>SAFE',
    "style url": "<style>p {background: url(javascript:alert(1))}</style>SAFE",
    "style closes early": '<style>p::after {content: "</style><script>alert(1)</script>"}</style>SAFE',
    "style attribute": '<p style="color: red; background-image: url(javascript:alert(1))">SAFE</p>',
    "comment": "<!--<script>alert(1)</script>-->SAFE<!--[if IE]><script>alert(1)</script><![endif]-->",
    "malformed nesting": "<div><p><b><i>SAFE</div></b><script>alert(1)",
    "attribute breakout": '<p title="x"><img src=x onerror=alert(1)>">SAFE</p>',
    "template": "<template><script>alert(1)</script></template>SAFE",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>SAFE",
    "details ontoggle": "<details open ontoggle=alert(1)><summary>SAFE</summary></details>",
    "xmp": "<xmp><script>alert(1)</script></xmp>SAFE",
    "null byte": "<scr\x00ipt>alert(1)</script>SAFE<a href='jav\x00ascript:alert(1)'>x</a>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_sanitize_html_removes_scripts_and_keeps_text(name):
    out = sanitize_html(HOSTILE[name])
    assert_safe(out)
    assert "SAFE" in out
    assert sanitize_html(out) == out, "sanitizing twice must change nothing (a mutation would show here)"


def test_sanitize_html_keeps_harmless_content():
    page = ('<html><head><meta charset="utf-8"><title>Feedback</title><style>.a > p {color: red}</style></head>'
            '<body><h1 id="t">Score 3/4</h1><table><tr><td colspan="2">1 &lt; 2</td></tr></table>'
            '<a href="https://pytorch.org/docs">docs</a> <a href="#t">top</a> <a href="other.html">rel</a>'
            '<img src="data:image/png;base64,iVBORw0KGgo=" alt="plot" width="10"><pre><code>x = 1</code></pre>'
            '<p class="c" style="color: red">styled</p></body></html>')
    out = sanitize_html(page)
    for kept in ("<title>Feedback</title>", ".a > p {color: red}", '<h1 id="t">Score 3/4</h1>', 'colspan="2"',
                 "1 &lt; 2", 'href="https://pytorch.org/docs"', 'href="#t"', 'href="other.html"',
                 'src="data:image/png;base64,iVBORw0KGgo="', 'alt="plot"', "<pre><code>x = 1</code></pre>",
                 'class="c"', "color: red", '<meta charset="utf-8">'):
        assert kept in out, f"{kept!r} lost: {out!r}"


def test_sanitize_html_rejects_non_strings():
    with pytest.raises(TypeError, match="text must be str"):
        sanitize_html(b"<p>")


def test_sanitize_feedback_file_rewrites_the_page(tmp_path):
    path = tmp_path / "feedback.html"
    path.write_text("<!DOCTYPE html><html><head><script src=x.js></script></head><body>"
                    "<div onclick=alert(1)>Score é</div><script>alert(1)</script></body></html>", encoding="utf-8")
    sanitize_feedback_file(path)
    text = path.read_text(encoding="utf-8")
    assert_safe(text.replace("<!DOCTYPE html>", ""))
    assert "<div>Score é</div>" in text and '<meta charset="utf-8">' in text


# ---------------------------------------------------------------------------------------------- SanitizeOutputs

def test_sanitize_outputs_makes_the_notebook_static():
    png = base64.b64encode(b"\x89PNG fake").decode()
    cell = new_code_cell("show()", outputs=[
        new_output("display_data", data={"application/javascript": "alert(1)", "text/plain": "kept plain"}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "m"}}),
        new_output("execute_result", execution_count=1, data={
            "text/html": "<b onclick=alert(1)>bold</b><script>alert(1)</script>", "image/png": png},
            metadata={"image/png": {"width": "1 onerror=alert(1)", "height": 20}}),
        new_output("display_data", data={"image/png": '"><script>alert(1)</script>'}),
        new_output("display_data", data={"text/markdown": "[x](javascript:alert(1)) **md**"}),
        new_output("stream", name="stdout", text="<script>escaped by the template</script>"),
    ])
    nb = new_notebook(cells=[new_markdown_cell("# Title\n\n<img src=x onerror=alert(1)> `a < b`\n\n```\nx\n\ny\n```"),
                             new_raw_cell("<script>alert(1)</script>raw"), cell],
                      metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    nb, _ = SanitizeOutputs().preprocess(nb, {})
    assert "widgets" not in nb.metadata
    outputs = nb.cells[2].outputs
    assert [o.get("data", {}).keys() and sorted(o.data) for o in outputs[:3]] == [
        ["text/plain"], ["image/png", "text/html"], ["text/html"]]
    assert outputs[1].data["text/html"] == "<b>bold</b>" and outputs[1].metadata == {"image/png": {"height": 20}}
    assert_safe(outputs[2].data["text/html"]) and "<strong>md</strong>" in outputs[2].data["text/html"]
    assert outputs[3].output_type == "stream"  # streams are escaped by the template, left as they are
    markdown = nb.cells[0].source
    assert_safe(markdown)
    assert "\n" not in markdown and ">Title<" in markdown and "<code>a &lt; b</code>" in markdown
    assert nb.cells[1].source == "raw"


def test_hide_hidden_tests_still_works_beside_sanitize():
    test = new_code_cell("assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2, 'hidden check'\n"
                         "### END HIDDEN TESTS", metadata={"nbgrader": {"grade": True, "grade_id": "t",
                                                                       "points": 1, "solution": False}})
    nb, _ = HideHiddenTests().preprocess(new_notebook(cells=[test]), {})
    assert "hidden check" not in nb.cells[0].source


# --------------------------------------------------------------------------------------------------- CapOutputs

def _sizes(nb):
    return sum(len(nbformat.writes(o)) for c in nb.cells for o in c.get("outputs", []))


def test_cap_outputs_truncates_a_large_stream_with_a_stdout_note():
    nb = new_notebook(cells=[new_code_cell("print", outputs=[
        new_output("stream", name="stdout", text="x" * (3 << 20)),
        new_output("stream", name="stderr", text="é" * (1 << 20)),
        new_output("error", ename="ValueError", evalue="v" * (2 << 20), traceback=["line"] * 10),
        new_output("stream", name="stdout", text="small\n"),
    ])])
    nb, _ = CapOutputs().preprocess(nb, {})
    outs = nb.cells[0].outputs
    kinds = [(o.output_type, o.get("name")) for o in outs]
    assert kinds == [("stream", "stdout"), ("stream", "stdout"), ("stream", "stderr"), ("stream", "stdout"),
                     ("error", None), ("stream", "stdout"), ("stream", "stdout")]
    assert len(outs[0].text) == 1 << 20 and outs[1].text.startswith("[output truncated by the grader: stdout cut")
    assert len(outs[2].text.encode()) <= 1 << 20 and "stderr cut" in outs[3].text
    assert outs[4].ename == "ValueError" and len(outs[4].evalue) <= 1024  # still an error: the cell still fails
    assert outs[6].text == "small\n"


def test_cap_outputs_caps_the_notebook_and_drops_large_images():
    big_png = base64.b64encode(bytes(2 << 20)).decode()  # 2 MiB of image, 2.7 MiB of base64
    small_png = base64.b64encode(bytes(100)).decode()
    cells = [new_code_cell("plot", outputs=[new_output("display_data", data={"image/png": big_png,
                                                                             "text/plain": "<Figure>"},
                                                       metadata={"image/png": {"width": 10}}),
                                            new_output("display_data", data={"image/png": small_png})])]
    cells += [new_code_cell(f"print({i})", outputs=[new_output("stream", name="stdout", text="y" * (1 << 20)),
                                                    new_output("stream", name="stdout", text="z" * 100)])
              for i in range(30)]  # 30 MiB in all
    nb = new_notebook(cells=cells)
    nb, _ = CapOutputs().preprocess(nb, {})
    first = nb.cells[0].outputs
    assert first[0].data == {"text/plain": "<Figure>"} and "image/png" not in first[0].metadata
    assert "image/png of" in first[1].text and first[1].name == "stdout"
    assert first[2].data["image/png"] == small_png
    assert _sizes(nb) < (20 << 20) + (1 << 20)
    last = nb.cells[-1].outputs
    assert len(last) == 1 and last[0].name == "stdout" and "max_notebook_bytes" in last[0].text
    assert all(o.get("name") != "stderr" for c in nb.cells for o in c.outputs if o.output_type == "stream")


def test_cap_outputs_counts_and_cuts_metadata():
    """An output's metadata is the kernel's to set, as its data is: 20 MB beside a one-character text/plain passed
    both caps and stayed in the autograded notebook, ten times over."""
    pad = {"text/plain": {"pad": "m" * (20 << 20)}}
    cells = [new_code_cell("show", outputs=[new_output("display_data", data={"text/plain": "a"}, metadata=pad)
                                            for _ in range(10)])]
    cells += [new_code_cell("plot", outputs=[new_output("display_data", data={"text/plain": "<Figure>"},
                                                        metadata={"text/plain": {"width": 10}})])]
    nb, _ = CapOutputs().preprocess(new_notebook(cells=cells), {})
    assert len(json.dumps(nb)) < (20 << 20) + (1 << 20)
    first = nb.cells[0].outputs
    assert first[0].data == {"text/plain": "a"} and not first[0].metadata
    assert "metadata of" in first[1].text and first[1].name == "stdout"
    assert nb.cells[1].outputs[0].metadata == {"text/plain": {"width": 10}}  # small metadata stays


def test_cap_outputs_is_configurable():
    from traitlets.config import Config

    config = Config()
    config.CapOutputs.max_output_bytes = 10
    config.CapOutputs.max_notebook_bytes = 15
    cap = CapOutputs(config=config)
    nb = new_notebook(cells=[new_code_cell("p", outputs=[new_output("stream", name="stdout", text="a" * 50)]),
                             new_code_cell("p", outputs=[new_output("stream", name="stdout", text="b" * 50)])])
    nb, _ = cap.preprocess(nb, {})
    assert nb.cells[0].outputs[0].text == "a" * 10 and nb.cells[1].outputs[0].text == "b" * 5
    assert "max_notebook_bytes" in nb.cells[1].outputs[1].text


# ------------------------------------------------------------------------------------------------- similarity

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
RECEPTIVE = '''def receptive_field(layers):
    """Receptive field and jump of a stack of layers."""
    r, j = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[3] if len(layer) == 4 else 1
        r += d * (k - 1) * j
        j *= s
    return r, j
'''
# The same code, names renamed, comments and layout changed.
RENAMED = '''def receptive_field(stack):
    # my own work
    rf, jump = 1, 1
    for l in stack:
        kernel, stride = l[0], l[1]
        dil = (l[3]
               if len(l) == 4 else 1)
        rf += dil * (kernel - 1) * jump
        jump *= stride
    return rf, jump
'''
HONEST = '''def receptive_field(layers):
    size, step = 1, 1
    for spec in layers:
        spec = tuple(spec) + (0, 1)[len(spec) - 2:]
        kernel, stride, _, dilation = spec[:4]
        size = size + (dilation * (kernel - 1)) * step
        step = step * stride
    return size, step
'''
HONEST_2 = '''import math

def receptive_field(layers):
    jumps = [1]
    for layer in layers:
        jumps.append(jumps[-1] * layer[1])
    extents = [(layer[3] if len(layer) > 3 else 1) * (layer[0] - 1) for layer in layers]
    return 1 + sum(e * j for e, j in zip(extents, jumps)), math.prod(layer[1] for layer in layers)
'''
HEATMAP = '''def my_heatmap_argmax(heatmaps, *, stride=1):
    B, J, h, w = heatmaps.shape
    idx = heatmaps.reshape(B, J, h * w).argmax(dim=-1)
    u, v = (idx % w).float(), (idx // w).float()
    return stride * torch.stack([u, v], dim=-1) + (stride - 1) / 2
'''
HEATMAP_RENAMED = '''def my_heatmap_argmax(maps, *, stride=1):
    """Argmax."""
    b, j, hh, ww = maps.shape
    flat_index = maps.reshape(b, j, hh * ww).argmax(dim=-1)  # (B, J)
    col, row = (flat_index % ww).float(), (flat_index // ww).float()
    return stride * torch.stack([col, row], dim=-1) + (stride - 1) / 2
'''
HEATMAP_HONEST = '''def my_heatmap_argmax(heatmaps, *, stride=1):
    w = heatmaps.shape[-1]
    flat = heatmaps.flatten(start_dim=2)
    best = torch.max(flat, dim=2).indices
    xy = torch.stack([best.remainder(w), best.div(w, rounding_mode="floor")], dim=-1).to(torch.float32)
    return xy * stride + 0.5 * (stride - 1)
'''


def notebook(**answers):
    """A submission: one answer cell per grade_id (the source given, or the stub), plus other cells."""
    cells = [new_markdown_cell("# Lecture"), new_code_cell("import torch")]
    for grade_id, source in answers.items():
        cells.append(new_code_cell(source, metadata={"nbgrader": {
            "solution": True, "grade": False, "grade_id": grade_id, "locked": False}}))
        cells.append(new_code_cell(f"assert {grade_id}", metadata={"nbgrader": {
            "solution": False, "grade": True, "grade_id": f"test_{grade_id}", "points": 1}}))
    return new_notebook(cells=cells)


def test_normalisation_ignores_names_comments_docstrings_and_layout():
    assert normalised_tokens(RECEPTIVE) == normalised_tokens(RENAMED)
    assert normalised_tokens(RECEPTIVE) != normalised_tokens(HONEST)
    assert normalised_tokens(f"def receptive_field(layers):\n    {STUB}".replace("\nraise", "\n    raise")) == []
    assert normalised_tokens("def f(:") is None
    # Library calls and constants stay: x.sum() and x.mean() differ, as do 1 and 2.
    assert normalised_tokens("def f(x):\n    return x.sum()") != normalised_tokens("def f(x):\n    return x.mean()")
    assert normalised_tokens("def f(x):\n    return x + 1") != normalised_tokens("def f(x):\n    return x + 2")
    # Attributes the code assigns on its own objects are renamed too.
    a = "class M:\n    def __init__(self):\n        self.weight = 1\n    def go(self):\n        return self.weight"
    b = "class N:\n    def __init__(me):\n        me.w = 1\n    def run(me):\n        return me.w"
    assert normalised_tokens(a) == normalised_tokens(b)


def test_similar_pairs_flags_renamed_copies_only():
    stub_rf = "def receptive_field(layers):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    stub_hm = "def my_heatmap_argmax(heatmaps, *, stride=1):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    submissions = {
        "alice": notebook(ex_rf=RECEPTIVE, ex_hm=HEATMAP),
        "bob": notebook(ex_rf=RENAMED, ex_hm=HEATMAP_RENAMED),  # copied both from alice, renamed
        "carol": notebook(ex_rf=HONEST, ex_hm=HEATMAP_HONEST),
        "dave": notebook(ex_rf=HONEST_2, ex_hm=stub_hm),
        "erin": notebook(ex_rf=stub_rf, ex_hm=stub_hm),  # empty submissions: identical stubs
        "frank": notebook(ex_rf=stub_rf, ex_hm=stub_hm),
        "grace": notebook(ex_rf="def receptive_field(layers:\n    return 1", ex_hm=HEATMAP_HONEST + "\n\n"),
    }
    pairs = similar_pairs(submissions)
    assert pairs[0] == ("alice", "bob", 1.0, ["ex_hm", "ex_rf"])
    flagged = {(a, b) for a, b, _, _ in pairs}
    assert flagged == {("alice", "bob"), ("carol", "grace")}  # grace's heat map is carol's, her other cell broken
    assert [p for p in pairs if p[:2] == ("carol", "grace")][0][3] == ["ex_hm"]


LINES = ["y = x * {c}", "y = torch.relu(y) + {c}", "z = y.sum(dim=1, keepdim=True)", "y = y / (z + {c})",
         "for i in range({c}):\n        y = y + i", "w = torch.flip(y, dims=(0,))", "y = torch.cat([y, x], dim=-1)",
         "y = y[..., ::2] - x.mean()", "if y.ndim > 2:\n        y = y.flatten(1)", "y = F.softmax(y * {c}, dim=0)",
         "m = y.max(); y = torch.where(y > m / 2, y, x)", "y = (y ** 2).clamp(min={c})"]


def test_similar_pairs_is_fast_for_a_class():
    rng = random.Random(0)
    submissions = {}
    for i in range(200):  # 200 students x 3 answer cells, each answer 6 of 12 steps in some order
        cells = {}
        for grade_id in ("ex_a", "ex_b", "ex_c"):
            steps = [line.format(c=rng.randrange(5)) for line in rng.sample(LINES, 6)]
            cells[grade_id] = "def f(x):\n    " + "\n    ".join(steps) + "\n    return y\n"
        submissions[f"s{i:03d}"] = notebook(**cells)
    submissions["copy"] = notebook(**{g: RENAMED if g == "ex_a" else "" for g in ("ex_a", "ex_b")})
    submissions["original"] = notebook(ex_a=RECEPTIVE, ex_b=HONEST)
    start = time.perf_counter()
    pairs = similar_pairs(submissions)
    seconds = time.perf_counter() - start
    assert seconds < 8, f"similar_pairs took {seconds:.1f} s for 200 x 3 cells"
    assert ("copy", "original", 1.0, ["ex_a"]) in pairs


def test_copies_of_reference():
    import inspect

    from course_lib.core import receptive

    reference = {"ex_rf": RECEPTIVE, "ex_hm": HEATMAP}
    copied = notebook(ex_rf="import math\n\n" + RENAMED.replace("receptive_field", "mine"), ex_hm=HEATMAP_HONEST)
    assert copies_of_reference(copied, reference) == ["ex_rf"]
    assert copies_of_reference(notebook(ex_rf=HONEST, ex_hm=HEATMAP_HONEST), reference) == []
    assert copies_of_reference(notebook(ex_rf=STUB, ex_hm="def my_heatmap_argmax(h:"), reference) == []
    with pytest.raises(ValueError, match="one function"):
        copies_of_reference(copied, {"ex_rf": "x = 1"})
    # With course_lib's own source as the reference, as the driver will use it.
    source = inspect.getsource(receptive.receptive_field)
    pasted = source.replace("receptive_field", "my_receptive_field").replace("layers", "stack")
    assert copies_of_reference(notebook(ex_receptive_field=pasted), {"ex_receptive_field": source}) == [
        "ex_receptive_field"]


def test_feedback_is_made_in_one_process_and_a_failed_page_is_retried_alone(tmp_path, monkeypatch):
    """make grade writes every page in one nbgrader run (the other students of autograded/ excluded); a page that
    run did not make is tried again alone, and only what still fails is reported. A page from an earlier run never
    counts as made now."""
    from course_lib.grading import driver

    lecture = "00_welcome"
    for student in ("ada", "bob", "cyd", "old"):
        (tmp_path / "autograded" / student / lecture).mkdir(parents=True)
    stale = tmp_path / "feedback" / "cyd" / lecture / f"{lecture}.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<p>last week's page</p>")
    calls = []

    def fake(args, env, cwd=None, timeout=None):
        calls.append(args)
        if "--student" in args:  # alone: bob's page is made now, cyd's fails again
            student = args[args.index("--student") + 1]
            if student == "cyd":
                return 1, "cyd: the converter failed\n", 0.1
            made = [student]
        else:  # the batch: ada's page only (bob's and cyd's conversions failed, their folders removed)
            made = ["ada"]
        for student in made:
            page = tmp_path / "feedback" / student / lecture / f"{lecture}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<p>ok</p><script>alert(1)</script>")
        return 0, "", 0.1

    monkeypatch.setattr(driver, "_nbgrader", fake)
    problems = driver.generate_feedback(tmp_path, lecture, ["ada", "bob", "cyd"], {})
    assert calls[0] == ["generate_feedback", lecture, "--force", "--CourseDirectory.student_id_exclude=old"]
    assert [c[3] for c in calls[1:]] == ["bob", "cyd"], "only the pages the batch did not make are tried again"
    assert problems == [("cyd", "cyd: the converter failed\n")]
    assert not stale.exists(), "last week's page must not pass for this week's"
    assert "<script" not in (tmp_path / "feedback" / "bob" / lecture / f"{lecture}.html").read_text()
