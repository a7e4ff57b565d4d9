"""Native compiles of generated Warp modules: PTX (CUDA), optimized LLVM IR and x86-64 asm (CPU).

Input is the complete text of ONE-kernel modules exactly as ``ModuleBuilder(...).codegen()``
returns it (``module_text`` below makes one; CPU text is generated with ``block_dim=1``, CUDA
text with ``block_dim=256`` and ``output_arch=90``, as in ``toolchain.codegen``). Output is one
``NativeResult`` per input, in input order; a kernel that does not compile is a result with
``ok=False``, never an exception. Only Warp's bundled toolchains run: NVRTC 13.4 inside
``warp.so`` and the LLVM 22 clang inside ``warp-clang.so`` (never a system nvcc/ptxas/clang);
GNU ``objdump`` only disassembles. No GPU is needed.

Targets (the values are ``constants``')
---------------------------------------
* CUDA: PTX for ``sm_{arch}``, ``DEFAULT_PTX_ARCH = 90`` (record the arch you pass).
  Warp's release defaults: ``-O3``, ``fuse_fp``, no fast-math, no lineinfo.
* CPU: ``CPU_TARGET = "x86-64-v3"`` handed to Warp's cc1-style flags as ``-target-cpu
  x86-64-v3`` (why that target: ``constants``); the rest of ``CPU_FLAGS`` is Warp 1.19's default
  ``cpu_compiler_flags``; ``-O2`` (Warp's CPU default), ``fuse_fp``, ``block_dim=1`` (what a CPU
  launch compiles with).

One translation unit per module
-------------------------------
Every module is compiled as its own translation unit (TU), byte for byte the text Warp itself
would compile: a kernel's output never depends on what else is in the call. One call still
compiles any number of kernels, with the setup (temp dir, warm precompiled headers) shared, and
the same module twice in one call is compiled once. Sharing a TU between kernels is cheaper but
not exact (whole-TU optimization couples them); ``benchmarks/shared_tu.py`` measures it on top
of ``compile_text``, the public compile of one TU as given.

How outputs are cut and normalized: ``extract`` and ``normalize``; the temp dir, PCHs, fd-2
capture and the lock: ``process_state``. Every use of Warp's private build API is in this
module, each marked with the test that guards it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from . import codegen, extract, process_state
from .constants import CPU_BLOCK_DIM, CPU_FLAGS, CPU_OPT_LEVEL, CUDA_OPT_LEVEL, DEFAULT_PTX_ARCH, PROGRAM
from .normalize import normalize_asm, normalize_error, normalize_llvm_ir, normalize_ptx

# Prints each function's IR before CodeGenPrepare, i.e. after the whole optimization pipeline.
IR_CAPTURE_FLAG = "-mllvm=-print-before=codegenprepare"
OBJDUMP_ARGS = ("-d", "--no-show-raw-insn", "--no-addresses")


@dataclass(frozen=True)
class NativeResult:
    mangled_name: str
    ok: bool
    error: str              # Warp/clang/NVRTC diagnostic (first ERROR_LINES lines, normalized) when not ok
    ptx: str = ""           # cuda: forward and backward .entry functions (forward first), normalized
    ir_llvm: str = ""       # cpu: optimized LLVM IR (define of {mangled}_cpu_forward), normalized
    asm: str = ""           # cpu: x86-64 assembly of {mangled}_cpu_forward from objdump, normalized


class NativeToolchainError(RuntimeError):
    """The environment cannot compile at all (e.g. no objdump): not a property of any kernel."""


# ----------------------------------------------------------------------------------------------
# Public API


def compile_cuda(modules: list[tuple[str, str]], arch: int = DEFAULT_PTX_ARCH,
                 opt_level: int | None = None) -> list[NativeResult]:
    """PTX for ``sm_{arch}`` of each ``(mangled_name, module_text)``; one result per item, in order.

    ``opt_level`` replaces Warp's default (``CUDA_OPT_LEVEL``) for this call.
    """
    _check_arch(arch)
    return _compile_all("cuda", modules, arch, opt_level)


def compile_cpu(modules: list[tuple[str, str]], opt_level: int | None = None) -> list[NativeResult]:
    """Optimized LLVM IR and x86-64 asm (``CPU_TARGET``) of each ``(mangled_name, module_text)``.

    One result per item, in order. ``opt_level`` replaces Warp's default (``CPU_OPT_LEVEL``) for this call.
    """
    _check_objdump()
    return _compile_all("cpu", modules, None, opt_level)


def compile_cpu_object(mangled_name: str, module_text: str, object_path: str) -> NativeResult:
    """``compile_cpu`` for one module that also keeps the object file, copied to ``object_path``.

    The object is what a CPU launch links; callers load it with ``toolchain.load_cpu_object``.
    The result is the same as ``compile_cpu([(mangled_name, module_text)])[0]``.
    """
    _check_objdump()
    with process_state.call_dir() as call_dir:
        ok, error, artifacts = _native_compile("cpu", module_text, call_dir, None, None)
        if not ok:
            return NativeResult(mangled_name, False, error)
        result = kernel_result("cpu", mangled_name, artifacts)
        if result.ok:
            shutil.copyfile(os.path.join(call_dir, "module.o"), object_path)
        return result


def compile_text(backend: str, text: str, arch: int | None = None, opt_level: int | None = None
                 ) -> tuple[bool, str, dict[str, str]]:
    """Compile one translation unit exactly as given: ``(ok, normalized diagnostic, raw artifacts)``.

    The artifacts are NVRTC's whole PTX (``"ptx"``) or the fd-2 IR dump (``"ir"``) and objdump's
    disassembly (``"asm"``) of the whole object; ``kernel_result`` cuts one kernel's fields out.
    ``arch`` (cuda only) defaults to ``DEFAULT_PTX_ARCH``. Never raises for bad source.
    """
    if backend not in PROGRAM:
        raise ValueError(f"backend must be one of {', '.join(PROGRAM)}, got {backend!r}")
    if backend == "cuda":
        arch = DEFAULT_PTX_ARCH if arch is None else arch
        _check_arch(arch)
    else:
        _check_objdump()
        arch = None
    with process_state.call_dir() as call_dir:
        return _native_compile(backend, text, call_dir, arch, opt_level)


def kernel_result(backend: str, name: str, artifacts: dict[str, str]) -> NativeResult:
    """One kernel's normalized fields, cut out of a successful compile's raw artifacts."""
    try:
        if backend == "cuda":
            forward = extract.ptx_entry(artifacts["ptx"], f"{name}_cuda_kernel_forward")
            backward = extract.ptx_entry(artifacts["ptx"], f"{name}_cuda_kernel_backward", required=False)
            return NativeResult(name, True, "", ptx=normalize_ptx("\n".join(p for p in (forward, backward) if p)))
        symbol = f"{name}_cpu_forward"
        return NativeResult(name, True, "", ir_llvm=normalize_llvm_ir(extract.ir_function(artifacts["ir"], symbol)),
                            asm=normalize_asm(extract.asm_function(artifacts["asm"], symbol)))
    except KeyError as e:
        return NativeResult(name, False, f"compiled, but {e.args[0]}")


def clang_pch_dir() -> str:
    """This process's clang precompiled-header directory (PCHs may be shared by hard links)."""
    return process_state.clang_pch_dir()


