"""The evaluate worker (a fresh process): compile each module, load its object into Warp, launch.

The worker is untrusted: the predicted code it runs shares its process and its pipe, so it
only ever reports raw material, never a verdict. Its request is a list of steps, compiles
first (no predicted code has run yet when a compile is reported), then runs:

* ``{"step": "compile", "i": ...}`` -> ``{"compiled": i, "ok": bool, "error": "clang's text"}``
* ``{"step": "run", "i": ..., "trial": t, "seed": ...}`` -> ``{"ran": i, "trial": t, "outputs":
  {...}}`` (the encoded output arrays only), ``{"ran": i, "trial": t, "io": "..."}`` (the whole
  ``example_io`` JSON, for the true IR's items, ``"report": "io"``) or ``{"ran": i, "trial": t,
  "error": "one line"}``. After a failed step the item's remaining steps are skipped.

The harness (``sandboxed``) accepts exactly that sequence and ``verdict`` judges the outputs.

How ``behaves`` makes Warp run the predicted code
-------------------------------------------------
Warp would only ever run the C++ it generates itself, so the worker hands it a prebuilt object
instead, through the loader behind Warp's public ``wp.load_aot_module``:

* The parent regenerates the record's module text, substitutes the prediction (or not: the
  true IR's own items), and the worker builds it with ``native``'s own compile step (the
  function ``native.compile_cpu`` uses, so the verdict is the compiles rung, one clang run
  serves both rungs) and keeps the ``.o``.
* The worker execs ``python_source`` as a fresh module (as ``execute`` does) and calls
  ``kernel.module.load("cpu", block_dim=1, binary_path=<the .o>, meta_path=<{}>)``: with a
  ``binary_path`` Warp does no codegen and no compile, it JIT-links the object and registers it
  as the module's executable for ``block_dim=1``, the variant a CPU ``wp.launch`` uses. Warp's
  default options are kept, the ones ``codegen.emit`` generated the record with, so Warp's
  mangled kernel name (a hash of source and options) is the record's; the worker checks that
  before running.
* Each trial calls ``launch.run_item`` with the trial's seed: the very code that produced
  ``example_io`` builds the inputs (for the recorded trial, ``launch.input_seed`` of the
  record: the same inputs), launches with ``wp.launch`` (which finds the loaded executable,
  hash unchanged, and calls ``<mangled>_cpu_forward``), checks the guard bytes around every
  array and encodes the outputs the same way.

Private API relied on (all exercised by tests/evaluate/test_evaluate.py, which fails loudly if Warp or
the sibling modules change): ``Module.load(..., binary_path=, meta_path=)`` and
``ModuleExec.get_kernel_mangled_name``/``get_kernel_hooks`` (Warp 1.19, context.py), behind
``toolchain.load_cpu_object``; the object comes from ``toolchain.compile_cpu_object``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .. import toolchain
from ..sandbox import RUN, PchSeed, WorkerChannel
from .sandboxed import COMPILE
from .score import DETAIL_CHARS


def main() -> None:
    channel = WorkerChannel()
    job = channel.job
    import warp as wp

    # Before init (Warp reads it there); nothing should be written, Module.load(binary_path=...)
    # never compiles, but a stray build must not land in the user's cache.
    wp.config.kernel_cache_dir = os.path.join(job, "cache")
    # Warp's defaults otherwise: they are the options warp_ir emitted the record with, so
    # Warp's mangled kernel names here are the record's.
    toolchain.warp()
    pch = PchSeed(os.path.join(job, "pch"), _native_pch_dir())
    channel.ready()
    meta = os.path.join(job, "obj", "meta.json")
    done: set[int] = set()        # items that failed a step: their remaining steps are skipped
    loaded = _Loaded(wp, meta)
    try:
        for step in channel.work():
            i = step["i"]
            if i in done:
                continue
            if step["step"] == COMPILE:
                channel.enter(COMPILE, [i])
                try:
                    ok, error = _compile_item(step)
                except Exception as e:   # e.g. text clang cannot be handed (lone surrogates): the prediction's
                    ok, error = False, f"{type(e).__name__}: {e}"
                if ok and step["target"] == "cpu":
                    pch.save()
                channel.result(compiled=i, ok=ok, error=error)
            else:
                channel.enter(RUN, [i], trial=step["trial"])
                try:
                    ok, report = loaded.run(step)
                except Exception as e:   # run_item catches what a prediction can cause; this is ours
                    ok, report = False, {"error": f"{type(e).__name__}: {e}"}
                channel.result(ran=i, trial=step["trial"], **report)
            if not ok:
                done.add(i)
    finally:
        loaded.release()
    channel.close()


def _compile_item(step: dict) -> tuple[bool, str]:
    """Build the item's module as ``native`` does; keep the CPU object for the runs: (ok, error)."""
    if step["target"] == "cuda":
        result = toolchain.compile_cuda([(step["name"], step["text"])], arch=step["arch"])[0]
    else:
        result = toolchain.compile_cpu_object(step["name"], step["text"], step["object"])
    return result.ok, result.error


