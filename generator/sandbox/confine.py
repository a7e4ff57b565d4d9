"""The OS sandbox around every worker: bubblewrap namespaces, a minimal read-only view, limits.

A worker started through ``Confinement.jail(job).argv(...)`` runs as

    bwrap <namespaces, mounts, environment> prlimit <limits> [setpriv <uid drop>] python -c ...

* **Namespaces** (bubblewrap, Debian's ``bubblewrap``): no network, a fresh PID namespace
  whose init is bubblewrap (``--die-with-parent``), so every process a worker starts, daemons
  that ``setsid()`` included, dies when the worker's round ends; fresh IPC and UTS namespaces.
* **A read-only view of only what the worker imports**: the Python installation
  (``sys.base_prefix``, ``sys.prefix``), the directories of the packages the client names (an
  editable install's source directory, never the rest of the working tree), ``/usr`` and the
  ``/bin``/``/lib*`` links to it, a fresh ``/dev`` and ``/proc``. Python, ld.so and Warp need no
  file of ``/etc`` (measured), so none is there: no ``/etc/passwd``, no home, no caches.
* **A private writable temp dir only**: the job's subdirectories (``tmp`` is ``TMPDIR`` and
  ``HOME``) are bound read-write, the job directory itself read-only (the supervisor writes the
  requests and logs there, so a worker cannot swap them for links), ``/tmp`` is an empty tmpfs.
* **An environment with no secrets**: ``--clearenv``, then ``PATH``, ``LANG``, ``HOME``,
  ``TMPDIR``, ``PYTHONHASHSEED=0``, ``PYTHONNOUSERSITE=1`` and ``PYTHONPATH`` for package
  directories outside the installation; nothing else of the caller's (no ``HF_*``, tokens).
* **Limits** (``Limits``, set by ``prlimit`` inside the sandbox, soft = hard so the worker cannot
  raise them): CPU seconds, address space, file size, processes (threads count), no core files.
  The kernel does not enforce the process limit for uid 0, and a user namespace does not help a
  root caller (its uid inside maps back to uid 0), so a root caller's worker drops to an unused
  uid of its own with ``setpriv`` (no capabilities, ``no_new_privs``); a non-root caller's worker
  gets a user namespace, where the limit counts that namespace's processes.

``unavailable()`` probes once per process whether all of this works here (``bwrap ... true``);
``required`` (evaluate: untrusted predictions) refuses with one line when it does not,
``preferred`` (launch: our own kernels) warns once and runs unconfined.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field

BWRAP = "/usr/bin/bwrap"
INSTALL_HINT = "apt-get install bubblewrap"
# Unused uids for root callers' workers: one per jail, so the process limit counts only that
# jail's processes and jails cannot signal each other (kill(-1) reaches only its own).
UID_BASE = 0x40000000
_uids = itertools.count()
_log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 30.0


class SandboxUnavailable(RuntimeError):
    """The OS sandbox cannot run here and the caller did not opt out of it."""


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits (a worker serves many items; deadlines bound each phase)."""

    cpu_s: int = 3600                  # CPU seconds of one worker's whole life
    memory_bytes: int = 8 << 30        # address space; a Warp worker peaks near 0.6 GB
    file_bytes: int = 1 << 30          # largest file a worker may write (objects, PCH: MBs)
    processes: int = 512               # processes + threads of the jail's uid (worker: 2-20)


@dataclass(frozen=True)
class Confinement:
    """What a client's workers may see: the top-level packages they import, and their limits."""

    packages: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)

    def jail(self, job: str) -> Jail:
        """The sandbox of one supervised call working in ``job`` (its own uid for a root caller)."""
        uid = UID_BASE + (os.getpid() % 0x10000) * 0x1000 + next(_uids) % 0x1000 if os.geteuid() == 0 else None
        return Jail(self, os.path.abspath(job), uid)


