"""Hostile submissions of lecture 00, graded by `make grade`'s driver in the sandbox; each must fail as expected.

(a) reads solutions/ and hidden tests, (b) writes the gradebook and other students' files, (c) opens network
connections, (e) allocates 50 GB, or dies as the OOM killer would leave it, (f) fork-bombs, (g) prints nbgrader's
markers and a hidden line, (h) replaces the checking helpers, (t) looks for the grader's forkserver (and (i)-(s),
below); (d), a loop that ignores interrupts, is graded in test_grading_limits.py with the other limits, so that the
two files run side by side. A correct submission graded beside them must keep its full marks, and every submission
gets its feedback. Limits are lowered through COURSE_GRADE_* so the suite stays short. Without a usable bubblewrap
(CI in a container that forbids namespaces) the hostile submissions are not graded at all: the tests that need them
skip, saying why.
"""

import codecs
import csv
import html.parser
import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
from nbtools import BIN, ROOT, STUB, course_copy, gradebook_scores, read, submit
from test_grading import ANSWERS, LECTURE, WRONG

from course_lib.grading import sandbox

ISOLATED, WHY = sandbox.availability()
LIMITS = {"COURSE_GRADE_NOTEBOOK_S": "240", "COURSE_GRADE_CELL_S": "120", "COURSE_GRADE_MEMORY_MB": "6144",
          "COURSE_GRADE_NPROC": "64", "COURSE_GRADE_TMP_MB": "64"}
CONV, RF = "ex_conv_output_size", "ex_receptive_field"
DEFINE_BOTH = (  # the first answer; the second is answered as usual in its own cell
    "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
    f"{ANSWERS[CONV]}"
)


JAM = ("\nimport ipywidgets as widgets\n"
       "jam = widgets.Output()\n"
       "display(jam)\n"
       "for i in range(400):\n"
       "    with jam:\n"
       "        print(i)\n")


