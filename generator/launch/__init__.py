"""Sandboxed CPU execution of generated kernels: run each once on small inputs, record its I/O.

``execute(items)`` takes ``(python_source, kernel_name, input_seed)`` triples and returns one
``ExecResult`` per item, in order. A kernel that crashes, hangs or cannot be fed is a result
with ``ok=False`` and a one-line ``reason``, never an exception and never a stalled caller.

The room: ``inputs`` (deterministic inputs, guarded buffers, handles), ``source_info`` (tid
dims and handle kinds from the AST), ``example_io`` (the JSON and its budget), ``run``
(``run_item``: inputs, launch, record), ``worker`` (the worker process: chunks, compiles), and
this module, the supervisor's client.

Sandbox
-------
Kernels run in a worker process of ``sandbox`` (``python -c`` + ``launch.worker``, never a
fork of the caller, which may hold an initialized Warp), one at a time with a per-kernel limit
of ``timeout_s`` on the launch. The worker reports each phase (compile of a chunk, run of an
item) over a pipe before entering it, so when it dies (SIGSEGV, SIGILL, abort) or overruns, the
supervisor knows the culprit: that item gets ``crash: SIG...`` or ``timeout`` (``... (compile)``
when it died compiling), the worker is killed, and a fresh one resumes with the remaining
items. A worker that dies while compiling a chunk has the chunk compiled kernel by kernel in
the next worker (see ``worker`` for chunks and what a replacement worker reuses).

The worker is confined by the OS sandbox where bubblewrap works here (``sandbox.confine``: no
network, its own PID namespace, a read-only view of the Python installation and
``WORKER_PACKAGES`` only, no secrets, limits); where it does not, it runs unconfined after one
logged warning: these are the project's own kernels, and records are the same either way.

Nothing leaks: each call works in its own temp dir (kernel cache, ``TMPDIR`` of the workers,
where Warp puts its PCH dirs, including those of workers that crashed), removed on return.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import sandbox
from ..sandbox import RUN, Phase, reasons
from .example_io import MAX_NUMBERS, encode
from .inputs import input_seed
from .run import one_line, run_item

__all__ = ["CHUNK_SIZE", "MAX_NUMBERS", "ExecResult", "encode", "execute", "input_seed", "run_item"]

CHUNK_SIZE = 16
# Compile limits: clang takes 0.1-1 s per kernel (1.3 s more for the first PCH); never hangs
# in practice, but a limit keeps the caller from ever stalling.
COMPILE_TIMEOUT_BASE_S = 60.0
COMPILE_TIMEOUT_PER_KERNEL_S = 15.0
_WORKER_COMMAND = "from warp_ir_pairs_generator.launch.worker import main; main()"
# What the worker imports: the sandbox shows it these (and the Python installation) read-only.
WORKER_PACKAGES = ("warp", "numpy", __name__.split(".")[0])


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one kernel: ``example_io`` JSON when ``ok``, else a one-line ``reason``."""

    ok: bool
    reason: str
    example_io: str


def _fail(reason: str) -> ExecResult:
    return ExecResult(False, one_line(reason), "")


def execute(items: list[tuple[str, str, int]], timeout_s: float = 10.0, confined: bool = True) -> list[ExecResult]:
    """Run each ``(python_source, kernel_name, input_seed)`` on the CPU in a sandbox worker.

    ``timeout_s`` limits each kernel's run (input building + launch + recording); compiling is
    limited separately and generously. Results come back in input order. ``confined``: confine
    the worker with the OS sandbox where it works here (else one warning, and unconfined: these
    are our own kernels); records are the same either way.
    """
    if not items:
        return []
    execution = _Execution(items, timeout_s)
    confinement = sandbox.preferred(WORKER_PACKAGES, "execute workers") if confined else None
    with sandbox.job_dir("warp-ir-exec-", ("cache", "pch")) as job:
        sandbox.supervise(_WORKER_COMMAND, execution, job, confinement)
    return [r if r is not None else _fail(reasons.NO_RESULT) for r in execution.results]


class _Execution:
    """The sandbox client of one ``execute`` call: chunks of items, one result each."""

    def __init__(self, items: list[tuple[str, str, int]], timeout_s: float) -> None:
        self.items = items
        self.timeout_s = timeout_s
        self.results: list[ExecResult | None] = [None] * len(items)
        self.chunks = [list(range(s, min(s + CHUNK_SIZE, len(items)))) for s in range(0, len(items), CHUNK_SIZE)]
        self.solo: set[int] = set()      # chunks to compile kernel by kernel (one crashed the compiler)

    def request(self, job: str) -> dict | None:
        results, items = self.results, self.items
        plan = [{"id": cid, "solo": cid in self.solo,
                 "items": [[i, str(items[i][0]), str(items[i][1]), int(items[i][2])] for i in members],
                 "run": [i for i in members if results[i] is None]}
                for cid, members in enumerate(self.chunks) if any(results[i] is None for i in members)]
        return {"chunks": plan} if plan else None

    def deadline_s(self, phase: Phase) -> float:
        if phase.kind == RUN:
            return self.timeout_s
        return COMPILE_TIMEOUT_BASE_S + COMPILE_TIMEOUT_PER_KERNEL_S * len(phase.items)

    def apply(self, result: dict) -> None:
        self.results[result["index"]] = ExecResult(result["ok"], result["reason"], result["io"])

    def blame(self, phase: Phase, reason: str) -> bool:
        if phase.kind == RUN or len(phase.items) == 1:
            self.results[phase.items[0]] = _fail(reason)
            return True
        chunk = phase.message.get("chunk")
        if chunk is not None and chunk not in self.solo:
            self.solo.add(chunk)   # the next worker compiles it kernel by kernel to find the culprit
            return True
        return False

    def give_up(self, reason: str) -> None:
        self.results = [r if r is not None else _fail(reason) for r in self.results]
