"""What deserves a look by hand: code that tampers with the kernel (:func:`tampering`), near-identical answers
(:func:`similar_pairs`) and answers that reproduce course_lib's reference (:func:`copies_of_reference`).

The similarity check follows the idea of token-based plagiarism detectors (MOSS: Schleimer, Wilkerson, Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003; JPlag), at the AST level: names and
formatting are normalised away before answers are compared. Unlike those tools it compares whole answer cells
with difflib's SequenceMatcher (exercises here are a few lines long, so fingerprints of k-grams would see too
little). None of it is a verdict: every flag is for review by hand, never a penalty.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import ast
import difflib
import json
import pathlib
import textwrap

# Names a lecture never needs and a submission that tampers with the grading would: the kernel's own machinery.
KERNEL_INTERNALS = {"get_ipython", "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
                    "run_cell", "settrace", "setprofile", "__builtins__", "builtins", "ctypes", "__code__",
                    "__globals__", "_getframe", "get_referrers", "putenv", "unsetenv"}


def tampering(notebook) -> list[str]:
    """Why a submitted notebook deserves a look by hand: kernel internals it names, modules it patches.

    The sandbox and :func:`original` stop a submission from reading hidden tests or swapping the checking
    helpers; a submission that rewrites the kernel itself (``get_ipython().run_cell``, AST transformers) could
    still fake a passing test cell, since nbgrader runs the tests in the student's kernel. This static scan flags
    such code, ``sys.modules`` and ``os.environ`` edits, and assignments to attributes of imported modules
    (``torch.testing.assert_close = ...``). A flag is a reason to look, not a verdict.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": "import torch\\ntorch.testing.assert_close = print"}]}
    >>> tampering(nb)
    ['assigns torch.testing.assert_close']
    """
    if not isinstance(notebook, dict):
        notebook = json.loads(pathlib.Path(notebook).read_text())
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        lines = "".join(cell.get("source", "")).splitlines()
        try:  # IPython magics and shell escapes are not Python
            tree = ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}

        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in KERNEL_INTERNALS:
                found.append(f"uses {node.id}")
            elif isinstance(node, ast.Attribute) and node.attr in KERNEL_INTERNALS:
                found.append(f"uses {node.attr}")
            elif isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.modules":
                found.append("uses sys.modules")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "pop", "popitem", "clear", "update", "setdefault") and ast.unparse(node.func.value) == "os.environ":
                found.append(f"calls {ast.unparse(node.func)}")
            targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                       else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                    "setattr", "delattr") and node.args and _on_module(node.args[0], modules):
                found.append(f"{node.func.id} on {ast.unparse(node.args[0])}")
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)) and _on_module(target, modules):
                    found.append(f"assigns {ast.unparse(target)}")
    return list(dict.fromkeys(found))


def _on_module(node, modules: set[str]) -> bool:
    """True for ``module.a.b`` or ``module.a[k]`` where ``module`` is a name the cell imported."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id in modules


# ---------------------------------------------------------------------------------------------------------------
# Near-identical answers
# ---------------------------------------------------------------------------------------------------------------

def normalised_tokens(source: str, *, scope: ast.AST | None = None) -> list[str] | None:
    """The answer code as a token list with names, docstrings, comments and formatting normalised away.

    Names the code binds (assignment targets, arguments, loop and ``with`` targets, defined functions and classes)
    become ``v0, v1, ...`` in order of appearance; attributes it assigns on them (``self.w = ...``) and methods it
    defines become ``a0, a1, ...``. Names it does not bind (``torch``, ``F``, builtins, course_lib helpers),
    attributes it only reads (``x.sum``), keyword names of library calls, and constants stay as written. Imports,
    type annotations, docstrings and a leftover stub line (``raise NotImplementedError``) are dropped. ``scope``
    normalises one already parsed node (a function) instead of ``source``. Returns None for code that does not
    parse, ``[]`` when nothing but a stub is left (signatures whose bodies are empty, ``pass`` or ``...``).

    >>> normalised_tokens("def f(x):\\n    total = x.sum()  # comment\\n    return total") == normalised_tokens(
    ...     'def g(values):\\n    "doc"\\n    s = values.sum()\\n    return s')
    True
    >>> normalised_tokens("def f(x):\\n    # YOUR CODE HERE\\n    raise NotImplementedError()")
    []
    """
    normalised = _normalise(source, scope)
    return None if normalised is None else normalised[0]