def _answer_cell(course, grade_id: str, body: str) -> str:
    """The released answer cell ``grade_id`` of the lecture with its stub replaced by ``body``."""
    nb = read(course / "lectures" / LECTURE / f"{LECTURE}.ipynb")
    source = next("".join(c["source"]) for c in nb["cells"]
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    assert STUB in source
    return source.replace(STUB, body.rstrip("\n"))


def _hostile(course, port):
    secret = str(course / "solutions" / LECTURE / f"{LECTURE}.ipynb")
    return {
        "reader": {CONV: (  # (a): walks up from its folder, then tries the paths it knows
            "import os, pathlib\n"
            "seen = []\n"
            "for folder in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:\n"
            "    seen += [str(folder / name) for name in os.listdir(folder)]\n"
            f"for path in [{secret!r}, {str(ROOT / 'solutions' / LECTURE / (LECTURE + '.ipynb'))!r},\n"
            f"             {str(course / 'gradebook.db')!r}, {str(course / 'submitted' / 'ada' / LECTURE)!r}]:\n"
            "    try:\n"
            "        print('LEAKED', path, open(path, errors='replace').read()[:3000])\n"
            "    except OSError as e:\n"
            "        print('blocked:', type(e).__name__, path)\n"
            "print('visible:', seen)\n" + DEFINE_BOTH)},
        "writer": {CONV: (  # (b): the gradebook, another student's submission and autograded notebook
            "import sqlite3\n"
            "for target in [" + ", ".join(repr(str(p)) for p in [
                course / "gradebook.db", course / "submitted" / "ada" / LECTURE / f"{LECTURE}.ipynb",
                course / "autograded" / "ada" / LECTURE / f"{LECTURE}.ipynb", course / "pwned.txt"]) + "]:\n"
            "    try:\n"
            "        with open(target, 'w') as f:\n"
            "            f.write('pwned')\n"
            "        print('WROTE', target)\n"
            "    except OSError as e:\n"
            "        print('blocked:', type(e).__name__, target)\n"
            "try:\n"
            f"    sqlite3.connect({str(course / 'gradebook.db')!r}).execute('update grade set manual_score = 99')\n"
            "    print('WROTE the gradebook')\n"
            "except sqlite3.Error as e:\n"
            "    print('blocked: gradebook', e)\n" + DEFINE_BOTH)},
        "caller": {CONV: (  # (c): the grader's loopback and the outside world
            "import socket\n"
            f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 53), ('8.8.8.8', 443)]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=2).close()\n"
            "        print('CONNECTED', address)\n"
            "    except OSError as e:\n"
            "        print('blocked:', address, e)\n" + DEFINE_BOTH)},
        "hog": {CONV: (  # (e): 50 GB at once, then everything it can get
            "import torch\n"
            "try:\n"
            "    big = torch.empty(50 * 2**30, dtype=torch.uint8)\n"
            "    print('GOT 50 GB')\n"
            "except (RuntimeError, MemoryError) as e:\n"
            "    print('refused 50 GB:', type(e).__name__)\n"
            "hoard = []\n"
            "while True:\n"
            "    hoard.append(bytearray(2**28))\n")},
        "crasher": {CONV: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would\n"},
        "forker": {CONV: (  # (f): every child forks too
            "import os, time\n"
            "children, start, error = 0, time.time(), None\n"
            "while time.time() - start < 5:\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            while True:\n"
            "                try:\n"
            "                    os.fork()\n"
            "                except OSError:\n"
            "                    time.sleep(0.05)\n"
            "        children += 1\n"
            "    except OSError as e:\n"
            "        error = e\n"
            "        time.sleep(0.05)\n"
            "print('children:', children, 'then', error)\n")},
        "marker": {CONV: (  # (g): nbgrader's markers in its source and outputs, and a hidden line as if leaked
            "# ### BEGIN HIDDEN TESTS (an unmatched marker in the student's own cell)\n"
            "print('### BEGIN HIDDEN TESTS')\n"
            "print('### BEGIN SOLUTION')\n"
            "print('    expected = reference(size, k, s, p, d)')\n"
            "print('x' * 300_000)  # more than the grader keeps of one cell's output\n" + DEFINE_BOTH)},
        "cheater": {  # (h): stubs or wrong code, and the helpers replaced so that the old test cells passed
            CONV: (
                "import os, torch.testing, course_lib\n"
                "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
                "    raise NotImplementedError()\n"
                "exercise = lambda student, reference, name=None: reference\n"
                "course_lib.core.exercise = course_lib.core.exercises.exercise = exercise\n"
                "torch.testing.assert_close = lambda *args, **kwargs: None\n"
                "os.environ['NBGRADER_EXECUTION'] = ''\n"),
            RF: (
                "import course_lib\n"
                "def receptive_field(layers):\n" + WRONG[RF] +
                "course_lib.core.receptive.receptive_field = receptive_field\n")},
        # Issue 18's kinds. (i) escape: look for the grader's kernel spec and runtime folder, rewrite what it finds
        "escaper": {CONV: (
            "import os, glob, json\n"
            "found = [p for p in glob.glob('/tmp/**/kernel*.json', recursive=True)]\n"
            "found += glob.glob('/tmp/convnet-grade-*/share/**', recursive=True)\n"
            "print('found:', found, 'env:', sorted(k for k in os.environ if 'JUPYTER' in k or 'GRADEBOOK' in k))\n"
            "for path in found:\n"
            "    try:\n"
            "        spec = json.load(open(path))\n"
            "        spec['argv'] = ['/bin/sh', '-c', 'touch /tmp/ESCAPED']\n"
            "        json.dump(spec, open(path, 'w'))\n"
            "        print('REWROTE', path)\n"
            "    except (OSError, ValueError) as e:\n"
            "        print('blocked:', type(e).__name__, path)\n"
            "for folder in {os.path.dirname(os.path.dirname(p)) for p in found}:\n"
            "    try:\n"
            "        os.rename(folder, folder + '-moved')\n"
            "        print('RENAMED', folder)\n"
            "    except OSError as e:\n"
            "        print('blocked:', type(e).__name__, folder)\n" + DEFINE_BOTH)},
        # (j) full marks without an answer: displayhook first, then raise
        "displayhook": {CONV: (
            "import sys\n"
            "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
            "    sys.displayhook('2.0')\n"
            "    raise ValueError('no answer')\n")},
        # (k) the kernel rewired: no test failure ever shows, and the wrong answer stays
        "rewirer": {CONV: (
            "from ipykernel.kernelapp import IPKernelApp\n"
            "shell = IPKernelApp.instance().shell\n"
            "original_run_code = shell.run_code\n"
            "async def run_code(code_obj, result=None, *, async_=False):\n"
            "    try:\n"
            "        exec(code_obj, shell.user_global_ns, shell.user_ns)\n"
            "    except BaseException:\n"
            "        pass\n"
            "    return False\n"
            "shell.run_code = run_code\n"
            "shell.showtraceback = lambda *a, **k: None\n"
            "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
            "    return 0\n")},
        # (l) an int whose == is always true
        "rigged": {CONV: (
            "class Always(int):\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "    __hash__ = int.__hash__\n"
            "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
            "    return Always(0)\n")},
        # (m) the reference, fetched afresh through original()
        "borrower": {CONV: (
            "from course_lib.core.exercises import original\n"
            "def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):\n"
            "    reference = original('course_lib.core.receptive:conv_output_size')\n"
            "    return reference(size, kernel, stride, padding, dilation)\n")},
        # (n) everything the kernel can see, printed rot13-encoded past any filter: no hidden test is there to see
        "rot13": {CONV: DEFINE_BOTH + (
            "import codecs\n"
            "print(codecs.encode(repr(In) + repr(globals().keys()), 'rot13')[:20000])\n")},
        # (o) live HTML and Javascript in the outputs an instructor opens
        "scripter": {CONV: DEFINE_BOTH + (
            "from IPython.display import HTML, Javascript, display\n"
            "display(HTML('<script>document.title=\"PWNED-SCRIPT\"</script><img src=x onerror=\"alert(1)\">'\n"
            "             '<a href=\"javascript:alert(2)\">PWNED-LINK</a><iframe src=\"http://evil\"></iframe>'))\n"
            "display(Javascript('alert(\"PWNED-JS\")'))\n")},
        # (p) floods: one 3 MB output, then images and text up to 30 MB
        "flooder": {CONV: DEFINE_BOTH + (
            "import base64\n"
            "from IPython.display import display\n"
            "print('y' * 3_000_000)\n"
            "for i in range(12):\n"
            "    display({'image/png': base64.b64encode(bytes(2_000_000)).decode()}, raw=True)\n")},
        # (q) fills its working folder: the tmpfs cap stops it, and nothing lands on the grader's disk
        "filler": {CONV: (
            "written = 0\n"
            "try:\n"
            "    with open('big.bin', 'wb') as f:\n"
            "        for _ in range(400):\n"
            "            f.write(bytes(2**20))\n"
            "            written += 1\n"
            "except OSError as e:\n"
            "    print('stopped:', type(e).__name__)\n"
            "print('wrote MiB:', written)\n" + DEFINE_BOTH)},
        # (s) poisons the synthetic-data cache every later notebook reads (course_lib.core.datacache): a file named
        # like a cached split, a new one in the cache folder, and the data set's README
        "poisoner": {CONV: (
            "from course_lib.core import datacache\n"
            "folder = datacache.DATA_ROOT / 'synthetic_people'\n"
            "targets = [folder / 'cache' / 'poison.pt', folder / 'cache' / 'sub' / 'poison.pt', folder / 'README.md']\n"
            "for target in targets:\n"
            "    try:\n"
            "        target.parent.mkdir(parents=True, exist_ok=True)\n"
            "        target.write_bytes(b'poison')\n"
            "        print('POISONED', target)\n"
            "    except OSError as e:\n"
            "        print('blocked:', type(e).__name__, target)\n" + DEFINE_BOTH)},
        # (t) the grader's forkserver (launcher.py), which forks the trusted nbgrader processes: asked to fork, it
        # would run anything as the grader. Its socket is in the grader's /tmp (pymp-*/listener-*); look everywhere
        "zygote": {CONV: (
            "import glob, os, socket\n"
            "paths = glob.glob('/tmp/pymp-*/*') + glob.glob('/tmp/**/listener-*', recursive=True)\n"
            "try:\n"
            "    listed = [line.split()[-1] for line in open('/proc/net/unix').read().splitlines()[1:]\n"
            "              if len(line.split()) > 7]\n"
            "except OSError as e:\n"
            "    listed = []\n"
            "paths += [p for p in listed if p.startswith('@') or 'pymp' in p or 'listener' in p]\n"
            "servers = []\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    try:\n"
            "        if b'forkserver' in open(f'/proc/{pid}/cmdline', 'rb').read():\n"
            "            servers.append(pid)\n"
            "    except OSError:\n"
            "        pass\n"
            "print('sockets:', paths, 'forkservers seen:', servers)\n"
            "for path in paths:\n"
            "    try:\n"
            "        s = socket.socket(socket.AF_UNIX)\n"
            "        s.settimeout(2)\n"
            "        s.connect('\\0' + path[1:] if path.startswith('@') else path)\n"
            "        s.close()\n"
            "        print('CONNECTED', path)\n"
            "    except OSError as e:\n"
            "        print('blocked:', type(e).__name__, path)\n" + DEFINE_BOTH)},
        # (u) jams the grader's kernel client: prints into an ipywidgets.Output up to the end of both answer cells,
        # so that nbclient would send on the shell socket just as the cell's reply arrives (issue 23's race). Before
        # 2026-12-07 the grader missed such a reply for a whole cell time in 3 of 8 cells like these (bench:
        # notebook_stalls_grader_unfixed); now the grader plays no widget frontend and sends nothing (tests of
        # the executor itself: test_core_notebooks, test_grading_limits)
        "jammer": {CONV: DEFINE_BOTH + JAM, RF: _answer_cell(course, RF, ANSWERS[RF]) + JAM},
        # (v) makes the grader hold what no cap counted: 20 MB of metadata beside a one-character output, ten
        # times, and ten widget comms of 10 MB state each (nbclient kept both whole while the notebook ran, and
        # the metadata stayed in the autograded notebook)
        "hoarder": {CONV: (
            "from IPython.display import display\n"
            "from comm import create_comm\n"
            "pad = 'm' * (20 * 2**20)\n"
            "for _ in range(10):\n"
            "    display({'text/plain': 'a'}, metadata={'text/plain': {'pad': pad}}, raw=True)\n"
            "comms = [create_comm(target_name='jupyter.widget', data={'state': {'_model_module': 'm',\n"
            "         '_model_name': 'n', 'pad': pad[:10 * 2**20]}}) for _ in range(10)]\n" + DEFINE_BOTH)},
        # (r) memory across processes: six children, each under the per-process limit, together over it
        "spreader": {CONV: (
            "import os, select, time\n"
            "import numpy as np\n"
            "r, w = os.pipe()\n"
            "pids = []\n"
            "for _ in range(6):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        try:\n"
            "            hold = np.ones(1_100 * 2**20, dtype=np.uint8)  # under the per-process limit\n"
            "        except MemoryError:\n"
            "            os.write(w, b'refused ')\n"
            "            os._exit(3)\n"
            "        os.write(w, f'{os.getpid()} '.encode())\n"
            "        time.sleep(120)\n"
            "        os._exit(0)\n"
            "    pids.append(pid)\n"
            "os.close(w)\n"
            "said, dead, start = b'', set(), time.time()\n"
            "while len(said.split()) + len(dead - {int(x) for x in said.split() if x.isdigit()}) < 6 \\\n"
            "        and time.time() - start < 120:\n"
            "    if select.select([r], [], [], 0.5)[0]:\n"
            "        said += os.read(r, 4096)\n"
            "    dead |= {p for p in pids if p not in dead and os.waitpid(p, os.WNOHANG) != (0, 0)}\n"
            "holding = {int(x) for x in said.split() if x.isdigit()} - dead\n"
            "print('refused children:', said.split().count(b'refused'))\n"
            "print('children holding 1.1 GB at once:', len(holding))\n"
            "for p in pids:\n"
            "    if p not in dead:\n"
            "        os.kill(p, 9)\n" + DEFINE_BOTH)},
    }


