"""nbgrader settings for convnet-course: solutions/ is the instructor source, lectures/ the student release.

`make release` runs `nbgrader generate_assignment` for every folder of solutions/; `make grade` runs
`nbgrader autograde`, `generate_feedback` and `export` on submitted/<student>/<lecture>/<lecture>.ipynb.
"""

import os

c = get_config()  # noqa: F821 (nbgrader injects get_config)

c.CourseDirectory.course_id = "convnet-course"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lectures"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Concurrent graders (make grade JOBS=N) wait for SQLite's write lock instead of failing after 5 s.
c.CourseDirectory.db_url = "sqlite:///gradebook.db?timeout=120"
# make grade --db URL: the URL (with its password) travels in the environment, never on a command line, and the
# sandbox removes it before any kernel starts (course_lib.grading.sandbox.SECRETS).
if os.environ.get("CONVNET_GRADEBOOK_URL"):
    c.CourseDirectory.db_url = os.environ["CONVNET_GRADEBOOK_URL"]
# solutions/<lecture>/checks.py holds the trusted checks (the hidden tests): never released, never copied next to a
# submission. (The defaults, plus checks.py.)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "checks.py"]

# The fast profile trains live for tens of seconds in some cells; nbgrader's 30 s default would interrupt
# legitimate work. Grading runs the fast profile on CPU.
c.Execute.timeout = 900
c.Execute.interrupt_on_timeout = True

# Student code is untrusted: autograde starts each kernel in a bubblewrap sandbox (no solutions/, gradebook,
# other students or network) with limits on wall time for the whole notebook, memory and processes; see
# course_lib/grading/sandbox.py. Limits: COURSE_GRADE_NOTEBOOK_S, _CELL_S, _MEMORY_MB, _NPROC, _FILE_MB, _TMP_MB.
from course_lib.grading import sandbox  # noqa: E402

sandbox.configure(c)

# Students may be graded without being registered first.
c.Autograde.create_student = True

# Stubs that replace the solutions in the student release.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback must not reveal hidden tests: strip their code and the tracebacks that would quote it.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from course_lib.grading.feedback import HideHiddenTests, SanitizeOutputs  # noqa: E402

# ... and must be safe to open: no scripts, event handlers or javascript: URLs (make grade also sanitizes the
# finished HTML file, course_lib.grading.sanitize.sanitize_feedback_file).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, SanitizeOutputs, CSSHTMLHeaderPreprocessor]
