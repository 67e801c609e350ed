"""The answer server: the student's side of the trusted checker's channel. Plain data in, plain data out.

The checker (:mod:`course_lib.grading.checker`, the grader's process) decides every graded test cell. It never runs
test code in the student's kernel; instead it starts this script in a sandbox of its own (no network, no
``solutions/``, and a ``course_lib`` whose exercise references are withheld), sends it the submission's answer
cells, then calls the student's functions by name with arguments it made itself, and compares what comes back with
the reference *on its own side*. Everything in this process is the student's to rewrite, this file's code
included once their cells have run: the checker trusts none of it. What makes that safe is the channel:

* one JSON document per line, each way; the checker reads at most ``MAX_LINE`` bytes of an answer;
* values are exact built-in types (``None``, ``bool``, ``int``, ``float``, ``str``, lists, ``{"$tuple": [...]}``,
  ``{"$dict": {str: ...}}``), or arrays and tensors as ``{"$tensor": {"dtype", "shape", "data"}}`` (raw bytes in
  base64), which the checker rebuilds from the buffer with the dtype and shape it checks (:func:`decode`);
* anything else (an ``int`` subclass with a rigged ``__eq__``, a numpy scalar, an object) crosses as
  ``{"$unsupported": "its type"}``, which no check accepts.

Requests (checker -> here): ``{"op": "load", "cells": [{"source", "solution"}]}`` runs the answer cells (whole) and
the top-level imports of the other cells, in notebook order, in a fresh namespace; ``{"op": "call", "name",
"args", "kwargs", "grad"}`` calls a function of that namespace (``grad``: indices of tensor arguments to
differentiate a scalar result with respect to). Answers: ``{"ok": true, ...}`` or ``{"ok": false, "error"}``.

Run as a script (``python -I answers.py``): stdlib, numpy and torch only until the student's cells import more.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import ast
import base64
import json
import math
import os
import sys

MAX_LINE = 64 * 2**20  # bytes of one message; a larger answer is refused by the checker
MAX_ELEMENTS = 16 * 2**20  # elements of one tensor
# dtypes that may cross, by name; torch and numpy share these names
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")


# ---------------------------------------------------------------------------------------------------------------
# Values <-> JSON. encode() runs on both sides (it is only a courtesy on the student's side); decode() is the
# guarantee, and runs on the checker's side.


def encode(value, depth: int = 0):
    """Plain data for ``value`` (see the module docstring); never calls a method of the student's objects except
    through the exact built-in types and ``torch.Tensor``/``numpy.ndarray`` themselves."""
    if depth > 20:
        return {"$unsupported": "nesting deeper than 20"}
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            return {"$unsupported": "dict with keys that are not str"}
        return {"$dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    if torch is not None and kind is torch.Tensor:
        return _encode_array(value.detach().cpu().contiguous().numpy() if value.dtype != torch.bfloat16
                             else None, str(value.dtype).replace("torch.", ""), list(value.shape), "torch")
    if numpy is not None and kind is numpy.ndarray:
        return _encode_array(numpy.ascontiguousarray(value), str(value.dtype), list(value.shape), "numpy")
    return {"$unsupported": f"{kind.__module__}.{kind.__qualname__}"}


def _encode_array(array, dtype: str, shape: list[int], kind: str):
    if array is None or dtype not in DTYPES:
        return {"$unsupported": f"{kind} array of dtype {dtype}"}
    return {"$tensor": {"kind": kind, "dtype": dtype, "shape": shape,
                        "data": base64.b64encode(array.tobytes()).decode("ascii")}}


class ChannelError(ValueError):
    """A message that is not plain data as the channel defines it."""


def decode(obj, depth: int = 0, *, budget: list | None = None):
    """The value a message holds, rebuilt from plain data only (``torch.Tensor`` for every array; ``ChannelError``
    for anything else). ``{"$unsupported": T}`` becomes an :class:`Unsupported` that equals nothing."""
    budget = [MAX_ELEMENTS * 4] if budget is None else budget
    if depth > 22:
        raise ChannelError("nesting deeper than 22")
    kind = type(obj)
    if obj is None or kind in (bool, int, float, str):
        return obj
    if kind is list:
        return [decode(v, depth + 1, budget=budget) for v in obj]
    if kind is not dict or len(obj) != 1:
        raise ChannelError(f"expected a value or a one-key tag; got {kind.__name__}")
    (tag, body), = obj.items()
    if tag == "$tuple" and type(body) is list:
        return tuple(decode(v, depth + 1, budget=budget) for v in body)
    if tag == "$dict" and type(body) is dict:
        return {str(k): decode(v, depth + 1, budget=budget) for k, v in body.items()}
    if tag == "$float" and body in ("inf", "-inf", "nan"):
        return float(body)
    if tag == "$unsupported":
        return Unsupported(str(body)[:200])
    if tag == "$tensor" and type(body) is dict:
        return _decode_tensor(body, budget)
    raise ChannelError(f"unknown tag {str(tag)[:40]!r}")


def _decode_tensor(body: dict, budget: list):
    import torch  # noqa: PLC0415

    dtype, shape, data = body.get("dtype"), body.get("shape"), body.get("data")
    if dtype not in DTYPES:
        raise ChannelError(f"dtype must be one of {DTYPES}; got {str(dtype)[:40]!r}")
    if type(shape) is not list or len(shape) > 8 or not all(type(n) is int and 0 <= n for n in shape):
        raise ChannelError(f"shape must be a list of at most 8 non-negative ints; got {str(shape)[:80]}")
    if type(data) is not str:
        raise ChannelError("tensor data must be base64 text")
    numel = math.prod(shape)
    if numel > MAX_ELEMENTS:
        raise ChannelError(f"a tensor of {numel} elements is over the channel's {MAX_ELEMENTS}")
    raw = base64.b64decode(data, validate=True)
    torch_dtype = getattr(torch, dtype)
    itemsize = torch.empty((), dtype=torch_dtype).element_size()
    if len(raw) != numel * itemsize:
        raise ChannelError(f"{len(raw)} bytes for a {dtype} tensor of shape {shape} ({numel * itemsize} expected)")
    budget[0] -= len(raw)
    if budget[0] < 0:
        raise ChannelError("the message holds more tensor data than the channel allows")
    if numel == 0:
        return torch.empty(shape, dtype=torch_dtype)
    return torch.frombuffer(bytearray(raw), dtype=torch_dtype).reshape(shape).clone()


class Unsupported:
    """What the student returned could not cross the channel (its type is in ``kind``); it equals nothing."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind

    def __eq__(self, other):
        return False

    __hash__ = None

    def __repr__(self) -> str:
        return f"<a {self.kind}, which the checker does not accept>"