def _folder_attacks(course) -> dict:
    """Submissions that attack the intake: links, special files, bad names, broken notebooks. Each must be refused
    before any code runs, with a row in grades.csv; the rest of the class is graded."""
    def folder(student):
        path = course / "submitted" / student / LECTURE
        path.mkdir(parents=True)
        return path

    good = (course / "submitted" / "ada" / LECTURE / f"{LECTURE}.ipynb").read_text()
    attacks = {}
    linker = folder("linker")
    (linker / f"{LECTURE}.ipynb").write_text(good)
    for name, target in [("solution.ipynb", course / "solutions" / LECTURE / f"{LECTURE}.ipynb"),
                         ("gradebook.db", course / "gradebook.db"), ("shadow", "/etc/shadow"),
                         ("environ", "/proc/self/environ"), ("zero", "/dev/zero"),
                         ("ada.ipynb", course / "submitted" / "ada" / LECTURE / f"{LECTURE}.ipynb")]:
        os.symlink(target, linker / name)
    attacks["linker"] = "symbolic link"
    hardlinker = folder("hardlinker")  # a hard link to a file outside the submission (here, a copy of ada's)
    (course / "elsewhere.ipynb").write_text(good)
    os.link(course / "elsewhere.ipynb", hardlinker / f"{LECTURE}.ipynb")
    attacks["hardlinker"] = "hard link"
    (folder("misnamed") / f"{LECTURE} (1).ipynb").write_text(good)
    attacks["misnamed"] = "is not accepted"
    (folder("malformed") / f"{LECTURE}.ipynb").write_text(good[: len(good) // 2])
    attacks["malformed"] = "not valid JSON"
    (folder("eve,4.0,4.0") / f"{LECTURE}.ipynb").write_text(good)
    attacks["eve,4.0,4.0"] = "student id is not accepted"
    (folder("*") / f"{LECTURE}.ipynb").write_text(good)
    attacks["*"] = "student id is not accepted"
    os.mkfifo(folder("fifo") / "pipe")
    attacks["fifo"] = "not a regular file"
    return attacks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not ISOLATED:  # a fork bomb or a memory hog is not something to run unsandboxed, even in a test
        pytest.skip(f"hostile submissions are only graded in the bubblewrap sandbox, and there is none here: {WHY}")
    course = course_copy(tmp_path_factory.mktemp("sandbox"), [LECTURE], graded_only=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    submit(course, LECTURE, "ada", ANSWERS)
    for student, cells in _hostile(course, listener.getsockname()[1]).items():
        submit(course, LECTURE, student, answers={RF: ANSWERS[RF]} if RF not in cells else {}, cells=cells)
    submit(course, LECTURE, "empty")
    folder_attacks = _folder_attacks(course)
    outside = {p: p.lstat().st_mtime_ns for p in [*course.glob("solutions/**/*"), *course.glob("submitted/**/*"),
                                                   course / "nbgrader_config.py"] if p.is_file() and not p.is_symlink()}
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROFILE": "fast",
           "MPLBACKEND": "Agg", **LIMITS}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "course_lib.grading", "--jobs", "2"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=2400)
    seconds = time.monotonic() - start
    stop.set()
    thread.join()
    listener.close()
    assert proc.returncode == 0, f"grading failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    return {"course": course, "log": proc.stdout, "seconds": seconds, "accepted": accepted,
            "scores": gradebook_scores(course, LECTURE), "folder_attacks": folder_attacks, "outside": outside,
            "rows": rows}


