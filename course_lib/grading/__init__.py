"""Grading a class that students cannot game (``make grade``): nbgrader autograde, sandboxed, with verdicts
decided outside student code.

Modules, in the order a submission meets them:

* ``intake``: what is accepted before any student code runs (names, regular files, sizes, valid notebooks);
* ``sandbox``: the bubblewrap sandbox and limits the student's kernel (and the answer server) run in;
* ``executor``: nbgrader's Execute with a time limit for the whole notebook;
* ``answers`` (student side) and ``checker`` (grader side): the trusted checker calls the student's functions
  through a channel that carries plain data only, and decides every graded test cell;
* ``feedback``: feedback that is safe to open (sanitized, capped) and never quotes hidden tests;
* ``review``: what deserves a look by hand (kernel tampering, near-identical code, copies of the reference);
* ``driver``: the command (``python -m course_lib.grading``), JOBS at a time; ``scaleout``: on Dask workers, the
  gradebook in PostgreSQL.

Nothing here is imported by the lectures: a notebook's test cells use ``course_lib.core.exercises``.

Lecture: 00_welcome (how exercises are graded)
"""
