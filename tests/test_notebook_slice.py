"""The cells `make test` runs in a solutions/ notebook (tests/notebook_slice.py): every cell a graded cell may need.

Each case is a tiny notebook whose last cell is graded; the expected slice is what running it needs. A cell wrongly
left out would make the graded cell fail (or pass on a state the notebook never has); a cell wrongly kept only
costs time, so the cases that keep are as important as the ones that drop.
"""

import json

import pytest
from nbtools import ROOT, lecture_names
from notebook_slice import graded_slice

CASES = {
    "a name read by the graded cell keeps its binder, transitively": (
        ["import torch", "a = 1", "b = a + 1", "unrelated = 5", "assert b == 2"], [0, 1, 2, 4]),
    "a function's parameters and locals are its own": (
        ["import torch", "sigma = 3\nr = 2", "def k(sigma):\n    r = sigma * 2\n    return r", "assert k(1) == 2"],
        [0, 2, 3]),
    "a global read inside a function body keeps its binder": (
        ["x = 0", "scale = 4", "def f(v):\n    return v * scale", "assert f(2) == 8"], [0, 1, 2, 3]),
    "a method call, an item or attribute assignment may change a name": (
        ["x = 0", "y = [1]", "y.append(2)", "d = {}", "d['k'] = 1", "o = type('O', (), {})()", "o.v = 3",
         "assert y == [1, 2] and d == {'k': 1} and o.v == 3"], [0, 1, 2, 3, 4, 5, 6, 7]),
    "a name passed to a call may be changed in place": (
        ["import random", "net = [3, 1, 2]", "random.shuffle(net)", "assert sorted(net) == [1, 2, 3]"],
        [0, 1, 2, 3]),
    "a call on an imported module binds nothing": (
        ["import matplotlib.pyplot as plt", "w = 1", "plt.figure()", "plt.close('all')", "assert w == 1"],
        [0, 1, 4]),
    "a global declaration in a function binds the name": (
        ["x = 0", "def set_g():\n    global g\n    g = 5", "set_g()", "assert g == 5"], [0, 1, 2, 3]),
    "a magic or a star import is always kept": (
        ["x = 0", "%matplotlib inline", "from math import *", "y = 1", "assert True"], [0, 1, 2, 4]),
    "comprehension variables are the comprehension's own": (
        ["x = 0", "i = 99", "sq = [i * i for i in range(3)]", "assert sq == [0, 1, 4]"], [0, 2, 3]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_slice_keeps_what_the_graded_cell_needs(name):
    sources, expected = CASES[name]
    assert sorted(graded_slice(sources, [i == len(sources) - 1 for i in range(len(sources))])) == expected


@pytest.mark.parametrize("name", CASES)
def test_the_slice_runs_to_the_same_graded_result(name):
    """Executing only the slice gives the graded cell what the whole notebook gives it (magics aside)."""
    sources, _ = CASES[name]
    keep = graded_slice(sources, [i == len(sources) - 1 for i in range(len(sources))])
    namespace = {}
    for i, source in enumerate(sources):
        if i in keep and not source.startswith("%"):
            exec(source, namespace)  # the last cell's asserts hold


def test_every_graded_cell_of_every_solution_is_kept():
    for lecture in lecture_names():
        nb = json.loads((ROOT / "solutions" / lecture / f"{lecture}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        graded = ["nbgrader" in c["metadata"] for c in code]
        keep = graded_slice(["".join(c["source"]) for c in code], graded)
        assert {i for i, g in enumerate(graded) if g} | {0} <= keep, lecture
        assert len(keep) < len(code), f"{lecture}: nothing left out; is the analysis keeping everything?"


def test_one_flag_per_cell():
    with pytest.raises(ValueError, match="one graded flag per cell"):
        graded_slice(["x = 1"], [])