def _outputs(course, student) -> str:
    nb = read(course / "autograded" / student / LECTURE / f"{LECTURE}.ipynb")
    return "\n".join(str(o) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])


def _feedback(course, student) -> str:
    return (course / "feedback" / student / LECTURE / f"{LECTURE}.html").read_text()


def _score(graded, student) -> float:
    return sum(v for (s, _), v in graded["scores"].items() if s == student)


HIDDEN = "expected = reference(size, k, s, p, d)"  # a line of lecture 00's hidden tests


def test_the_correct_submission_keeps_full_marks_and_everyone_gets_feedback(graded):
    assert _score(graded, "ada") == 4.0, graded["log"]
    for student in ["ada", *_hostile(graded["course"], 0)]:
        html = _feedback(graded["course"], student)
        assert "BEGIN HIDDEN TESTS" not in html.split("</style>")[-1] or student == "marker", student
        if student != "marker":  # which prints the line in its own code (see test_g)
            assert HIDDEN not in html, f"{student}: a hidden test line is in the feedback"


def test_a_reader_finds_no_solution_and_no_other_student(graded):
    out = _outputs(graded["course"], "reader")
    assert "LEAKED" not in out, out[:3000]
    assert out.count("blocked:") == 4, out[:3000]
    assert "solutions" not in out.split("visible:")[-1] and "gradebook" not in out.split("visible:")[-1]
    assert _score(graded, "reader") == 4.0, "its own correct code is graded as usual"


