"""Which cells of a ``solutions/`` notebook ``make test`` runs: the graded cells and every earlier cell they need.

``lectures/`` is ``solutions/`` released (``test_lectures_are_not_stale``): the same cells, each answer replaced by
a stub whose ``name = exercise(name, reference=...)`` binding falls back to course_lib's reference. nbval runs every
``lectures/`` notebook whole, so every cell of every lecture runs in ``make test``. What ``solutions/`` adds is the
instructor's answers inside their notebook: each must pass the visible test cells there, in the state the cells
before them leave. So in ``solutions/`` the suite runs the nbgrader cells (answers and tests), the first code cell
(imports, seed, device) and, transitively, every earlier cell that may bind or change a name they read; the other
cells (tables, figures, timings) would only run again what ``lectures/`` runs. ``make test-solutions`` runs
``solutions/`` whole.

The analysis is static and errs on the side of keeping a cell. A cell *reads* the global names it loads, in function
bodies too (Python's own scoping, from :mod:`symtable`: a function's parameters and locals are its own). It *binds*
the global names it assigns, imports, defines or deletes, and the ones it may change in place: an attribute or item
assigned, a method called, a name passed to a call (imported modules exempt from the last two: ``plt.show()`` binds
nothing), and the globals that a function it calls declares. A cell that does not parse as Python (an IPython
magic) or star-imports is always kept. A missed name makes a graded cell fail with a ``NameError``: loud. A change
the analysis cannot see (an object changed through another name for it) could give a graded cell other values
than the whole notebook does; the answers are then still checked against their references by
``tests/test_exercise_wrong_answers.py``, and ``make test-solutions`` runs ``solutions/`` whole.
"""

from __future__ import annotations

import ast
import builtins
import symtable

BUILTINS = frozenset(dir(builtins))


def _imported(tree: ast.AST) -> set[str]:
    """Names bound by import statements in ``tree``."""
    return {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names}


def _base(node: ast.AST) -> str | None:
    """The name at the root of ``a.b[c].d``, or None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _scopes(table: symtable.SymbolTable):
    yield table
    for child in table.get_children():
        yield from _scopes(child)


def _binds_and_reads(source: str, tree: ast.AST, modules: set[str]) -> tuple[set[str], set[str]]:
    """The global names a cell binds and reads (scopes from :mod:`symtable`: a function's parameters and locals are
    its own), with the names it may change in place (an attribute or item assigned, a method called, an argument
    passed) counted as bound."""
    top = symtable.symtable(source, "<cell>", "exec")
    binds, reads = set(), set()
    for scope in _scopes(top):
        for sym in scope.get_symbols():
            name, outer = sym.get_name(), scope is top
            if sym.is_referenced() and (outer or sym.is_global()):
                reads.add(name)
            if (sym.is_assigned() or sym.is_imported() or sym.is_namespace()) and (outer or sym.is_declared_global()):
                binds.add(name)
    changed = []
    for n in ast.walk(tree):
        if isinstance(n, (ast.Attribute, ast.Subscript, ast.Name)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            changed.append(n)
        elif isinstance(n, ast.Call):
            changed += [n.func.value] if isinstance(n.func, ast.Attribute) else []
            changed += [*n.args, *(k.value for k in n.keywords)]
    binds.update(name for name in map(_base, changed) if name in reads and name not in modules)
    return binds, reads - BUILTINS


def graded_slice(sources: list[str], graded: list[bool]) -> set[int]:
    """Indices of the code cells to run: the first, the ``graded`` ones (nbgrader cells), the ones that do not parse
    or star-import, and every earlier cell that binds a name one of those reads, transitively.

    >>> sorted(graded_slice(["import torch", "x = torch.ones(2)", "print(x)", "y = [1]", "y.append(2)", "t = y",
    ...                      "assert t == [1, 2]"], [False, False, False, False, False, False, True]))
    [0, 3, 4, 5, 6]
    """
    if len(sources) != len(graded):
        raise ValueError(f"expected one graded flag per cell ({len(sources)}), got {len(graded)}")
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:
            trees.append(None)
    modules = set().union(*(_imported(t) for t in trees if t is not None))
    info = [_binds_and_reads(s, t, modules) if t is not None else (set(), set()) for s, t in zip(sources, trees)]
    # A function that declares globals binds them where it is called: its name read binds them there too.
    declares = {f.name: {name for g in ast.walk(f) if isinstance(g, ast.Global) for name in g.names}
                for t in trees if t is not None for f in ast.walk(t)
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for binds, reads in info:
        binds.update(*(declares[f] for f in reads & declares.keys()))
    star = {i for i, t in enumerate(trees) if t is None or any(
        isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(t))}
    keep = {0} | {i for i, g in enumerate(graded) if g} | star if sources else set()
    todo = sorted(keep)
    while todo:
        i = todo.pop()
        for j in range(i):
            if j not in keep and info[j][0] & info[i][1]:
                keep.add(j)
                todo.append(j)
    return keep
