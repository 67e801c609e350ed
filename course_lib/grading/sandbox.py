"""The grading sandbox: nbgrader's autograde kernel runs inside bubblewrap, with limits, away from the course.

Student code is untrusted. ``nbgrader_config.py`` calls :func:`configure`, which makes nbgrader start every
autograde kernel through the kernel spec ``convnet-sandbox``, whose command is this module::

    python -I .../course_lib/grading/sandbox.py -f {connection_file} [ipykernel arguments]

Outside the sandbox (as the grader), :func:`main` builds a ``bwrap`` command and replaces itself with it. The
kernel then sees only:

* system directories, the Python installation, ``.venv`` and ``course_lib`` (read-only);
* ``checkpoints/`` and ``datasets/`` (read-only);
* a *copy* of the submission's working directory, and this grader's private runtime directory (the connection
  file and the kernel's sockets, nothing else);
* a private ``/tmp`` and fresh ``/proc`` and ``/dev``.

Not ``solutions/``, not the gradebook, not other students' submissions or ``autograded/``, not ``$HOME``. The
kernel has its own network namespace (no network at all); nbgrader reaches it over ZMQ's ``ipc`` transport,
Unix sockets in the shared runtime directory, which work across network namespaces where TCP on loopback does
not. It also has its own PID, IPC and UTS namespaces; the environment is cleared to a short list of variables.

Inside the sandbox the same module (``--inner``) lowers the resource limits (address space, processes, file
size, CPU time as a backstop), drops root to a user id of its own when grading runs as root (root is exempt from
the process limit), and executes ``ipykernel_launcher``. The wall-time limit for the whole notebook is enforced
by the executor (:class:`course_lib.grading.executor.BoundedExecute`), which kills the kernel, and with it the
sandbox's PID namespace, when the time is up.

Where bubblewrap is missing or can't create namespaces (macOS, Windows, some containers), the kernel starts
unsandboxed with the limits the platform supports, and every start prints a loud warning that grading is NOT
isolated.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

KERNEL_NAME = "convnet-sandbox"
# The error name the bounded executor writes into cells it stopped or never reached (read back by the driver).
STOPPED = "GradingLimit"
# The nbconvert resources key under which it records the index of the cell where it stopped the notebook.
STOPPED_AT = "convnet_stopped_at_cell"
RUNTIME_PREFIX = "convnet-grade-"
CONN_PREFIX = "conn-"  # one folder per kernel inside the runtime folder: the only part bound into the sandbox
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PREFIX = "convnet-grade-"
# Grader secrets passed through the environment (never on a command line); removed before any kernel starts.
SECRETS = ("CONVNET_GRADEBOOK_URL",)
# The directory whose presence tells course_lib.core.exercises.is_grading() that this is grading; the same
# constant as there (this file runs as a stdlib-only script, so it cannot import it; a test checks they agree).
GRADING_MARKER = "/.convnet-grading"
COURSE_ROOT = pathlib.Path(__file__).resolve().parents[2]
LAUNCHER = pathlib.Path(__file__).resolve()  # this file, run as a script (stdlib only on that path)
# Read-only inside the sandbox; solutions/, lectures/, submitted/, autograded/, gradebook.db are never bound.
COURSE_DIRS = ("course_lib", "checkpoints", "datasets")
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/opt")
# Variables the kernel may see; everything else in the grader's environment is cleared.
ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "MPLBACKEND", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "NBGRADER_EXECUTION")  # not JPY_PARENT_PID: a host pid means nothing in the sandbox's PID namespace
ENV_PREFIXES = ("COURSE_",)
WARNING = ("\n" + "!" * 100 + "\n!!  GRADING IS NOT ISOLATED: {why}.\n!!  Student code runs with the grader's rights: "
           "it can read solutions/ and hidden tests, write gradebook.db and use the network.\n!!  Install "
           "bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) on Linux to grade a real class.\n"
           + "!" * 100 + "\n")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. ``notebook_s``: wall time for the whole notebook (s); ``cell_s``: per cell (s);
    ``memory_mb``: the submission's memory (its cgroup) and each process's address space (MiB); ``nproc``:
    processes and threads; ``file_mb``: largest file the kernel may write (MiB); ``tmp_mb``: size of its private
    ``/tmp`` and of its working folder (MiB); ``max_file_mb``, ``max_submission_mb``, ``max_files``: what intake
    accepts of one submission; ``grader_mb``: data memory of the grader process of one submission (outside the
    sandbox: :func:`course_lib.grading.launcher.limit_grader`). Each can be overridden by ``COURSE_GRADE_<NAME>`` in
    the environment."""

    notebook_s: int = 1800
    cell_s: int = 900
    memory_mb: int = 8192
    nproc: int = 256
    file_mb: int = 1024
    tmp_mb: int = 1024
    # intake (course_lib.grading.intake): caps on what a submission may hold, checked before any code runs
    max_file_mb: int = 20
    max_submission_mb: int = 50
    max_files: int = 50
    # the grader process of one submission (nbgrader autograde, outside the sandbox): its data memory, which holds
    # what the kernel sends as it arrives (one message costs it about 3x its size); past it that grader fails alone
    # and the submission is listed FAILED, where it would have taken the machine's memory from the whole class
    grader_mb: int = 4096

    @classmethod
    def from_env(cls, environ=None) -> Limits:
        environ = os.environ if environ is None else environ
        values = {}
        for name in cls.__dataclass_fields__:
            raw = environ.get(f"COURSE_GRADE_{name.upper()}")
            if raw is None:
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise ValueError(f"COURSE_GRADE_{name.upper()} must be an integer; got {raw!r}") from None
            if values[name] <= 0:
                raise ValueError(f"COURSE_GRADE_{name.upper()} must be positive; got {raw!r}")
        return cls(**values)


