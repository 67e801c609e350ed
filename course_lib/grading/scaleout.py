"""Grading a large class: submissions autograded on a Dask distributed cluster, the gradebook in a database server.

``python -m course_lib.grading`` (``make grade``) grades JOBS submissions at a time on this machine. With
``--cluster local:N`` (a Dask ``LocalCluster`` of N worker processes here) or ``--scheduler tcp://HOST:8786`` (an
existing cluster) each submission becomes one Dask task instead:

1. the grader (this machine) registers the lecture in the gradebook (``nbgrader generate_assignment``);
2. a task carries the submission's files, the course's ``nbgrader_config.py`` and the lecture's non-notebook
   source files to a worker, which rebuilds a private course folder, runs ``nbgrader autograde`` there (sandboxed
   as always: :mod:`course_lib.grading.sandbox`) with the gradebook at ``--db URL``, and sends the autograded folder
   back;
3. the grader writes it to ``autograded/``, then makes feedback and ``grades.csv`` from the gradebook.

Workers therefore need the same ``course_lib`` installed (with its ``checkpoints/`` and ``datasets/``), not the
course folder: no shared file system, and never the solutions notebook (autograde takes the test cells from the
gradebook). They write the gradebook directly, so on more than one machine it must be a database server every
worker reaches: ``--db postgresql://USER:PASSWORD@HOST/DB`` (nbgrader's ``CourseDirectory.db_url``, a SQLAlchemy
URL; PostgreSQL through psycopg 3). SQLite stays the default: one file, right for one machine and a LocalCluster.
A submission's grades depend only on it, so the gradebook ends the same as a serial run's.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

# Database URL schemes the gradebook is tested with: SQLAlchemy's dialect, optionally "+driver", and the driver
# (Python module) a bare scheme is given: psycopg 3 for PostgreSQL (SQLAlchemy 2's dialect "postgresql+psycopg").
DB_SCHEMES = {"sqlite": None, "postgresql": "psycopg"}
# Environment a worker's nbgrader gets from the grader: the profile, the limits, the plotting backend.
ENV_PREFIXES = ("COURSE_",)
ENV_KEEP = ("MPLBACKEND", "PYTHONHASHSEED")


def check_db_url(url: str) -> str:
    """The SQLAlchemy URL of a gradebook database the course supports, else ``ValueError`` saying what was expected.

    A bare ``postgresql://`` gets the driver the course installs, psycopg 3 (SQLAlchemy's own default depends on
    its version).

    >>> check_db_url("postgresql://grader@db.example.org/convnet")
    'postgresql+psycopg://grader@db.example.org/convnet'
    >>> check_db_url("mongodb://db/convnet")
    Traceback (most recent call last):
    ...
    ValueError: --db must be a database URL with scheme sqlite or postgresql (e.g. postgresql://USER@HOST/DB); got 'mongodb://db/convnet'
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"--db must be a database URL such as sqlite:///gradebook.db or postgresql://USER@HOST/DB; "
                         f"got {url!r}")
    dialect, _, driver = url.split("://", 1)[0].partition("+")
    if dialect not in DB_SCHEMES:
        raise ValueError(f"--db must be a database URL with scheme {' or '.join(DB_SCHEMES)} "
                         f"(e.g. postgresql://USER@HOST/DB); got {masked(url)!r}")
    module = driver or DB_SCHEMES[dialect]
    if module is not None:
        try:
            __import__(module)
        except ImportError:
            raise ValueError(f"--db {masked(url)} needs the Python driver {module!r}, which is not installed "
                             f"(pip install {'psycopg[binary]' if module == 'psycopg' else module})") from None
        if not driver:
            url = f"{dialect}+{module}://" + url.split("://", 1)[1]
    return url