def test_b_writer_changes_nothing_outside_its_copy(graded):
    course = graded["course"]
    out = _outputs(course, "writer")
    assert "WROTE" not in out and out.count("blocked:") == 5, out[:3000]
    assert not (course / "pwned.txt").exists()
    assert "pwned" not in (course / "submitted" / "ada" / LECTURE / f"{LECTURE}.ipynb").read_text()
    assert _score(graded, "ada") == 4.0 and _score(graded, "writer") == 4.0


def test_c_caller_reaches_no_network(graded):
    out = _outputs(graded["course"], "caller")
    assert "CONNECTED" not in out and out.count("blocked:") == 3, out[:3000]
    assert graded["accepted"] == [], "the sandbox reached a port on the grader's loopback"


def test_e_hog_is_refused_memory_and_earns_nothing(graded):
    out = _outputs(graded["course"], "hog")
    assert "GOT 50 GB" not in out and "refused 50 GB" in out, out[:3000]
    assert "MemoryError" in out or "GradingLimit" in out, out[:3000]
    assert graded["scores"][("hog", "test_conv_output_size")] == 0.0


def test_e_a_killed_kernel_stops_the_notebook_with_a_clear_line(graded):
    html = _feedback(graded["course"], "crasher")
    assert "the kernel died: a memory or process limit was reached, or the code crashed it" in html
    assert html.count("not run: the kernel died") >= 3, "each cell after the death must say why it did not run"
    assert _score(graded, "crasher") == 0.0


