"""Lecture 00_welcome: plausible wrong answers to its graded cells, and right answers in another form.

Rows of ``tests/test_exercise_wrong_answers.py``, which collects every lecture's file in ``tests/exercise_rows/``:
``ROWS`` and ``RIGHT`` are lists of (lecture, grade_id of the answer cell, grade_id of the test cell,
{mistake or variant: answer source}). A new lecture adds its own file; no shared table changes.
"""

ROWS = [
    ("00_welcome", "ex_conv_output_size", "test_conv_output_size", {
        "dilation ignored": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - (kernel - 1) - 1) // stride + 1
""",
        "true division (a float)": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
""",
        "padding counted once": """
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1
""",
    }),
    ("00_welcome", "ex_receptive_field", "test_receptive_field", {
        "dilation ignored": """
def receptive_field(layers):
    r, j = 1, 1
    for layer in layers:
        r += (layer[0] - 1) * j
        j *= layer[1]
    return r, j
""",
        "jump updated before the field": """
def receptive_field(layers):
    r, j = 1, 1
    for layer in layers:
        d = layer[3] if len(layer) == 4 else 1
        j *= layer[1]
        r += d * (layer[0] - 1) * j
    return r, j
""",
    }),
]
