"""The Ray engine: shard units of a release run as Ray tasks (``generate --engine ray``).

Only *where* a unit runs changes: every task calls the same ``export.write_unit`` the local
engine calls, so the release is byte-identical to a local one. Units are idempotent (shards and
the unit marker are written to temp files and renamed), so a task Ray retries after its worker
died rewrites the same bytes and records are neither lost nor duplicated.

The cluster is the one at ``RAY_ADDRESS`` (``ray start --head`` on one machine, ``ray start
--address=HEAD:6379`` on the others); when it is unset a local Ray is started. Workers write
into the release folder, so on a multi-machine cluster it must be a path every node sees (NFS
or another shared filesystem), and every node needs this package installed (``pip install
"warp-ir-pairs[ray]"``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from . import export

# Ray retries a task whose worker process died this many times.
MAX_RETRIES = 4


def _unit_task(job: tuple) -> dict:
    """One unit, in a Ray worker: the same function the local engine runs."""
    return export._run_unit(job)


def runner(address: str | None = None, num_cpus: int | None = None) -> Callable[[list], Iterable[dict]]:
    """A ``run_units`` callable for ``export.generate`` that fans units out as Ray tasks."""

    def run(jobs: list) -> Iterable[dict]:
        if not jobs:
            return
        import ray

        if not ray.is_initialized():
            target = address or os.environ.get("RAY_ADDRESS") or None
            kwargs = {"include_dashboard": False, "log_to_driver": False}
            if target is None:
                kwargs["num_cpus"] = num_cpus or os.cpu_count()
            ray.init(address=target, **kwargs)
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_unit_task)
        pending = [task.remote(job) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])

    return run