def test_f_fork_bomb_is_capped_and_cleaned_up(graded):
    out = _outputs(graded["course"], "forker")
    assert "children:" in out or "GradingLimit" in out, out[:3000]
    if "children:" in out:
        children = int(out.split("children:")[1].split()[0].strip("',\""))
        assert children < int(LIMITS["COURSE_GRADE_NPROC"]), f"{children} children despite the process limit"
    assert graded["scores"][("forker", "test_conv_output_size")] == 0.0
    course = str(graded["course"])
    leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _cwd(p).startswith(course)]
    assert leftovers == [], f"processes of this course's sandboxes still alive after grading: {leftovers}"


def _cwd(pid: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def test_g_markers_in_source_and_output_break_nothing(graded):
    html = _feedback(graded["course"], "marker")
    assert "output truncated by the grader after 200000 characters" in html
    assert "x" * 300_000 not in html
    assert _score(graded, "marker") == 4.0


def test_h_replaced_helpers_earn_nothing_and_are_flagged(graded):
    assert _score(graded, "cheater") == 0.0, {k: v for k, v in graded["scores"].items() if k[0] == "cheater"}
    flagged = {line.split(":")[0].split()[-1]: line for line in graded["log"].splitlines() if "REVIEW BY HAND" in line}
    assert "cheater" in flagged and "ada" not in flagged, graded["log"]
    assert "assigns torch.testing.assert_close" in flagged["cheater"]


# ---------------------------------------------------------------------------------------------------------------
# Issue 18: the same class, graded by the real driver, holds the attacks below; no hostile submission scores more
# than the same code without its trick, nothing secret reaches any output, and the run finishes with grades.csv.

# (nbgrader's markers are not among them: the "marker" student prints them on purpose, see test_g)
SECRETS_SEEN = ["(500, 11, 4, 2, 1)", "check_conv_output_size", "REFERENCES", "root:", "CONVNET_GRADEBOOK_URL"]


def _all_text(course) -> str:
    """Every output and feedback page the grading produced, and grades.csv."""
    parts = [p.read_text(errors="replace") for p in course.glob("feedback/**/*.html")]
    parts += [p.read_text(errors="replace") for p in course.glob("autograded/**/*.ipynb")]
    return "\n".join(parts + [(course / "grades.csv").read_text()])


def test_i_the_kernel_never_sees_the_kernel_spec_and_grading_goes_on(graded):
    course = graded["course"]
    out = _outputs(course, "escaper")
    assert "REWROTE" not in out and "RENAMED" not in out, out[:3000]
    assert "share" not in out.split("env:")[0], "the grader's runtime folder (with the kernel spec) is visible"
    assert "GRADEBOOK" not in out.split("env:")[-1].split("\\n")[0]
    assert _score(graded, "escaper") == 4.0
    assert not pathlib.Path("/tmp/ESCAPED").exists()


@pytest.mark.parametrize("student, score", [("displayhook", 2.0), ("rewirer", 2.0), ("rigged", 2.0),
                                            ("borrower", 2.0), ("empty", 0.0)])
def test_jklm_tricks_in_the_kernel_earn_nothing(graded, student, score):
    """Each earns the receptive-field points (answered honestly) and nothing for its trick on conv_output_size."""
    scores = {k: v for k, v in graded["scores"].items() if k[0] == student}
    assert _score(graded, student) == score, scores
    if student != "empty":
        assert graded["scores"][(student, "test_conv_output_size")] == 0.0, scores


def test_n_no_hidden_test_reaches_the_kernel_in_any_encoding(graded):
    out = _outputs(graded["course"], "rot13")
    decoded = codecs.decode(out, "rot13")
    assert "In" in out or "Va" in out
    for secret in ["(500, 11, 4, 2, 1)", "check_conv_output_size", "REFERENCES"]:
        assert secret not in decoded and secret not in out, secret
    assert _score(graded, "rot13") == 4.0


def test_intake_refuses_links_special_files_bad_names_and_broken_notebooks(graded):
    course, rows = graded["course"], graded["rows"]
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body), "a row with extra or missing columns"
    by_student = {row[header.index("student_id")]: row for row in body}
    for student, reason in graded["folder_attacks"].items():
        shown = student.encode("unicode_escape").decode()
        assert shown in by_student, f"{student}: no row in grades.csv"
        status = by_student[shown][header.index("status")]
        assert status.startswith("not graded:") and reason in status, (student, status)
        assert by_student[shown][header.index("score")] in ("0", "0.0")
        assert not (course / "autograded" / student).exists(), f"{student} was graded"
    assert by_student["ada"][header.index("status")] == "graded"
    assert float(by_student["ada"][header.index("score")]) == 4.0
    assert float(by_student["empty"][header.index("score")]) == 0.0
    assert "not graded" in _feedback(course, "linker") and "symbolic link" in _feedback(course, "linker")