def _normalise(source: str, scope: ast.AST | None) -> tuple[list[str], int] | None:
    """(:func:`normalised_tokens`, how many of them are not in a ``def`` line: the answer's own size)."""
    try:
        tree = ast.parse(_python_lines(source)) if scope is None else scope
    except SyntaxError:
        return None
    bound, attrs = _bound_names(tree)
    names, tokens, signature = {}, [], 0

    def name(n: str, kind: str) -> str:
        if n not in (attrs if kind == "a" else bound):
            return n
        return names.setdefault((kind, n), f"{kind}{sum(k == kind for k, _ in names)}")

    def visit(node) -> None:
        nonlocal signature
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.expr_context)) or _is_stub_line(node):
            return
        tokens.append(type(node).__name__)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            tokens.append(name(node.name, "v"))
            fields = ("args", "bases", "keywords", "body", "decorator_list")
        elif isinstance(node, ast.arg):
            tokens.append(name(node.arg, "v"))
            fields = ()
        elif isinstance(node, ast.Name):
            tokens.append(name(node.id, "v"))
            fields = ()
        elif isinstance(node, ast.Attribute):
            fields = ("value",)
        elif isinstance(node, ast.keyword):
            tokens.append(name(node.arg, "v") if node.arg else "**")
            fields = ("value",)
        elif isinstance(node, ast.Constant):
            tokens.append(repr(node.value))
            fields = ()
        elif isinstance(node, ast.ExceptHandler):
            tokens.append(name(node.name, "v") if node.name else "")
            fields = ("type", "body")
        else:
            fields = tuple(f for f in node._fields if f not in ("annotation", "returns", "type_comment"))
        for field in fields:
            start, value = len(tokens), getattr(node, field, None)
            if isinstance(value, list):
                for item in (_without_docstring(value) if field == "body" else value):
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)
            if field != "body" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                signature += len(tokens) - start
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            signature += 2
        if isinstance(node, ast.Attribute):  # after its base, in reading order: x.w -> v1 a0
            base = node.value.id if isinstance(node.value, ast.Name) else None
            tokens.append(name(node.attr, "a") if base in bound else node.attr)

    statements = _without_docstring(tree.body if isinstance(tree, ast.Module) else [tree])
    if all(_is_stub(stmt) for stmt in statements):
        return [], 0
    for stmt in statements:
        visit(stmt)
    return tokens, len(tokens) - signature


