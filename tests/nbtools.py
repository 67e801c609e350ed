"""Helpers for the tests that handle notebooks and run nbgrader."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


def lecture_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and p.name[:2].isdigit())


def read(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def nbgrader(args: list[str], cwd, timeout: int = 900, **env) -> subprocess.CompletedProcess:
    """Run nbgrader with the project's interpreter first on PATH (nbgrader calls alembic and jupyter by name)."""
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env}
    proc = subprocess.run([str(BIN / "nbgrader"), *args, "--log-level=WARN"], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def course_copy(tmp_path, lectures: list[str], *, graded_only: bool = False) -> pathlib.Path:
    """A throw-away course directory with the config and the given solutions, released there by nbgrader.

    ``graded_only``: each solution keeps only its first code cell (the imports) and its nbgrader cells, so the
    same exercises and the same checks (``checks.py`` is copied) run in a notebook of seconds instead of the
    lecture's minute. For the tests whose point is the grading machinery (sandbox, checker, parallel and cluster
    grading), not the lecture; tests/test_grading.py's serial round trip grades the whole lecture."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in lectures:
        shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        if graded_only:
            path = course / "solutions" / name / f"{name}.ipynb"
            nb = read(path)
            first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
            nb["cells"] = [c for i, c in enumerate(nb["cells"]) if i == first or "nbgrader" in c["metadata"]]
            assert sum("grade_id" in c["metadata"].get("nbgrader", {}) for c in nb["cells"]) >= 2, name
            path.write_text(json.dumps(nb, indent=1))
    # One nbgrader run releases them all (its assignment id is a glob): 7 s for the 8 lectures, against 5-7 s each.
    nbgrader(["generate_assignment", lectures[0] if len(lectures) == 1 else "*", "--force"], cwd=course)
    return course


STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"


def submit(course, lecture: str, student: str, answers: dict | None = None, cells: dict | None = None) -> None:
    """Fabricate submitted/<student>/<lecture>/ from the release: ``answers`` replace the stub inside an answer
    cell (by grade_id), ``cells`` replace an answer cell's whole source."""
    answers, cells = answers or {}, cells or {}
    released = read(pathlib.Path(course) / "lectures" / lecture / f"{lecture}.ipynb")
    for cell in released["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        source = "".join(cell["source"])
        if gid in answers:
            assert STUB in source, f"{gid}: the released answer cell has no stub"
            cell["source"] = source.replace(STUB, answers[gid].rstrip("\n"))
        if gid in cells:
            cell["source"] = cells[gid]
    folder = pathlib.Path(course) / "submitted" / student / lecture
    folder.mkdir(parents=True)
    (folder / f"{lecture}.ipynb").write_text(json.dumps(released))


def gradebook_scores(course, lecture: str, db_url: str | None = None) -> dict:
    """{(student, grade_id): score} for every graded cell of ``lecture`` in the course's gradebook (its SQLite file,
    or the database at ``db_url``)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url or f"sqlite:///{pathlib.Path(course) / 'gradebook.db'}") as gb:
        return {(g.student.id, g.name): g.score for s in gb.assignment_submissions(lecture)
                for nb in s.notebooks for g in nb.grades}


def _postgres_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(pathlib.Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))  # Debian keeps them here
    return str(candidates[-1]) if candidates else None


def postgres_unavailable() -> str | None:
    """Why a PostgreSQL server can't be started here, or None."""
    missing = [name for name in ("initdb", "pg_ctl") if _postgres_binary(name) is None]
    if missing:
        return (f"PostgreSQL server programs not found ({', '.join(missing)}): install the distribution's package "
                f"(Debian/Ubuntu: apt-get install postgresql; .ci/run does it when run as root)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the PostgreSQL driver psycopg is not installed (pip install 'psycopg[binary]')"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("nobody")
        except KeyError:
            return "running as root, PostgreSQL refuses root, and there is no user 'nobody' to run it as"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (for a server a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server():
    """A throw-away PostgreSQL server on 127.0.0.1 (trust authentication); yields its URL for user ``grader``.

    Started from the distribution's ``initdb`` and ``pg_ctl`` in a temporary folder; as root, as user ``nobody``
    (the server refuses to run as root)."""
    user = "nobody" if os.geteuid() == 0 else None
    base = pathlib.Path(tempfile.mkdtemp(prefix="convnet-pg-"))
    os.chmod(base, 0o755)
    data, sockets = base / "data", base / "sockets"
    for folder in (data, sockets):
        folder.mkdir()
        if user:
            shutil.chown(folder, user)
    port = free_port()

    def run(*args):
        proc = subprocess.run(args, user=user, cwd=base, capture_output=True, text=True, timeout=120)
        if proc.returncode:
            command = " ".join(map(str, args))
            raise AssertionError(f"{command} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    pg_ctl = _postgres_binary("pg_ctl")
    run(_postgres_binary("initdb"), "-D", data, "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
    run(pg_ctl, "-D", data, "-l", sockets / "server.log", "-w", "-t", "60", "-o",
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql://grader@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)



@contextlib.contextmanager
def dask_cluster(workers: int, folder: pathlib.Path):
    """A real Dask cluster as an instructor starts one: a ``dask scheduler`` and ``dask worker`` processes.

    The workers run in ``folder`` (not in the course folder), so grading works only if every file a worker needs
    travels with its task, as it must across machines. Yields the scheduler's address once all workers joined."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    folder.mkdir(parents=True, exist_ok=True)
    commands = {"scheduler": ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                              "--no-dashboard"]}
    for i in range(workers):
        commands[f"worker{i}"] = ["distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard",
                                  "--name", f"worker{i}", "--local-directory", str(folder / f"worker{i}")]
    procs = []
    try:
        for name, args in commands.items():
            with open(folder / f"{name}.log", "w") as log:
                procs.append(subprocess.Popen([sys.executable, "-m", *args], cwd=folder, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        try:
            with Client(address, timeout=60) as client:
                client.wait_for_workers(workers, timeout=120)
        except (OSError, TimeoutError) as error:
            logs = "\n".join(f"--- {name}\n{(folder / f'{name}.log').read_text()[-2000:]}" for name in commands)
            raise AssertionError(f"the Dask cluster did not start ({error}):\n{logs}") from None
        yield address
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