def test_nothing_secret_reaches_any_output_feedback_or_grades(graded):
    text = _all_text(graded["course"])
    for secret in SECRETS_SEEN:
        assert secret not in text, f"{secret!r} is in an output, a feedback page or grades.csv"


def test_no_file_outside_the_sandboxes_changed(graded):
    changed = [str(p) for p, mtime in graded["outside"].items() if not p.exists() or p.lstat().st_mtime_ns != mtime]
    assert changed == [], changed


class _Live(html.parser.HTMLParser):
    """What a browser would run in a page: script tags, event handlers, javascript: URLs, frames."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "frame", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith(("javascript:", "vbscript:")):
                self.found.append(f"{tag} {name}={value}")


def test_o_feedback_is_safe_to_open(graded):
    html_text = _feedback(graded["course"], "scripter")
    live = _Live()
    live.feed(html_text)
    assert live.found == [], live.found
    assert "PWNED-LINK" in html_text, "the harmless text of the output stays"
    assert _score(graded, "scripter") == 4.0


def test_p_outputs_are_capped(graded):
    course = graded["course"]
    notebook = course / "autograded" / "flooder" / LECTURE / f"{LECTURE}.ipynb"
    assert notebook.stat().st_size < 25 * 2**20, f"{notebook.stat().st_size / 2**20:.0f} MB kept"
    assert "truncated by the grader" in _outputs(course, "flooder")
    assert _score(graded, "flooder") == 4.0


def test_q_the_working_folder_is_a_capped_tmpfs(graded):
    course = graded["course"]
    out = _outputs(course, "filler")
    written = int(re.search(r"wrote MiB: (\d+)", out).group(1))
    assert written < int(LIMITS["COURSE_GRADE_TMP_MB"]) + 1, out[:2000]
    assert not list(course.glob("autograded/filler/**/big.bin")), "the kernel's file reached the grader's disk"
    assert _score(graded, "filler") == 4.0


def test_r_memory_is_limited_for_the_submission_as_a_whole(graded):
    if not sandbox.cgroups_available():
        pytest.skip("no cgroup can be made here: memory is limited per process only (the driver says so)")
    out = _outputs(graded["course"], "spreader")
    assert "refused children: 0" in out or "the kernel died" in out, "void: the per-process limit refused a child"
    assert "holding 1.1 GB at once: 6" not in out, out[:2000]
    assert "holding 1.1 GB at once:" in out or "the kernel died" in out, out[:2000]
    assert graded["scores"][("spreader", "test_receptive_field")] in (0.0, 2.0)


def test_s_poisoner_cannot_touch_the_shared_data_cache(graded):
    """datasets/ is where drawn splits are cached for every later notebook and test: read-only in the sandbox."""
    out = _outputs(graded["course"], "poisoner")
    assert "POISONED" not in out and out.count("blocked:") == 3, out[:3000]
    folder = ROOT / "datasets" / "synthetic_people"
    assert not (folder / "cache" / "poison.pt").exists() and not (folder / "cache" / "sub").exists()
    assert "poison" not in (folder / "README.md").read_text()
    assert _score(graded, "poisoner") == 4.0, "its own correct code is graded as usual"


def test_t_zygote_cannot_reach_the_graders_forkserver(graded):
    """The trusted nbgrader processes are forks of one server (launcher.py) listening on a Unix socket in the
    grader's /tmp: the sandbox has a /tmp, a network namespace (abstract sockets) and a process view of its own."""
    out = _outputs(graded["course"], "zygote")
    assert "CONNECTED" not in out and "forkservers seen: []" in out, out[:3000]
    assert _score(graded, "zygote") == 4.0, "its own correct code is graded as usual"