def cpu_flags() -> str:
    """The exact flag string handed to Warp's clang (recorded with CPU records)."""
    return f"{CPU_FLAGS} {IR_CAPTURE_FLAG}"


def warm_up(backends: tuple[str, ...] = ("cpu", "cuda")) -> dict[str, float]:
    """Pay the one-time costs (first NVRTC call, clang PCH build); seconds per backend.

    Call it before forking workers so they share the parent's precompiled headers.
    """
    costs = {}
    for backend in backends:
        name, text = module_text(_WARM_UP_SOURCE, "wp_ir_pairs_warm_up", backend)
        start = time.perf_counter()
        result = (compile_cpu if backend == "cpu" else compile_cuda)([(name, text)])[0]
        costs[backend] = time.perf_counter() - start
        if not result.ok:
            raise NativeToolchainError(f"{backend} warm-up kernel failed to compile: {result.error}")
    return costs


def module_text(source: str, kernel_name: str, backend: str) -> tuple[str, str]:
    """``(mangled_name, full module text)`` of the kernel, as ``codegen.emit`` generates it."""
    ir = codegen.emit(source, kernel_name, backend)
    return ir.mangled_name, ir.module_text


_WARM_UP_SOURCE = """import warp as wp

@wp.kernel
def wp_ir_pairs_warm_up(a: wp.array(dtype=float)):
    i = wp.tid()
    a[i] = a[i] * 2.0
"""


def _check_arch(arch: object) -> None:
    if not isinstance(arch, int) or isinstance(arch, bool) or arch <= 0:
        raise ValueError(f"arch must be a positive int such as 90, got {arch!r}")


