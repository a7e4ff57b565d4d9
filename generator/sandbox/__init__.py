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

With a ``Confinement`` (``confine``) it is also a security boundary: every worker runs under
bubblewrap with no network, a fresh PID namespace, a read-only view of only the Python
installation and the packages it imports, a private writable temp dir, no secrets in its
environment and limits on CPU time, memory, file size and processes. ``required`` gives the
confinement or refuses in one line (``SandboxUnavailable``) where bubblewrap cannot run;
``preferred`` gives it or None after one warning.
"""

from . import reasons
from .confine import Confinement, Limits, SandboxUnavailable, preferred, refusal, required, unavailable
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
           "Confinement", "Limits", "PchSeed", "Phase", "SandboxUnavailable", "WorkerChannel", "job_dir",
           "preferred", "reasons", "refusal", "required", "supervise", "unavailable", "worker_env"]