def test_u_jammer_is_graded_in_its_own_time_with_full_marks(graded):
    """Widget output up to the end of each answer cell: the grader gets every reply at once (no cell waits for its
    cell time, 120 s here), and the correct code earns full marks."""
    out = _outputs(graded["course"], "jammer")
    assert "not run" not in out and "time limit" not in out, out[-2000:]
    assert _score(graded, "jammer") == 4.0, graded["log"]
    took = re.search(rf"{LECTURE} jammer: ([\d.]+) s", graded["log"])
    assert took and float(took.group(1)) < 90, graded["log"]  # about 10 s; a missed reply alone costs 120 s


def test_v_hoarder_leaves_a_small_notebook_and_keeps_its_marks(graded):
    notebook = graded["course"] / "autograded" / "hoarder" / LECTURE / f"{LECTURE}.ipynb"
    assert notebook.stat().st_size < 25 * 2**20, f"{notebook.stat().st_size / 2**20:.0f} MB kept"
    assert "widgets" not in read(notebook)["metadata"]
    assert _score(graded, "hoarder") == 4.0, graded["log"]


def test_the_run_finishes_with_a_grade_for_everyone(graded):
    header, body = graded["rows"][0], graded["rows"][1:]
    students = {row[header.index("student_id")] for row in body}
    hostile = set(_hostile(graded["course"], 0))
    assert {"ada", "empty", *hostile} <= students
