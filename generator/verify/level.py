"""What a verify level is: a name, the record fields it fills, a card sentence, a batch size, a check.

Levels are ordered (``verify.LEVELS``) and each includes the ones before it: a record verified
at ``execute`` was also compiled. A level's ``check`` gets the drafts that passed every earlier
level, fills its fields into each draft's ``native`` dict, and returns one reason per draft
("" when it passed; a reason makes the driver count the draft and draw a replacement).
Level files import nothing heavy at module level: ``options`` imports this registry, and
options must load without Warp; a check imports the toolchain (or the sandbox) when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Drafts verified together at the native levels (one compile / execute call): each execute call
# pays ~1.8 s of sandbox start-up and clang header, so batches are large.
NATIVE_BATCH = 64


class VerifyOptions(Protocol):
    """The generation options a check reads (``options.GenerationOptions`` has them all).

    A protocol rather than an import: ``options`` validates ``verify`` against this registry,
    so verify/ sits below options and must not import it.
    """

    backend: str
    seed: int
    verify: str
    ptx_arch: int
    opt_variants: bool

    @property
    def targets(self) -> tuple[str, ...]: ...


class Draft(Protocol):
    """The parts of the driver's draft a check reads and writes (attribute names are the driver's)."""

    index: int                  # the record index (execute derives its input seed from it)
    kernel: Any                 # synth.builder.KernelSource: python_source, kernel_name, category
    irs: dict[str, Any]         # target -> toolchain.KernelIR (mangled_name, module_text, ...)
    native: dict[str, object]   # record field -> value, filled by the checks


Check = Callable[[VerifyOptions, Sequence[Draft]], list[str]]


@dataclass(frozen=True)
class Level:
    """One verify level, declared in its own file under ``verify/`` and listed in ``verify.LEVELS``."""

    name: str                        # the value of the ``verify`` option and record field
    fields: Mapping[str, object]     # record fields it fills -> their value when it did not run, in record order
    sentence: str                    # the dataset card's line for records verified up to this level
    batch: int                       # how many drafts the driver hands ``check`` at once
    check: Check                     # (options, drafts) -> one failure reason per draft ("" = passed)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"a verify level's name must be an identifier, got {self.name!r}")
        if not isinstance(self.batch, int) or isinstance(self.batch, bool) or self.batch < 1:
            raise ValueError(f"verify level {self.name!r}: batch must be an int >= 1, got {self.batch!r}")