@functools.lru_cache(maxsize=1)
def availability() -> tuple[bool, str]:
    """(True, "bubblewrap") when a bwrap sandbox can be created here, else (False, why not)."""
    if os.environ.get("COURSE_SANDBOX", "").lower() == "off":
        return False, "COURSE_SANDBOX=off"
    if not sys.platform.startswith("linux"):
        return False, f"no sandbox on {sys.platform} (bubblewrap is Linux only)"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bwrap (bubblewrap) is not installed"
    probe = [bwrap, *_system_binds(), "--proc", "/proc", "--dev", "/dev", *_unshare_args(), "--die-with-parent",
             "true"]
    proc = subprocess.run(probe, capture_output=True, text=True)
    if proc.returncode != 0:
        return False, f"bwrap can't create namespaces here ({proc.stderr.strip() or proc.returncode})"
    return True, "bubblewrap"


def _system_binds() -> list[str]:
    args = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _unshare_args() -> list[str]:
    # As root a user namespace would map the kernel to root again, which RLIMIT_NPROC exempts: root instead drops
    # to a user id of its own inside (see _inner); a normal user gets a user namespace (bwrap needs one).
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return common if os.geteuid() == 0 else ["--unshare-user", *common]


def configure(c, *, limits: Limits | None = None) -> None:
    """Point nbgrader's autograde at the sandboxed kernel and the bounded executor (called by nbgrader_config.py).

    Each nbgrader process gets a private runtime directory (connection files, ipc sockets, the kernel spec),
    removed when it exits, so that concurrent graders never share one.
    """
    from .checker import TrustedVerdicts  # noqa: PLC0415
    from .executor import BoundedExecute  # noqa: PLC0415 (nbgrader is only needed when grading)
    from .feedback import CapOutputs  # noqa: PLC0415

    limits = limits or Limits.from_env()
    runtime = tempfile.mkdtemp(prefix=RUNTIME_PREFIX)
    atexit.register(shutil.rmtree, runtime, ignore_errors=True)
    atexit.register(remove_cgroups, os.getpid())
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime
    spec_dir = pathlib.Path(runtime, "share", "kernels", KERNEL_NAME)
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        # Run as a script, not with -m: importing the course_lib package would import torch, twice per kernel.
        # -I: isolated mode, so this folder is not put first on sys.path (where a module could shadow the stdlib).
        "argv": [sys.executable, "-I", str(LAUNCHER), "-f", "{connection_file}"],
        "display_name": "convnet-course grading sandbox",
        "language": "python",
        # bwrap does not forward SIGINT: ask the kernel to interrupt itself over the control channel.
        "interrupt_mode": "message",
    }))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(spec_dir.parents[1]),
                                                              os.environ.get("JUPYTER_PATH")]))
    c.Execute.kernel_name = KERNEL_NAME
    c.BoundedExecute.kernel_name = KERNEL_NAME
    c.BoundedExecute.timeout = limits.cell_s
    c.BoundedExecute.notebook_timeout = limits.notebook_s
    c.KernelManager.transport = "ipc"
    from nbgrader.converters import Autograde  # noqa: PLC0415

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    # Executed in the sandbox, its outputs capped, then every graded test cell decided by the trusted checker, then
    # scored.
    steps = []
    for step in default:
        steps += [BoundedExecute, CapOutputs, TrustedVerdicts] if step.__name__ == "Execute" else [step]
    c.Autograde.autograde_preprocessors = steps


