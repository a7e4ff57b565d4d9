"""Process state of native compiles: the lock, the private temp dir, PCHs, NVRTC's TMPDIR, fd 2.

Each call works in its own directory (``call_dir``), removed when the call returns.
Precompiled headers live for the process in one private directory under the system temp dir,
removed at exit: the clang PCH (1.3 s to build; Warp keys it on block_dim, opt level and flags)
and NVRTC's automatic PCH (NVRTC creates it under ``$TMPDIR`` on first use and keeps that path
for the process, failing if it disappears, so ``TMPDIR`` points into the private directory
during NVRTC calls, and a vanished directory is recreated). A failed clang compile makes Warp
delete its PCH; a hard link kept beside it restores the file instead of paying a rebuild.
Native compiles hold one process-wide lock (``LOCK``): fd 2, ``TMPDIR`` and Warp's ``-mllvm``
options are process-global. Forked workers share the parent's directory (call
``native.warm_up()`` before forking so they share its PCHs too); only the creating process
removes it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator


class _State:
    root: str | None = None
    owner: int | None = None


_STATE = _State()
LOCK = threading.RLock()


def private_root() -> str:
    """The process's private directory under the system temp dir (created on first use)."""
    with LOCK:
        if _STATE.root is None:
            _STATE.root = tempfile.mkdtemp(prefix="warp_ir_pairs_native_")
            _STATE.owner = os.getpid()
        elif not os.path.isdir(_STATE.root):
            # Removed under us (a temp cleaner): recreate the same path, which NVRTC keeps using.
            os.makedirs(_STATE.root, exist_ok=True)
        return _STATE.root


def current_root() -> str | None:
    """The private directory if this process (or its parent) made one; never creates it."""
    return _STATE.root


@atexit.register
def _remove_root() -> None:
    # Forked children inherit _STATE; only the creating process removes the shared directory.
    if _STATE.root is not None and _STATE.owner == os.getpid():
        shutil.rmtree(_STATE.root, ignore_errors=True)
        _STATE.root = None


@contextlib.contextmanager
def call_dir() -> Iterator[str]:
    """A per-call working directory, removed afterwards whatever happens."""
    path = tempfile.mkdtemp(prefix="call_", dir=private_root())
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def clang_pch_dir() -> str:
    """This process's clang precompiled-header directory (created on first use)."""
    path = os.path.join(private_root(), "clang_pch")
    os.makedirs(path, exist_ok=True)
    return path


def keep_or_restore_pch(failed: bool) -> None:
    """Keep a hard link to each clang PCH; after a source error, put back the PCH Warp deleted.

    Warp deletes its PCH whenever a compile fails (the PCH might be stale), so the next
    compile pays ~1.6 s to rebuild it. After a genuine source error the PCH was fine. When a
    compile succeeds only without the PCH (Warp's retry) it really was stale: drop the link.
    Relies on Warp's PCH file naming (``*.pch`` in the pch_dir we pass); guarded by
    tests/toolchain/test_native.py::test_a_broken_kernel_fails_alone_and_its_batch_mates_succeed.
    """
    pch_dir = clang_pch_dir()
    for entry in os.listdir(pch_dir):
        path = os.path.join(pch_dir, entry)
        if entry.endswith(".pch"):
            with contextlib.suppress(FileExistsError):
                os.link(path, path + ".keep")
        elif entry.endswith(".pch.keep"):
            pch = path[: -len(".keep")]
            if not os.path.exists(pch):
                if failed:
                    with contextlib.suppress(FileExistsError):
                        os.link(path, pch)
                else:
                    os.remove(path)


@contextlib.contextmanager
def tmpdir_for_nvrtc() -> Iterator[None]:
    """Point TMPDIR into the private dir: NVRTC's automatic PCH directory goes there.

    NVRTC fixes that directory on first use for the whole process (and fails later if it is
    deleted), so it must outlive the call: the private dir is removed at exit. Guarded by
    tests/toolchain/test_native.py::test_a_fresh_process_gives_the_same_bytes_and_leaves_no_temp_files.
    """
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = private_root()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


@contextlib.contextmanager
def capture_fd2(directory: str) -> Iterator[dict[str, str]]:
    """Everything written to file descriptor 2 (clang, LLVM and NVRTC write there directly)."""
    captured: dict[str, str] = {"text": ""}
    sys.stderr.flush()
    with tempfile.TemporaryFile(dir=directory) as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured["text"] = sink.read().decode("utf-8", "replace")
