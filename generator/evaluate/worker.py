"""The evaluate worker (a fresh process): compile each prediction, load its object into Warp, launch.

How ``behaves`` makes Warp run the predicted code
-------------------------------------------------
Warp would only ever run the C++ it generates itself, so the worker hands it a prebuilt object
instead, through the loader behind Warp's public ``wp.load_aot_module``:

* The parent regenerates the record's module text, substitutes the prediction, and the worker
  builds it with ``native``'s own compile step (the function ``native.compile_cpu`` uses, so the
  verdict is the compiles rung, one clang run serves both rungs) and keeps the ``.o``.
* The worker execs ``python_source`` as a fresh module (as ``execute`` does) and calls
  ``kernel.module.load("cpu", block_dim=1, binary_path=<the .o>, meta_path=<{}>)``: with a
  ``binary_path`` Warp does no codegen and no compile, it JIT-links the object and registers it
  as the module's executable for ``block_dim=1``, the variant a CPU ``wp.launch`` uses. Warp's
  default options are kept, the ones ``codegen.emit`` generated the record with, so Warp's
  mangled kernel name (a hash of source and options) is the record's; the worker checks that
  before running (a mismatch is a harness error, not a score).
* It then calls ``launch.run_item`` with the record's ``input_seed`` (recomputed by
  ``launch.input_seed`` from the record's backend, seed and index): the very code that produced
  ``example_io`` builds the same inputs (checked equal to ``example_io["inputs"]``), launches
  with ``wp.launch`` (which finds the loaded executable, hash unchanged, and calls the
  prediction's ``<mangled>_cpu_forward``), checks the guard bytes around every array and encodes
  the outputs the same way.

Private API relied on (all exercised by tests/evaluate/test_evaluate.py, which fails loudly if Warp or
the sibling modules change): ``Module.load(..., binary_path=, meta_path=)`` and
``ModuleExec.get_kernel_mangled_name``/``get_kernel_hooks`` (Warp 1.19, context.py), behind
``toolchain.load_cpu_object``; the object comes from ``toolchain.compile_cpu_object``.
"""

from __future__ import annotations

import os
from typing import Any

from .. import toolchain
from ..sandbox import RUN, PchSeed, WorkerChannel
from .score import DETAIL_CHARS

COMPILE = "compile"


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
    items = channel.work()
    meta = os.path.join(job, "obj", "meta.json")
    for item in items:
        if item["text"] is not None:
            channel.enter(COMPILE, [item["i"]])
            try:
                ok, error, harness = _compile_item(item)
            except Exception as e:   # e.g. text clang cannot be handed (lone surrogates): the prediction's
                ok, error, harness = False, f"{type(e).__name__}: {e}", False
            if ok and item["target"] == "cpu":
                pch.save()
            channel.result(compiled=item["i"], ok=ok, error=error, harness=harness)
            if not ok:
                continue
        if item["run"] is not None:
            channel.enter(RUN, [item["i"]])
            try:
                ran = _run_prediction(wp, item, meta)
            except Exception as e:   # run_item catches what a prediction can cause; this is ours
                ran = {"ok": False, "reason": f"{type(e).__name__}: {e}"[:DETAIL_CHARS], "io": "", "harness": True}
            channel.result(ran=item["i"], **ran)
    channel.close()


def _compile_item(item: dict) -> tuple[bool, str, bool]:
    """Build the item's module as ``native`` does; keep the CPU object for the run.

    Returns (ok, error, harness): ``harness`` when the failure is the harness's, not the prediction's.
    """
    if item["target"] == "cuda":
        result = toolchain.compile_cuda([(item["name"], item["text"])], arch=item["arch"])[0]
    else:
        result = toolchain.compile_cpu_object(item["name"], item["text"], item["object"])
    return result.ok, result.error, False


def _run_prediction(wp: Any, item: dict, meta: str) -> dict:
    """Load the prediction's object as the kernel's executable and launch it like ``execute``."""
    from .. import launch

    run = item["run"]
    name = run["kernel_name"]
    filename = f"<{name}>"

    def result(ok: bool, reason: str, io: str = "", harness: bool = False) -> dict:
        return {"ok": ok, "reason": " ".join(reason.split())[:DETAIL_CHARS], "io": io, "harness": harness}

    module = None
    try:
        try:
            module = toolchain.load_module(run["source"], filename, f"warp_ir_pairs_eval_{item['i']}")
        except Exception as e:
            return result(False, f"cannot load python_source: {type(e).__name__}: {e}", harness=True)
        kernel = module.__dict__.get(name)
        if not toolchain.is_kernel(kernel):
            return result(False, f"no @wp.kernel named {name}", harness=True)
        try:
            # Private API (the loader behind wp.load_aot_module): load a prebuilt object as the
            # module's block_dim=1 executable, which is what a CPU wp.launch looks up.
            mangled, linked = toolchain.load_cpu_object(kernel, item["object"], meta)
        except Exception as e:
            return result(False, f"load_error: {type(e).__name__}: {e}")
        if mangled != item["name"]:
            return result(False, f"Warp names the kernel {mangled}, the record {item['name']} "
                                 "(options differ from toolchain.codegen's?)", harness=True)
        if not linked:
            # The JIT linker could not resolve a symbol the prediction uses (details on stderr).
            return result(False, f"load_error: {mangled}_cpu_forward does not link (unresolved symbols)")
        ok, reason, io = launch.run_item(wp, module, run["source"], name, run["seed"])
        # Input-side failures are execute's business, not the prediction's.
        return result(ok, reason, io, harness=reason.startswith(("unsupported", "input_error")))
    finally:
        toolchain.release_module(module, filename)


def _native_pch_dir() -> str | None:
    """The toolchain's per-process clang PCH directory (None: losing it only costs speed)."""
    try:
        return toolchain.clang_pch_dir()
    except Exception:
        return None