def _bwrap_base(*, limits: Limits, extra_binds: list[str], mount_points: list[str], uid: int | None,
                program: str, env: dict) -> tuple[list[str], list[str]]:
    """The parts of a bwrap command both sandboxes share: (bwrap and its mounts up to the program, inner argv)."""
    binds = _system_binds()
    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    for path in sorted(prefixes):
        if not any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS):
            binds += ["--ro-bind", path, path]
    binds += extra_binds
    setenv = [arg for k, v in sorted(env.items()) for arg in ("--setenv", k, v)]
    inner = [sys.executable, "-I", str(LAUNCHER), "--inner", "--program", program, "--memory-mb",
             str(limits.memory_mb), "--nproc", str(limits.nproc), "--file-mb", str(limits.file_mb),
             "--cpu-s", str(2 * limits.notebook_s)]
    caps = []
    if uid is not None:
        inner += ["--uid", str(uid)]
        caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    # bwrap creates missing parents of a mount point as root-only directories: make them traversable for the
    # unprivileged kernel (e.g. /root above a pyenv Python).
    parents = []
    for dest in [*binds[2::3], *mount_points]:
        for parent in reversed(pathlib.PurePosixPath(dest).parents):
            if str(parent) not in ("/", "/tmp") and str(parent) not in parents:
                parents.append(str(parent))
    dirs = [arg for parent in parents if not os.path.islink(parent) for arg in ("--perms", "0755", "--dir", parent)]
    head = [
        # /tmp first: the connection folder and the working folder may live under the grader's /tmp.
        shutil.which("bwrap") or "bwrap", "--perms", "1777", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
        *dirs, *binds, "--proc", "/proc", "--dev", "/dev",
        *_unshare_args(), "--die-with-parent", "--new-session", "--clearenv", *setenv, *caps,
    ]
    return head, inner


def _sandbox_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP or k.startswith(ENV_PREFIXES)}
    env.update(HOME="/tmp", MPLCONFIGDIR="/tmp/matplotlib", XDG_CACHE_HOME="/tmp/cache", PYTHONDONTWRITEBYTECODE="1",
               NBGRADER_EXECUTION=os.environ.get("NBGRADER_EXECUTION", "autograde"))
    return env


