"""One supervisor for every crash-prone or hang-prone run: phases, deadlines, one spelling of every reason.

Rooms that run untrusted or fragile native code (``launch`` runs generated kernels, ``evaluate``
compiles and runs predicted IR) do it in worker processes through this package. It knows
nothing of Warp or records: a client supplies the worker command, the work for each fresh
worker, a deadline per phase, and what a result or a stop inside a phase means; the
supervisor starts, follows, kills and replaces workers (see ``supervisor``). The worker side
is ``WorkerChannel`` (and ``PchSeed`` to share a costly per-process file across the workers
of one call).

Every stop has one spelling (``reasons``): ``timeout``, ``crash: SIGSEGV``,
``worker_error: exit 3: <last log line>``, ``worker_error: bad message ...``,
``worker_error: cannot start a worker: ...``, ``worker_error: no result``; a stop outside an
item's own ``run`` phase names the phase: ``timeout (compile)``, ``crash: SIGSEGV (start)``.

This is a crash and hang boundary, not a security boundary: the worker runs with the caller's
privileges.
"""

from . import reasons
from .supervisor import (
    BETWEEN,
    EXIT_TIMEOUT_S,
    MAX_WORKER_FAILURES,
    RUN,
    START,
    STARTUP_TIMEOUT_S,
    Client,
    Phase,
    job_dir,
    supervise,
    worker_env,
)
from .worker import PchSeed, WorkerChannel

__all__ = ["BETWEEN", "EXIT_TIMEOUT_S", "MAX_WORKER_FAILURES", "RUN", "START", "STARTUP_TIMEOUT_S", "Client",
           "PchSeed", "Phase", "WorkerChannel", "job_dir", "reasons", "supervise", "worker_env"]