@dataclass(frozen=True)
class Jail:
    confinement: Confinement
    job: str
    uid: int | None          # the uid a root caller's worker drops to; None: a user namespace

    def prepare(self) -> None:
        """Before each worker: the job's subdirectories are the jail's to write, the job itself is not."""
        os.chmod(self.job, 0o711)        # traversable, not listable, by the jail's uid
        if self.uid is None:
            return
        for sub in _subdirs(self.job):
            for root, dirs, files in os.walk(sub):
                for name in (root, *(os.path.join(root, n) for n in (*dirs, *files))):
                    os.chown(name, self.uid, self.uid, follow_symlinks=False)

    def readable(self, path: str) -> None:
        """A file the supervisor wrote into the (read-only) job directory, for the worker to read."""
        os.chmod(path, 0o644)

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` (absolute program path) run inside the sandbox."""
        limits = self.confinement.limits
        out = [BWRAP, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent"]
        if self.uid is None:
            out.append("--unshare-user")
        out += [*_system_view(), "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        views = _package_view(self.confinement.packages)
        # bubblewrap makes missing parents 0700, which the jail's uid could not traverse.
        for parent in _parents((*views, self.job)):
            out += ["--perms", "0755", "--dir", parent]
        for path in views:
            out += ["--ro-bind", path, path]
        out += ["--ro-bind", self.job, self.job]
        for sub in _subdirs(self.job):
            out += ["--bind", sub, sub]
        out += ["--chdir", self.job, "--clearenv"]
        for key, value in self.env().items():
            out += ["--setenv", key, value]
        out += ["--", _tool("prlimit"), f"--cpu={limits.cpu_s}", f"--as={limits.memory_bytes}",
                f"--fsize={limits.file_bytes}", f"--nproc={limits.processes}", "--core=0", "--"]
        if self.uid is not None:
            out += [_tool("setpriv"), f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                    "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        return out + argv

    def env(self) -> dict[str, str]:
        """The worker's whole environment: nothing of the caller's but where Python lives."""
        tmp = os.path.join(self.job, "tmp")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp,
               "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        extra = [p for p in _import_roots(self.confinement.packages) if not _installed(p)]
        if extra:
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(extra))
        return env

    @staticmethod
    def exit_status(rc: int) -> int:
        """bubblewrap exits 128+N when its child died of signal N: as ``Popen.returncode`` spells it."""
        return -(rc - 128) if 128 < rc < 128 + 65 else rc


def _subdirs(job: str) -> list[str]:
    return sorted(e.path for e in os.scandir(job) if e.is_dir(follow_symlinks=False))


def _parents(paths: Iterable[str]) -> list[str]:
    """Every ancestor directory of ``paths`` that the sandbox does not already have, outermost first."""
    have = {"/", "/usr", "/tmp", "/dev", "/proc"}
    out: set[str] = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in have and parent not in out:
            out.add(parent)
            parent = os.path.dirname(parent)
    return sorted(out, key=lambda p: (p.count(os.sep), p))


def _system_view() -> list[str]:
    """``/usr`` read-only, and ``/bin``, ``/lib*`` as they are here (links on merged-/usr systems)."""
    out = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            out += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            out += ["--ro-bind", name, name]
    return out


@functools.cache
def _package_view(packages: tuple[str, ...]) -> tuple[str, ...]:
    """The Python installation and each named package's directory (and its ``.libs``), minimal."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), os.path.abspath(sys.prefix)}
    for directory in _package_dirs(packages):
        paths.add(directory)
        if os.path.isdir(directory + ".libs"):          # manylinux wheels keep shared libraries there
            paths.add(directory + ".libs")
    # A path inside another bound one is already there.
    ordered = sorted(paths)
    return tuple(p for p in ordered if not any(p != q and p.startswith(q + os.sep) for q in ordered))


def _package_dirs(packages: Iterable[str]) -> list[str]:
    out = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            out += [os.path.realpath(p) for p in spec.submodule_search_locations]
        elif spec.origin:
            out.append(os.path.realpath(spec.origin))
    return out


def _import_roots(packages: Iterable[str]) -> list[str]:
    return [os.path.dirname(d) for d in _package_dirs(packages)]


def _installed(path: str) -> bool:
    """Inside the Python installation: already on the worker's ``sys.path`` (or needs no entry)."""
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), os.path.abspath(sys.prefix)}
    return any(path == p or path.startswith(p + os.sep) for p in prefixes)


def _tool(name: str) -> str:
    """A util-linux tool (Essential on Debian) by its path under ``/usr``, which the sandbox sees."""
    for directory in ("/usr/bin", "/usr/sbin"):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return shutil.which(name) or name


@functools.cache
def unavailable() -> str | None:
    """None when the sandbox works here; else one line saying what is missing. Probed once."""
    if not os.access(BWRAP, os.X_OK):
        return f"bubblewrap is not installed (no {BWRAP})"
    with tempfile.TemporaryDirectory(prefix="warp-ir-probe-") as job:
        os.mkdir(os.path.join(job, "tmp"))
        jail = Confinement().jail(job)
        try:
            jail.prepare()
            done = subprocess.run(jail.argv([sys.executable, "-c", "pass"]), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            return f"bubblewrap cannot start here: {e}"
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        return f"bubblewrap cannot create its namespaces here: {(lines or ['exit ' + str(done.returncode)])[-1]}"
    return None


def refusal(reason: str) -> str:
    """The one line that refuses to run untrusted code unconfined."""
    return (f"the sandbox for predicted code is unavailable: {reason}; install it ({INSTALL_HINT}), "
            "or pass --no-sandbox (Python: sandbox=False) to run predictions unconfined at your own risk")


def required(packages: tuple[str, ...]) -> Confinement:
    """The confinement for untrusted code; ``SandboxUnavailable`` (one line) when it cannot run."""
    reason = unavailable()
    if reason:
        raise SandboxUnavailable(refusal(reason))
    return Confinement(packages)


def preferred(packages: tuple[str, ...], what: str) -> Confinement | None:
    """The confinement when it works here, else None after one logged warning per process."""
    reason = unavailable()
    if reason is None:
        return Confinement(packages)
    _warn_once(f"{what} run unconfined: {reason} (install it: {INSTALL_HINT})")
    return None


@functools.cache
def _warn_once(message: str) -> None:
    _log.warning(message)