class _Loaded:
    """The one item whose object is loaded as its kernel's executable; its trials run on it."""

    def __init__(self, wp: Any, meta: str) -> None:
        self.wp = wp
        self.meta = meta
        self.item: int | None = None
        self.module: Any = None
        self.filename = ""
        self.error = ""

    def run(self, step: dict) -> tuple[bool, dict]:
        """One trial: (ok, the report: ``{"outputs": ...}``, ``{"io": ...}`` or ``{"error": ...}``)."""
        from .. import launch

        if self.item != step["i"]:
            self.release()
            self.item = step["i"]
            self.error = self._load(step)
        if self.error:
            return False, {"error": _line(self.error)}
        ok, reason, io = launch.run_item(self.wp, self.module, step["source"], step["kernel_name"], step["seed"])
        if not ok:
            return False, {"error": _line(reason)}
        if step["report"] == "io":
            return True, {"io": io}
        # Only the raw outputs: dim and inputs are the harness's to know (it built them too).
        return True, {"outputs": json.loads(io)["outputs"]}

    def _load(self, step: dict) -> str:
        """Load the item's object as the kernel's executable; "" or why it cannot run."""
        name = step["kernel_name"]
        self.filename = f"<{name}>"
        try:
            self.module = toolchain.load_module(step["source"], self.filename, f"warp_ir_pairs_eval_{step['i']}")
        except Exception as e:
            return f"cannot load python_source: {type(e).__name__}: {e}"
        kernel = self.module.__dict__.get(name)
        if not toolchain.is_kernel(kernel):
            return f"no @wp.kernel named {name}"
        try:
            # Private API (the loader behind wp.load_aot_module): load a prebuilt object as the
            # module's block_dim=1 executable, which is what a CPU wp.launch looks up.
            mangled, linked = toolchain.load_cpu_object(kernel, step["object"], self.meta)
        except Exception as e:
            return f"load_error: {type(e).__name__}: {e}"
        if mangled != step["name"]:
            return (f"Warp names the kernel {mangled}, the record {step['name']} "
                    "(options differ from toolchain.codegen's?)")
        if not linked:
            # The JIT linker could not resolve a symbol the prediction uses (details on stderr).
            return f"load_error: {mangled}_cpu_forward does not link (unresolved symbols)"
        return ""

    def release(self) -> None:
        if self.module is not None:
            toolchain.release_module(self.module, self.filename)
        self.item, self.module = None, None


def _line(text: str) -> str:
    return " ".join(str(text).split())[:DETAIL_CHARS]


def _native_pch_dir() -> str | None:
    """The toolchain's per-process clang PCH directory (None: losing it only costs speed)."""
    try:
        return toolchain.clang_pch_dir()
    except Exception:
        return None