def working_copy_args(cwd: str, *, limits: Limits) -> list[str]:
    """bwrap arguments that put a copy of ``cwd`` on a size-limited tmpfs at ``cwd``: regular files only, each
    handed over as an open file descriptor (``--file FD``), so no link is ever followed and nothing the kernel
    writes reaches the grader's disk."""
    args = ["--perms", "0777", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", cwd]
    for folder, dirs, files in os.walk(cwd, followlinks=False):
        rel = os.path.relpath(folder, cwd)
        for name in sorted(dirs):
            if not os.path.islink(os.path.join(folder, name)):
                args += ["--perms", "0777", "--dir", os.path.normpath(os.path.join(cwd, rel, name))]
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:  # a link, or gone: never followed
                continue
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device: never read
                os.close(fd)
                continue
            os.set_inheritable(fd, True)
            args += ["--perms", "0666", "--file", str(fd), os.path.normpath(os.path.join(cwd, rel, name))]
    return args


def sandbox_command(connection_file: str, kernel_args: list[str], *, cwd: str, uid: int | None,
                    limits: Limits) -> list[str]:
    """The bwrap command line that runs the kernel: the working folder ``cwd`` as a copy on a tmpfs, the
    connection folder (and only it: never the grader's runtime folder with the kernel spec) bound writable."""
    conn = os.path.dirname(os.path.abspath(connection_file))
    course = [arg for name in COURSE_DIRS if (COURSE_ROOT / name).is_dir()
              for arg in ("--ro-bind", str(COURSE_ROOT / name), str(COURSE_ROOT / name))]
    head, inner = _bwrap_base(limits=limits, extra_binds=course, mount_points=[conn, cwd], uid=uid, program="kernel",
                              env=_sandbox_env())
    return [
        *head, "--bind", conn, conn, *working_copy_args(cwd, limits=limits),
        # A marker the kernel cannot remove (the root is read-only): exercises.is_grading() trusts it over the
        # environment, which student code could edit to bring back the reference fallback.
        "--dir", GRADING_MARKER, "--remount-ro", "/", "--chdir", cwd,
        *inner, "--", "-f", connection_file, *kernel_args,
    ]


def answers_command(withheld_course_lib: str, *, limits: Limits) -> list[str]:
    """The command that starts the trusted checker's answer server (:mod:`course_lib.grading.answers`) in a
    sandbox of its own: no network, no course folders, and ``withheld_course_lib`` (course_lib with the graded
    references withheld) mounted where course_lib is. It runs this module, which enters a cgroup first."""
    return [sys.executable, "-I", str(LAUNCHER), "--answers", withheld_course_lib]


def release_grader_limit() -> None:
    """Lift the grader's own data-memory limit (``Limits.grader_mb``, set by :mod:`course_lib.grading.launcher`)
    before becoming a sandboxed program, which gets its own limits instead."""
    try:
        import resource  # noqa: PLC0415 (POSIX)

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _answers_outer(argv: list[str]) -> None:
    withheld = argv[0]
    release_grader_limit()
    limits = Limits.from_env()
    uid = 200_000 + os.getpid() if os.geteuid() == 0 else None
    binds = ["--ro-bind", withheld, str(COURSE_ROOT / "course_lib")]
    head, inner = _bwrap_base(limits=limits, extra_binds=binds, mount_points=[], uid=uid, program="answers",
                              env=_sandbox_env())
    command = [*head, "--dir", GRADING_MARKER, "--remount-ro", "/", "--chdir", "/tmp", *inner, "--"]
    _enter_cgroup(limits)
    _die_with_parent()
    os.execv(command[0], command)


def _split_connection_file(argv: list[str]) -> tuple[str, list[str]]:
    if "-f" not in argv or argv.index("-f") + 1 >= len(argv):
        raise SystemExit(f"course_lib.grading.sandbox: expected -f CONNECTION_FILE; got {argv}")
    i = argv.index("-f")
    return argv[i + 1], argv[:i] + argv[i + 2:]


def _outer(argv: list[str]) -> None:
    """Grader side: hand the connection folder to the sandbox user, enter a cgroup, exec bwrap (or warn and run
    bare)."""
    connection_file, kernel_args = _split_connection_file(argv)
    limits = Limits.from_env()
    release_grader_limit()
    for secret in SECRETS:  # never in an environment the kernel can read, sandboxed or not
        os.environ.pop(secret, None)
    ok, why = availability()
    if not ok:
        sys.stderr.write(WARNING.format(why=why))
        sys.stderr.flush()
        _set_limits(limits.memory_mb, None, limits.file_mb, 2 * limits.notebook_s)
        _die_with_parent()
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *kernel_args])
    cwd = os.getcwd()
    conn = os.path.dirname(os.path.abspath(connection_file))
    runtime = os.path.dirname(conn)
    if not (os.path.basename(conn).startswith(CONN_PREFIX) and os.path.basename(runtime).startswith(RUNTIME_PREFIX)):
        # The connection file's folder is bound writable into the sandbox: it must be one made for this kernel.
        raise SystemExit(f"course_lib.grading.sandbox: the connection file must be in a {RUNTIME_PREFIX}*/"
                         f"{CONN_PREFIX}* folder made by the executor; got {connection_file} (is nbgrader_config.py "
                         f"calling sandbox.configure?)")
    uid = None
    if os.geteuid() == 0:
        # A user id no other process has: the grader's pid (unique while it runs) above the usual ranges. It owns
        # the connection folder (its sockets go there); the connection file stays the grader's, read-only to it.
        uid = 100_000 + os.getppid()
        os.chown(conn, uid, uid)
        os.chmod(connection_file, 0o644)
    command = sandbox_command(connection_file, kernel_args, cwd=cwd, uid=uid, limits=limits)
    _enter_cgroup(limits)
    _die_with_parent()
    os.execv(command[0], command)


# ---------------------------------------------------------------------------------------------------------------
# One cgroup per sandbox: memory and processes limited for the submission as a whole, not per process.


def _own_cgroups() -> dict[str, str]:
    """{controller (or "" for v2): this process's cgroup path} from /proc/self/cgroup."""
    own = {}
    try:
        for line in pathlib.Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    except (OSError, ValueError):
        pass
    return own