def masked(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_db_reachable(url: str) -> None:
    """Connect once, so that a wrong host or password fails before any grading, with a message naming the URL."""
    if url.startswith("sqlite"):
        return
    import sqlalchemy  # noqa: PLC0415 (nbgrader's own dependency)

    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 (any driver's error: say which database, then why)
        raise RuntimeError(f"cannot connect to the gradebook database {masked(url)}: "
                           f"{str(exc).strip().splitlines()[0]}") from None


def sqlite_url(root: pathlib.Path) -> str:
    """The default gradebook as an absolute URL, so workers in other folders find it (one machine only)."""
    return f"sqlite:///{(root / 'gradebook.db').resolve()}?timeout=120"


def parse_cluster(spec: str) -> int:
    """Workers of ``--cluster local:N``.

    >>> parse_cluster("local:2")
    2
    """
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise ValueError(f"--cluster must be local:N (a Dask LocalCluster of N workers on this machine; use "
                         f"--scheduler ADDRESS for an existing cluster); got {spec!r}")
    return int(count)


def connect(*, scheduler: str | None = None, cluster: str | None = None, timeout_s: float = 10):
    """A Dask ``Client`` (and the ``LocalCluster`` it owns, or None) for ``--scheduler`` or ``--cluster``."""
    if (scheduler is None) == (cluster is None):
        raise ValueError("give exactly one of --scheduler ADDRESS and --cluster local:N")
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415
    except ImportError:
        raise RuntimeError("grading on a cluster needs Dask distributed: pip install 'distributed'") from None
    if cluster is not None:
        workers = parse_cluster(cluster)
        # One nbgrader (one kernel) per worker process; each task mostly waits for its subprocess.
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(local), local
    try:
        return Client(scheduler, timeout=timeout_s), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout_s:.0f} s (expected "
                           f"the address of a running `dask scheduler`, e.g. tcp://HOST:8786): {exc}") from None


def pack(folder: pathlib.Path, *, under: str = "", skip_notebooks: bool = False) -> dict[str, bytes]:
    """Every file below ``folder`` as {relative path (prefixed by ``under``): bytes}."""
    files = {}
    for path in sorted(pathlib.Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and not (skip_notebooks and path.suffix == ".ipynb"):
            files[str(pathlib.PurePosixPath(under, path.relative_to(folder).as_posix()))] = path.read_bytes()
    return files


def unpack(files: dict[str, bytes], folder: pathlib.Path) -> None:
    """Write what :func:`pack` made below ``folder``; refuse paths that would leave it."""
    folder = pathlib.Path(folder).resolve()
    for name, data in files.items():
        path = (folder / name).resolve()
        if folder not in path.parents:
            raise ValueError(f"a packed file must stay inside {folder}; got {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def worker_env(overlay: dict[str, str], threads: int) -> dict[str, str]:
    """The environment of a worker's nbgrader: its own, the grader's course settings, its Python first on PATH."""
    env = {**os.environ, **overlay}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    # Kernels on this worker share its cores (one torch thread pool each, not oversubscribed).
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, threads))))
    return env


def autograde_task(lecture: str, student: str, files: dict[str, bytes], db_url: str,
                   overlay: dict[str, str]) -> tuple[int, str, float, dict[str, bytes]]:
    """Runs on a Dask worker: autograde one submission in a private course folder; return its autograded files.

    ``files`` holds ``nbgrader_config.py``, ``submitted/<student>/<lecture>/...`` and the lecture's non-notebook
    source files. Returns (exit code, log, seconds, {path below autograded/<student>/<lecture>: bytes}).
    """
    from .driver import autograde  # noqa: PLC0415

    try:
        from distributed import get_worker  # noqa: PLC0415

        threads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        threads = 1
    with tempfile.TemporaryDirectory(prefix="convnet-grade-course-") as tmp:
        course = pathlib.Path(tmp)
        unpack(files, course)
        env = worker_env(overlay, threads)
        env["CONVNET_GRADEBOOK_URL"] = db_url  # driver.DB_ENV: never on a command line
        code, log, seconds = autograde(lecture, student, [], env, course)
        out = course / "autograded" / student / lecture
        return code, log, seconds, pack(out) if out.is_dir() else {}


class ClusterGrader:
    """``grade(lecture, student)`` on a Dask cluster, with the ``(code, log, seconds)`` of a local nbgrader run."""

    def __init__(self, root: pathlib.Path, client, db_url: str, environ=None):
        self.root, self.client, self.db_url = pathlib.Path(root), client, db_url
        environ = os.environ if environ is None else environ
        self.overlay = {k: v for k, v in environ.items() if k in ENV_KEEP or k.startswith(ENV_PREFIXES)}
        self.config = (self.root / "nbgrader_config.py").read_bytes()

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at once (its worker threads)."""
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        workers = self.client.nthreads()
        return f"Dask scheduler {self.client.scheduler.address} ({len(workers)} workers)"

    def grade(self, lecture: str, student: str, env: dict | None = None) -> tuple[int, str, float]:
        start = time.monotonic()
        overlay = self.overlay if env is None else {k: v for k, v in env.items()
                                                     if k in ENV_KEEP or k.startswith(ENV_PREFIXES)}
        files = {"nbgrader_config.py": self.config,
                 **pack(self.root / "submitted" / student / lecture, under=f"submitted/{student}/{lecture}"),
                 **pack(self.root / "solutions" / lecture, under=f"solutions/{lecture}", skip_notebooks=True)}
        future = self.client.submit(autograde_task, lecture, student, files, self.db_url, overlay,
                                    key=f"autograde-{lecture}-{student}-{time.time_ns()}", pure=False)
        code, log, _, autograded = future.result()
        target = self.root / "autograded" / student / lecture
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        unpack(autograded, target)
        # The submission's time as the grader saw it: packing, queueing, grading and the way back.
        return code, log, time.monotonic() - start
