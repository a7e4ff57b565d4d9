"""The execute worker (a fresh process): compile chunks of kernels, launch items, report each phase.

Speed: Warp compiles a whole module with one clang call, so items are grouped into chunks of
``CHUNK_SIZE`` that share one Warp module (sources are exec'd into Python modules of the same
``__name__``); a chunk that fails to compile is compiled kernel by kernel so only the bad
kernel fails. Only the forward pass is compiled (``enable_backward=False``). A replacement
worker finds the chunk's object in the per-call kernel cache (same module name and content, so
same hash) and the clang precompiled header in a per-call seed directory, so a crash costs
about one process start (~0.3 s), not a rebuild.

On x86-64, CPU code is compiled for ``x86-64-v3`` like the project's native records, not
``-march=native``, so FMA contraction and vector code (hence the last bits of results) do not
depend on which x86-64 machine runs the check (other architectures keep Warp's default).
"""

from __future__ import annotations

import os
import platform
import types
from typing import Any

from .. import toolchain
from ..sandbox import RUN, PchSeed, WorkerChannel
from ..toolchain.constants import CPU_BLOCK_DIM, CPU_FLAGS
from .run import one_line, run_item

COMPILE = "compile"


def main() -> None:
    channel = WorkerChannel()
    job = channel.job
    import warp as wp

    wp.config.kernel_cache_dir = os.path.join(job, "cache")   # before init: Warp reads it there
    wp.config.mode = "release"
    wp.config.enable_backward = False
    if platform.machine().lower() in ("x86_64", "amd64"):
        wp.config.cpu_compiler_flags = CPU_FLAGS
    toolchain.warp()
    pch = PchSeed(os.path.join(job, "pch"), toolchain.warp_pch_dir())
    channel.ready()
    for chunk in channel.work()["chunks"]:
        _Chunk(wp, chunk, channel, pch).work()
    channel.close()


class _Chunk:
    def __init__(self, wp: Any, chunk: dict, channel: WorkerChannel, pch: PchSeed) -> None:
        self.wp = wp
        self.chunk = chunk
        self.channel = channel
        self.pch = pch
        self.loaded: dict[int, tuple[types.ModuleType, str]] = {}
        self.errors: dict[int, str] = {}

    def work(self) -> None:
        chunk, channel = self.chunk, self.channel
        todo = [it for it in chunk["items"] if it[0] in chunk["run"]]
        try:
            if chunk["solo"] or len(chunk["items"]) == 1:
                for it in todo:
                    self._compile([it], f"wxs{it[0]}")
            # Every member (also those already done) so the module hash, hence the cache entry
            # an earlier worker left, is the same.
            elif not self._compile(chunk["items"], f"wxc{chunk['id']}"):
                # The shared module failed to build: find the culprit kernel by kernel.
                self._release()
                for it in todo:
                    if it[0] not in self.errors:
                        self._compile([it], f"wxs{it[0]}")
            for index, source, name, seed in todo:
                if index in self.errors:
                    channel.result(index=index, ok=False, reason=one_line(self.errors[index]), io="")
                    continue
                channel.enter(RUN, [index])
                ok, reason, io = run_item(self.wp, self.loaded[index][0], source, name, seed)
                channel.result(index=index, ok=ok, reason=one_line(reason), io=io)
        finally:
            self._release()

    def _compile(self, members: list, modname: str) -> bool:
        """Load ``members`` into one Warp module and compile it; False when the build failed."""
        self.channel.enter(COMPILE, [it[0] for it in members], chunk=self.chunk["id"])
        first = None
        for index, source, _name, _seed in members:
            filename = f"<wx{index}>"
            try:
                module = toolchain.load_module(source, filename, modname)
            except Exception as e:   # SyntaxError, Warp definition-time errors: this source only
                self.errors[index] = f"compile_error: {type(e).__name__}: {toolchain.first_line(e)}"
                continue
            self.loaded[index] = (module, filename)
            first = first or module
        if first is None:
            return True
        try:
            self.wp.load_module(first, device="cpu", block_dim=CPU_BLOCK_DIM)
        except Exception as e:
            if len(members) == 1:
                self.errors[members[0][0]] = f"compile_error: {toolchain.first_line(e)}"
            return False
        self.pch.save()
        return True

    def _release(self) -> None:
        for module, filename in self.loaded.values():
            toolchain.release_module(module, filename)
        self.loaded = {}