def _cgroup_dirs() -> list[tuple[str, dict]]:
    """Where a cgroup with memory and pids limits can be made here, below this process's own cgroups (so a
    container's limits still hold): v2 (unified) first, else v1's two controllers."""
    root = pathlib.Path(CGROUP_ROOT)
    own = _own_cgroups()
    if (root / "cgroup.controllers").is_file():
        return [(str(root / own.get("", "/").lstrip("/")), {"memory.max": "memory", "pids.max": "nproc",
                                                               "memory.swap.max": "zero"})]
    dirs = []
    for controller, files in (("memory", {"memory.limit_in_bytes": "memory"}), ("pids", {"pids.max": "nproc"})):
        base = root / controller / own.get(controller, "/").lstrip("/")
        if (base / "cgroup.procs").is_file():
            dirs.append((str(base), files))
    return dirs


def _enter_cgroup(limits: Limits) -> list[str]:
    """Move this process (and so everything it starts) into fresh cgroups with the submission's limits; the
    controllers that took effect ([] where none can be made: the limits are then per process only)."""
    name = f"{CGROUP_PREFIX}{os.getppid()}-{os.getpid()}"
    values = {"memory": str(limits.memory_mb * 2**20), "nproc": str(limits.nproc), "zero": "0"}
    done = []
    for base, files in _cgroup_dirs():
        path = os.path.join(base, name)
        try:
            os.mkdir(path)
            for filename, key in files.items():
                if os.path.exists(os.path.join(path, filename)):
                    with open(os.path.join(path, filename), "w") as f:
                        f.write(values[key])
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            done += [k for k in files.values() if k != "zero"]
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return done


def cgroups_available() -> bool:
    """True where the sandboxes' memory and process limits apply to the whole submission (a cgroup)."""
    for base, _ in _cgroup_dirs():
        probe = os.path.join(base, f"{CGROUP_PREFIX}probe-{os.getpid()}")
        try:
            os.mkdir(probe)
            os.rmdir(probe)
        except OSError:
            return False
    return bool(_cgroup_dirs())


def remove_cgroups(grader_pid: int, sandbox_pid: int | str = "*") -> None:
    """Kill what is left in the cgroups of one grader process's sandboxes (or of one of them), then remove them."""
    for base, _ in _cgroup_dirs():
        for path in pathlib.Path(base).glob(f"{CGROUP_PREFIX}{grader_pid}-{sandbox_pid}"):
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def _die_with_parent() -> None:
    """Linux: be killed when the grader dies, even by SIGKILL (bwrap's --die-with-parent covers the inside)."""
    try:
        import ctypes  # noqa: PLC0415
        import signal  # noqa: PLC0415

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG; kept across execve
    except (OSError, AttributeError):
        pass


def _set_limits(memory_mb: int | None, nproc: int | None, file_mb: int | None, cpu_s: int | None) -> None:
    try:
        import resource  # noqa: PLC0415 (POSIX only)
    except ImportError:  # Windows: no rlimits
        return
    wanted = [("RLIMIT_AS", memory_mb and memory_mb * 2**20), ("RLIMIT_NPROC", nproc),
              ("RLIMIT_FSIZE", file_mb and file_mb * 2**20), ("RLIMIT_CPU", cpu_s), ("RLIMIT_CORE", 0)]
    for name, value in wanted:
        if value is None or not hasattr(resource, name):
            continue
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS
            pass


def _inner(argv: list[str]) -> None:
    """Sandbox side: lower the limits, leave root, become the kernel."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="course_lib.grading.sandbox --inner")
    for name in ("--memory-mb", "--nproc", "--file-mb", "--cpu-s", "--uid"):
        parser.add_argument(name, type=int)
    parser.add_argument("--program", choices=("kernel", "answers"), default="kernel")
    args, rest = parser.parse_known_args(argv)
    rest = rest[1:] if rest[:1] == ["--"] else rest
    _set_limits(args.memory_mb, args.nproc, args.file_mb, args.cpu_s)
    if args.program == "kernel":
        # The kernel's own stdout is the grader's terminal (cell outputs travel over ZMQ): nothing to say there.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    if args.uid is not None:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    if args.program == "answers":  # stdin/stdout are the checker's channel
        os.execv(sys.executable, [sys.executable, "-I", str(LAUNCHER.with_name("answers.py"))])
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *rest])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--inner"]:
        _inner(argv[1:])
    elif argv[:1] == ["--answers"]:
        _answers_outer(argv[1:])
    else:
        _outer(argv)


if __name__ == "__main__":
    main()