def _check_objdump() -> None:
    if shutil.which("objdump") is None:
        raise NativeToolchainError("objdump (GNU binutils) is needed for the asm: apt-get install binutils")


# ----------------------------------------------------------------------------------------------
# Driving the compiles: one TU per distinct module


def _compile_all(backend: str, modules: list[tuple[str, str]], arch: int | None, opt_level: int | None
                 ) -> list[NativeResult]:
    results: dict[tuple[str, str], NativeResult] = {}
    with process_state.call_dir() as call_dir:
        for name, text in modules:
            if (name, text) not in results:   # the same module twice: compiled once, answered twice
                results[(name, text)] = _compile_one(backend, name, text, call_dir, arch, opt_level)
    return [results[(name, text)] for name, text in modules]


def _compile_one(backend: str, name: str, text: str, call_dir: str, arch: int | None, opt_level: int | None
                 ) -> NativeResult:
    ok, diagnostic, artifacts = _native_compile(backend, text, call_dir, arch, opt_level)
    if ok:
        return kernel_result(backend, name, artifacts)
    return NativeResult(name, False, diagnostic or "compile failed without diagnostics")


# ----------------------------------------------------------------------------------------------
# One native compile (private Warp API, all here)


def _native_compile(backend: str, text: str, call_dir: str, arch: int | None, opt_level: int | None
                    ) -> tuple[bool, str, dict[str, str]]:
    """Compile one TU: (ok, normalized diagnostic, artifacts). Never raises for bad source."""
    codegen.warp()
    source = os.path.join(call_dir, PROGRAM[backend])
    with open(source, "w", encoding="utf-8") as f:
        f.write(text)
    output = os.path.join(call_dir, "module.ptx" if backend == "cuda" else "module.o")
    with contextlib.suppress(FileNotFoundError):
        os.remove(output)
    failure, log = _run_native(backend, source, output, call_dir, arch, opt_level)
    if failure and backend == "cuda":
        # NVRTC keeps its automatic-PCH directory for the whole process and fails when it has
        # vanished (a temp cleaner, or a caller removing the private dir): recreate it, retry.
        missing = re.search(r"invalid PCH directory: (\S+)", log)
        if missing:
            os.makedirs(missing.group(1), exist_ok=True)
            failure, log = _run_native(backend, source, output, call_dir, arch, opt_level)
    if failure:
        return False, normalize_error(log, call_dir, backend, failure, process_state.current_root()), {}
    if backend == "cuda":
        with open(output, "rb") as f:
            return True, "", {"ptx": f.read().decode("utf-8").rstrip("\0")}
    run = subprocess.run(["objdump", *OBJDUMP_ARGS, output], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise NativeToolchainError(f"objdump failed: {run.stderr.strip()[:500]}")
    return True, "", {"ir": log, "asm": run.stdout}


def _run_native(backend: str, source: str, output: str, call_dir: str, arch: int | None, opt_level: int | None
                ) -> tuple[str, str]:
    """Run Warp's compiler on ``source``: (failure message or "", everything written to fd 2)."""
    import warp._src.build as build

    failure = ""
    with process_state.LOCK, process_state.capture_fd2(call_dir) as captured:
        try:
            if backend == "cuda":
                # Private API: build_cuda -> wp_cuda_compile_program (NVRTC). The program name is
                # the basename of the path, always module.cu. Guarded by
                # tests/toolchain/test_native.py::test_ptx_has_forward_and_backward_entries_without_a_gpu.
                with process_state.tmpdir_for_nvrtc():
                    build.build_cuda(source, arch, output, pch_dir=None, config="release",
                                     optimization_level=CUDA_OPT_LEVEL if opt_level is None else opt_level,
                                     verify_fp=False, fast_math=False, fuse_fp=True, lineinfo=False)
            else:
                # Private API: build_cpu -> warp-clang wp_compile_cpp. Guarded by
                # tests/toolchain/test_native.py::test_cpu_ir_and_asm_are_captured_for_the_fixed_target.
                build.build_cpu(output, source, mode="release", verify_fp=False, fast_math=False, fuse_fp=True,
                                extra_flags=cpu_flags(),
                                optimization_level=CPU_OPT_LEVEL if opt_level is None else opt_level,
                                use_precompiled_headers=True, pch_dir=process_state.clang_pch_dir(),
                                block_dim=CPU_BLOCK_DIM)
        except Exception as e:   # Warp raises a bare Exception("... build failed with error code N")
            failure = str(e) or type(e).__name__
        finally:
            if backend == "cpu":
                process_state.keep_or_restore_pch(failed=bool(failure))
    return failure, captured["text"]