# ---------------------------------------------------------------------------------------------------------------
# The server loop (student side).


def _imports_only(source: str) -> str:
    """The top-level ``import`` statements of a cell (IPython magics and shell lines dropped)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


def _load(cells: list, namespace: dict) -> list[str]:
    errors = []
    for i, cell in enumerate(cells):
        source = cell.get("source", "")
        if not cell.get("solution"):
            source = _imports_only(source)
        else:
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        if not source.strip():
            continue
        try:
            exec(compile(source, f"<cell {i}>", "exec"), namespace)  # noqa: S102 (the student's own code, sandboxed)
        except BaseException as exc:  # noqa: BLE001 (a cell that fails leaves its names undefined)
            errors.append(f"cell {i}: {type(exc).__name__}: {str(exc)[:300]}")
    return errors


def _argument(value, namespace: dict):
    if type(value) is dict and set(value) == {"$callable"}:  # a small function the checker wrote, e.g. a fake net
        return eval(value["$callable"], {"torch": __import__("torch")})  # noqa: S307
    return decode(value)


def _call(request: dict, namespace: dict) -> dict:
    name = request.get("name")
    function = namespace.get(name)
    if not callable(function):
        return {"ok": False, "error": f"NameError: no function {name!r} is defined by the answer cells"}
    args = [_argument(a, namespace) for a in request.get("args", [])]
    kwargs = {k: _argument(v, namespace) for k, v in request.get("kwargs", {}).items()}
    grad = request.get("grad") or []
    for i in grad:
        args[i] = args[i].detach().requires_grad_(True)
    result = function(*args, **kwargs)
    answer = {"ok": True, "value": encode(result)}
    if grad:
        import torch  # noqa: PLC0415

        if type(result) is not torch.Tensor or result.numel() != 1 or not result.requires_grad:
            answer["grads"] = None
        else:
            result.backward()
            answer["grads"] = [encode(args[i].grad) for i in grad]
    return answer


def serve(inp, out) -> None:
    namespace: dict = {}
    for line in inp:
        request = {}
        try:
            request = json.loads(line)
            if request.get("op") == "load":
                namespace = {"__name__": "__main__"}
                answer = {"ok": True, "errors": _load(request.get("cells", []), namespace)}
            elif request.get("op") == "call":
                answer = _call(request, namespace)
            else:
                answer = {"ok": False, "error": f"unknown op {request.get('op')!r}"}
        except BaseException as exc:  # noqa: BLE001 (the student's exception, reported; SystemExit too)
            answer = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        if type(request) is dict and type(request.get("id")) is str:  # the checker's nonce, echoed
            answer["id"] = request["id"]
        try:
            text = json.dumps(answer, allow_nan=False)
        except (TypeError, ValueError) as exc:
            text = json.dumps({"ok": False, "error": f"the answer could not be sent: {exc}"})
        out.write(text.encode() + b"\n")
        out.flush()


def main() -> None:
    # The protocol owns the original stdout; the student's prints (fd 1) and stderr (fd 2) go nowhere.
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    if len(sys.argv) > 1:  # unsandboxed: the course_lib with withheld references comes first
        sys.path.insert(0, sys.argv[1])
    import numpy  # noqa: F401, PLC0415 (loaded before student code, so encode() finds the real types)
    import torch  # noqa: F401, PLC0415

    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
