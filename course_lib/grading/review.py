"""What deserves a look by hand: code that tampers with the kernel, and (see :func:`similar_pairs`) copying.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import ast
import json
import pathlib

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