def _python_lines(source) -> str:
    """Source without IPython magics and shell escapes (not Python)."""
    lines = "".join(source).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def _is_stub_line(node) -> bool:
    """``raise NotImplementedError`` or ``raise NotImplementedError(...)``: the release's stub line."""
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _is_stub(stmt) -> bool:
    """An import, the stub line, ``pass``, ``...``, or a function whose body holds nothing else."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return all(_is_stub(s) for s in _without_docstring(stmt.body))
    return (isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)) or _is_stub_line(stmt)
            or isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is ...)


def _without_docstring(body: list) -> list:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _bound_names(tree) -> tuple[set[str], set[str]]:
    """(names the code binds, attribute names it assigns on them or defines as methods)."""
    bound, attrs = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            if isinstance(node, ast.ClassDef):
                attrs |= {m.name for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load) and isinstance(
                node.value, ast.Name) and node.value.id in bound:
            attrs.add(node.attr)
    return bound, attrs


def _answer_cells(notebook):
    """(grade_id, source) of each answer cell (code, ``nbgrader.solution`` true)."""
    if not isinstance(notebook, dict):
        notebook = json.loads(pathlib.Path(notebook).read_text())
    for index, cell in enumerate(notebook.get("cells", [])):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") == "code" and meta.get("solution") is True:
            yield str(meta.get("grade_id", f"cell-{index}")), "".join(cell.get("source", ""))


def similar_pairs(submissions: dict[str, dict], *, threshold: float = 0.9,
                  min_tokens: int = 40) -> list[tuple[str, str, float, list[str]]]:
    """Pairs of students whose answer code is near-identical once names and formatting are normalised.

    Each answer cell (``nbgrader.solution``) is reduced to :func:`normalised_tokens`; for every pair of students
    and every grade_id both answered, difflib's SequenceMatcher ratio of the two token lists is the cell's
    similarity (1.0: the same code up to names, comments, docstrings and layout). Unchanged stubs, code that does
    not parse and answers whose bodies are shorter than ``min_tokens`` tokens (a one-line formula that honest
    students all write alike; the ``def`` lines, the same for everyone, are not counted) are not compared.
    O(n^2) pairs, kept fast by comparing identical token lists once and by difflib's upper bounds
    (``real_quick_ratio``, ``quick_ratio``), which skip most pairs before the full comparison.

    Parameters
    ----------
    submissions : dict
        ``{student: notebook}``, a notebook as a dict (as ``json.load`` gives it) or a path.
    threshold : float
        A cell is flagged when its similarity is at least this; in (0, 1].
    min_tokens : int
        Answers whose function bodies have fewer normalised tokens are left out (see above); a two-line
        answer has about 40.

    Returns
    -------
    list of (student_a, student_b, similarity, grade_ids)
        One row per pair with at least one flagged cell, ``student_a < student_b``; ``grade_ids`` lists the
        flagged cells; ``similarity`` is the mean cell similarity over all cells both answered, weighted by
        length. Sorted by similarity, then by the number of flagged cells, highest first. For review by hand,
        never a penalty.

    Lecture: 00_welcome (how exercises are graded)
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold}")
    answers = {}
    for student, notebook in sorted(submissions.items()):
        cells = {grade_id: _normalise(source, None) for grade_id, source in _answer_cells(notebook)}
        answers[student] = {g: tuple(c[0]) for g, c in cells.items() if c and c[1] >= min_tokens}
    flagged: dict[tuple[str, str], list[str]] = {}
    ratios: dict[tuple[str, tuple, tuple], float] = {}  # computed ratios, reused for the pairs' similarity
    for grade_id in sorted({g for cells in answers.values() for g in cells}):
        groups: dict[tuple, list[str]] = {}  # identical answers, compared once
        for student, cells in answers.items():
            if grade_id in cells:
                groups.setdefault(cells[grade_id], []).append(student)
        pairs = [(a, b) for members in groups.values() for i, a in enumerate(members) for b in members[i + 1:]]
        matcher, distinct = difflib.SequenceMatcher(autojunk=False), list(groups)
        for j, seq_b in enumerate(distinct):
            matcher.set_seq2(seq_b)  # the side difflib indexes: once for all seq_a
            for seq_a in distinct[:j]:
                matcher.set_seq1(seq_a)
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                ratios[grade_id, seq_a, seq_b] = ratios[grade_id, seq_b, seq_a] = ratio = matcher.ratio()
                if ratio >= threshold:
                    pairs += [tuple(sorted((a, b))) for a in groups[seq_a] for b in groups[seq_b]]
        for pair in pairs:
            flagged.setdefault(pair, []).append(grade_id)
    rows = []
    for (a, b), grade_ids in flagged.items():
        weighted = total = 0.0
        for grade_id in set(answers[a]) & set(answers[b]):
            ta, tb = answers[a][grade_id], answers[b][grade_id]
            ratio = 1.0 if ta == tb else ratios.get((grade_id, ta, tb))
            if ratio is None:
                ratio = difflib.SequenceMatcher(None, ta, tb, autojunk=False).ratio()
            weighted, total = weighted + ratio * (len(ta) + len(tb)), total + len(ta) + len(tb)
        rows.append((a, b, round(weighted / total, 4), sorted(grade_ids)))
    return sorted(rows, key=lambda row: (-row[2], -len(row[3]), row[0], row[1]))


def copies_of_reference(notebook: dict, references: dict[str, str]) -> list[str]:
    """grade_ids whose answer defines a function that normalises to the same code as the reference function.

    ``references`` maps a grade_id to the reference function's source (``inspect.getsource`` of course_lib's
    function). Each function the answer cell defines is normalised on its own (:func:`normalised_tokens` with
    ``scope``: its own names renamed, so neither its name, its docstring nor a helper defined beside it matters)
    and compared with the normalised reference. For review by hand, never a penalty.

    Lecture: 00_welcome (how exercises are graded)
    """
    wanted = {}
    for grade_id, source in references.items():
        functions = [n for n in ast.parse(textwrap.dedent(source)).body
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if len(functions) != 1:
            raise ValueError(f"references[{grade_id!r}] must be the source of one function; found "
                             f"{len(functions)} function definitions")
        wanted[grade_id] = normalised_tokens("", scope=functions[0])
    found = []
    for grade_id, source in _answer_cells(notebook):
        if not wanted.get(grade_id):
            continue
        try:
            tree = ast.parse(_python_lines(source))
        except SyntaxError:
            continue
        if any(normalised_tokens("", scope=node) == wanted[grade_id] for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
            found.append(grade_id)
    return found
