"""The split of every index of a shard, remembered between the split passes of one build.

``datasets`` prepares each split in a pass of its own over the same shards. The split of an
index is fixed by the structure of its first draw, so without a memo the validation and test
passes synthesize and hash every index only to skip the 95% that belong to train: about 11% of a
cold ``load_dataset``. The first pass over a shard leaves one small file here; later passes read
it and synthesize only their own indices.

The memo lives in a scratch directory that exists for one ``download_and_prepare`` and is
removed after it, so it never outlives the options and code that wrote it. A file that is
missing, unreadable or malformed is ignored (the pass computes the splits itself), and one that
cannot be written is skipped: the memo can only save time, never change a record.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

from .structure import SPLIT_NAMES

logger = logging.getLogger("warp_ir_pairs")

# One character per index: the split's position in SPLIT_NAMES.
_CODE = {name: str(i) for i, name in enumerate(SPLIT_NAMES)}


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """A fresh directory for one build's memo, removed afterwards whatever happens."""
    path = tempfile.mkdtemp(prefix="warp_ir_pairs_splits_")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _path(directory: str, start: int, stop: int) -> str:
    return os.path.join(directory, f"{start}-{stop}")


def read(directory: str | None, start: int, stop: int) -> list[str] | None:
    """The split of each index in ``[start, stop)``, or None when no valid memo exists."""
    if directory is None:
        return None
    try:
        with open(_path(directory, start, stop), encoding="ascii") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    if len(text) != stop - start or not set(text) <= set(_CODE.values()):
        logger.debug("warp_ir_pairs: ignoring malformed split memo for %s..%s", start, stop)
        return None
    return [SPLIT_NAMES[int(c)] for c in text]


def write(directory: str | None, start: int, stop: int, splits: list[str]) -> None:
    """Remember the split of each index in ``[start, stop)`` (atomically; skipped on any OSError)."""
    if directory is None or len(splits) != stop - start:
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("".join(_CODE[s] for s in splits))
        os.replace(tmp, _path(directory, start, stop))
    except OSError as e:
        logger.debug("warp_ir_pairs: split memo for %s..%s not written: %s", start, stop, e)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)
