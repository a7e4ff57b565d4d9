"""The lock on a release folder, ``DIR/.lock``: one writer, or any number of readers.

``generate`` and ``card`` write a folder and hold an exclusive ``fcntl.flock`` on its lock file;
``verify`` and ``push`` only read it and hold a shared one. Nobody waits: a folder that is busy is
refused in one line, because a second writer would interleave units and manifests (the issue's
600 records silently gone) and a reader would check or upload a half-written release.

``flock`` belongs to the open file, and the kernel drops it when the holder dies however it dies
(``kill -9`` included), so a stale lock needs no recovery: the file stays, the lock does not. The
file is never deleted (deleting a lock file lets two processes lock two different files). The
writer records its pid in it, only to name the holder in the refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

FILE_NAME = ".lock"
# Folders this process holds the lock of, and how deeply: ``generate`` holds it around each
# config and the card build. flock conflicts between two opens even in one process, so a nested
# hold must reuse the first one, not lock again.
_HELD: dict[Path, int] = {}


class FolderBusy(RuntimeError):
    """Another process writes (or reads) the folder; the message is one line."""


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


@contextlib.contextmanager
def writing(root: Path) -> Iterator[None]:
    """Hold the folder's exclusive lock (creating the lock file); FolderBusy when anyone else holds it."""
    root.mkdir(parents=True, exist_ok=True)
    key = root.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fd = os.open(root / FILE_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(_busy_message(root, fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)   # the pid is only true while the lock is held
    finally:
        os.close(fd)   # closing drops the lock


@contextlib.contextmanager
def reading(root: Path) -> Iterator[None]:
    """Hold the folder's shared lock; FolderBusy while a writer holds it.

    Reading never creates the lock file (a push leaves the folder as it was): a folder without
    one was never written by ``generate``, so there is no writer to exclude.
    """
    if root.resolve() in _HELD:   # we are the writer: reading our own folder is fine
        yield
        return
    try:
        fd = os.open(root / FILE_NAME, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"{root} is being written by another warp-ir-pairs process{_holder(fd)}; "
                             "wait for it to finish") from None
        yield
    finally:
        os.close(fd)


def _busy_message(root: Path, fd: int) -> str:
    # A shared lock can be taken only when no writer holds the lock: then the holders are readers.
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return (f"{root} is being written by another warp-ir-pairs process{_holder(fd)}; "
                "wait for it or use another folder")
    fcntl.flock(fd, fcntl.LOCK_UN)
    return f"{root} is being read by another warp-ir-pairs process (verify or push); wait for it to finish"
