"""Native compiles of generated Warp modules: PTX (CUDA), optimized LLVM IR and x86-64 asm (CPU).

Input is the complete text of ONE-kernel modules exactly as ``ModuleBuilder(...).codegen()``
returns it (``module_text`` below makes one; CPU text is generated with ``block_dim=1``, CUDA
text with ``block_dim=256`` and ``output_arch=90``, as in ``toolchain.codegen``). Output is one
``NativeResult`` per input, in input order; a kernel that does not compile is a result with
``ok=False``, never an exception. Only Warp's bundled toolchains run: NVRTC 13.4 inside
``warp.so`` and the LLVM 22 clang inside ``warp-clang.so`` (never a system nvcc/ptxas/clang);
GNU ``objdump`` only disassembles. No GPU is needed.

Targets
-------
* CUDA: PTX for ``sm_{arch}``, ``PTX_ARCH_DEFAULT = 90`` (record the arch you pass).
  Warp's release defaults: ``-O3``, ``fuse_fp``, no fast-math, no lineinfo.
* CPU: ``CPU_TARGET = "x86-64-v3"`` (AVX2, FMA, BMI1/2, F16C, MOVBE: Haswell 2013+ / Zen 1+),
  handed to Warp's cc1-style flags as ``-target-cpu x86-64-v3``. Warp's default
  ``-march=native`` would make asm and IR depend on the machine that generates them; the
  generic ``x86-64`` baseline (SSE2 only) would record code no current machine runs.
  x86-64-v3 is the baseline current distributions and CI machines build for.
  ``-march=x86-64-v3`` is rejected (Warp passes flags to cc1 and expands only
  ``-march=native``). Warp's backend TargetMachine stays "generic" unless ``-march=native``;
  the per-function ``target-cpu`` attribute is what selects AVX2 code. The rest of
  ``CPU_FLAGS`` is Warp 1.19's default ``cpu_compiler_flags`` (its ``-mllvm`` inlining and SLP
  thresholds); ``-O2`` (Warp's CPU default), ``fuse_fp``, ``block_dim=1`` (what a CPU launch
  compiles with).

Batching
--------
By default (``max_batch=1``) every module is compiled as its own translation unit (TU), byte
for byte the text Warp itself would compile: a kernel's output never depends on what else is in
the call. One call still compiles any number of kernels, with the setup (temp dir, warm
precompiled headers) shared.

``max_batch > 1`` puts up to that many kernels in ONE TU (one NVRTC program, one clang
invocation): every module starts with the same header, which ends with
``warp._src.codegen.codegen_cast_macros``, so a batch is that header once and then each
module's body in input order. Bodies in one TU may share no top-level name (Warp's helpers are
``static`` with names like ``helper_0`` or ``norm_huber_0``; only kernel names carry a content
hash; two definitions of one name would fail to compile or, for overloads, could bind calls to
the wrong one): ``_plan`` puts such modules, modules with another header and bodies with their
own ``#define`` into different TUs. A TU that fails to compile is split: the kernels its
diagnostics point at are compiled alone, the rest again together; if nothing can be blamed each
kernel is compiled alone. Only the bad kernel gets ``ok=False`` and its ``error`` always comes
from compiling its own module alone.

A shared TU is cheaper per kernel (``benchmarks/batch_compile.py`` on dataset kernels, 10 per
TU: 1.11x on CPU, 1.31x on CUDA; 1.4-1.7x on small kernels), but NOT exact: the optimizers work
on the whole TU, so a kernel's code can change with its batch-mates. Measured here: on CPU the
TU-wide ``static wp::shared_tile_storage`` (tile.h) is deleted by GlobalOpt only when no
function in the TU keeps it, so about a quarter to a third of the synthesized kernels gain a
load/restore of it next to a kernel that keeps it (15 of 16 differences in 60 kernels; the
batched IR of such a kernel looks like that of a kernel that keeps it alone, so the change
cannot be detected without compiling alone); on CUDA 0-2 of 60 synthesized kernels (with a
strided ``range(tid, n, step)`` loop) compiled to different control flow next to others.
Use ``max_batch > 1`` only where output need not be a function of the kernel alone.

Normalizations (each by first appearance in the field, so nothing depends on the TU's content)
------------------------------------------------------------------------------------------------
* PTX: the ``.visible .entry {mangled}_cuda_kernel_forward(`` function, then a newline, then
  ``_backward(`` (when the module has a backward), each from its ``.entry`` line to its closing
  brace. NVRTC's program name is always ``module.cu``: it is hashed into internal symbols such as
  ``_ZN39_INTERNAL_..._9_module_cu_...``. Renumbered: ``__local_depotN``, the function index N in
  ``$L__BBN_M`` (the block number M is function-local and kept), ``$str``/``$str$N`` string
  constants, the ``// callseq N`` call-site comments, and ``$L__tmpN``, ``$L__func_beginN``,
  ``$L__func_endN`` when present. NUL padding
  at the end of NVRTC's output is dropped.
* LLVM IR: the ``define`` of ``{mangled}_cpu_forward`` (with its ``; Function Attrs`` comment)
  as printed by ``-mllvm=-print-before=codegenprepare``: the final optimized IR, just before
  instruction selection, captured from fd 2. Renumbered: metadata ``!N`` and attribute groups
  ``#N``; numbered globals ``@N``; string literals ``@.str``/``@.str.N``.
  ``; ModuleID`` and ``source_filename`` lines (printed only with module scope) are fixed to
  ``module.cpp``; the TU is always compiled as ``module.cpp``.
* asm: ``objdump -d --no-show-raw-insn --no-addresses`` (AT&T syntax) of the object, the
  ``<{mangled}_cpu_forward>:`` block. Addresses are not printed, jump targets read
  ``<symbol+offset>`` relative to the function and relocations are not applied (``movabs
  $0x0``), so nothing depends on where the function sits in the object. Trailing alignment
  padding (``nop`` variants, ``int3``) is dropped: its length depends on what follows.
* error: the per-call temp dir is removed from paths (leaving ``module.cpp:L:C`` /
  ``module.cu(L)``), the private temp dir reads ``<tmp>``, NVRTC's automatic-PCH notices and
  warnings (they name the pid and depend on earlier compiles, e.g. of another arch) and Warp's
  build-path suffixes are dropped; when Warp retries a failed CPU compile
  without its precompiled header only the retry's diagnostics are kept; first ``ERROR_LINES``.

Temporary files and process state
---------------------------------
Each call works in its own directory, removed when the call returns. Precompiled headers live
for the process in one private directory under the system temp dir, removed at exit: the clang
PCH (1.3 s to build; Warp keys it on block_dim, opt level and flags) and NVRTC's automatic PCH
(NVRTC creates it under ``$TMPDIR`` on first use and keeps that path for the process, failing
if it disappears, so ``TMPDIR`` points into the private directory during NVRTC calls, and a
vanished directory is recreated). A failed clang compile makes Warp delete its PCH; a hard
link kept beside it restores the file instead of paying a rebuild. Native compiles hold one
process-wide lock: fd 2, ``TMPDIR`` and Warp's ``-mllvm`` options are process-global. Forked
workers share the parent's directory (call ``warm_up()`` before forking so they share its
PCHs too); only the creating process removes it.

Every use of Warp's private API is in this module, each marked with the test that guards it.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import codegen

CPU_TARGET = "x86-64-v3"
# Warp 1.19's default cpu_compiler_flags with "-march=native" replaced by the fixed target.
CPU_FLAGS = (f"-target-cpu {CPU_TARGET} -mllvm=-inline-threshold=9000 "
             "-mllvm=-inline-cold-callsite-threshold=3000 -mllvm=-slp-recursion-max-depth=4")
# Prints each function's IR before CodeGenPrepare, i.e. after the whole optimization pipeline.
IR_CAPTURE_FLAG = "-mllvm=-print-before=codegenprepare"
CPU_OPT_LEVEL = 2        # Warp's CPU default
CUDA_OPT_LEVEL = 3       # Warp's CUDA default
CPU_BLOCK_DIM = 1        # what a CPU launch compiles with (codegen.BLOCK_DIM["cpu"])
PTX_ARCH_DEFAULT = 90
# One kernel per TU: exact (see "Batching"). Shared TUs stop getting cheaper past ~10 kernels.
MAX_BATCH = 1
ERROR_LINES = 20
PROGRAM = {"cuda": "module.cu", "cpu": "module.cpp"}
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


def compile_cuda(modules: list[tuple[str, str]], arch: int = PTX_ARCH_DEFAULT,
                 max_batch: int = MAX_BATCH, opt_level: int | None = None) -> list[NativeResult]:
    """PTX for ``sm_{arch}`` of each ``(mangled_name, module_text)``; one result per item, in order.

    ``max_batch > 1`` shares translation units between kernels: cheaper, not exact (module doc).
    ``opt_level`` replaces Warp's default (``CUDA_OPT_LEVEL``) for this call.
    """
    if not isinstance(arch, int) or isinstance(arch, bool) or arch <= 0:
        raise ValueError(f"arch must be a positive int such as 90, got {arch!r}")
    token = _OPT_LEVEL.set(opt_level)
    try:
        return _compile_all("cuda", modules, max_batch, arch=arch)
    finally:
        _OPT_LEVEL.reset(token)


def compile_cpu(modules: list[tuple[str, str]], max_batch: int = MAX_BATCH,
                opt_level: int | None = None) -> list[NativeResult]:
    """Optimized LLVM IR and x86-64 asm (``CPU_TARGET``) of each ``(mangled_name, module_text)``.

    One result per item, in order. ``max_batch > 1`` shares translation units: not exact.
    ``opt_level`` replaces Warp's default (``CPU_OPT_LEVEL``) for this call.
    """
    if shutil.which("objdump") is None:
        raise NativeToolchainError("objdump (GNU binutils) is needed for the asm: apt-get install binutils")
    token = _OPT_LEVEL.set(opt_level)
    try:
        return _compile_all("cpu", modules, max_batch, arch=None)
    finally:
        _OPT_LEVEL.reset(token)


def compile_cpu_object(mangled_name: str, module_text: str, object_path: str) -> NativeResult:
    """``compile_cpu`` for one module that also keeps the object file, copied to ``object_path``.

    The object is what a CPU launch links; callers load it with ``toolchain.load_cpu_object``.
    The result is the same as ``compile_cpu([(mangled_name, module_text)])[0]``.
    """
    if shutil.which("objdump") is None:
        raise NativeToolchainError("objdump (GNU binutils) is needed for the asm: apt-get install binutils")
    with _session() as call_dir:
        ok, error, artifacts = _native_compile("cpu", module_text, call_dir, None)
        if not ok:
            return NativeResult(mangled_name, False, error)
        result = _extract("cpu", mangled_name, artifacts)
        if result.ok:
            shutil.copyfile(os.path.join(call_dir, "module.o"), object_path)
        return result


def clang_pch_dir() -> str:
    """This process's clang precompiled-header directory (PCHs may be shared by hard links)."""
    return _clang_pch_dir()


# The optimization level of the current compile_* call (None: Warp's default for the backend);
# a context variable rather than a parameter threaded through every internal helper.
_OPT_LEVEL: contextvars.ContextVar[int | None] = contextvars.ContextVar("opt_level", default=None)


def _opt_level(backend: str) -> int:
    level = _OPT_LEVEL.get()
    return level if level is not None else (CUDA_OPT_LEVEL if backend == "cuda" else CPU_OPT_LEVEL)


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


# ----------------------------------------------------------------------------------------------
# Splitting module text and planning batches


@dataclass
class _Unit:
    """One distinct (mangled_name, module_text) to compile, and the input positions it answers."""

    name: str
    text: str
    header: str | None      # None: not splittable, always compiled alone
    body: str
    names: frozenset[str]
    positions: list[int] = field(default_factory=list)


def _cast_macros() -> str:
    # Private API: the constant text that ends Warp's module header. Guarded by
    # tests/test_native.py::test_shared_tu_labels_and_metadata_are_renumbered_per_kernel.
    import warp._src.codegen as cg

    return cg.codegen_cast_macros


_DECL_FUNC = re.compile(r"\b(\w+)\s*\($")
_DECL_TYPE = re.compile(r"^(?:struct|class|union|enum(?:\s+class)?)\s+(\w+)")
_DECL_OTHER = re.compile(r"^(?:using\s+(\w+)\s*=|typedef\b.*?\b(\w+)\s*;|.*?\b(\w+)\s*(?:\[[^\]]*\])?\s*=[^=])")


def _top_level_names(body: str) -> frozenset[str] | None:
    """Names a body declares at file scope (Warp writes those at column 0); None: must be alone."""
    names = set()
    for line in body.splitlines():
        if not line or line[0].isspace() or line.startswith(("//", "{", "}", "template", 'extern "C"')):
            continue
        if line.startswith("#"):
            if re.match(r"#\s*(define|undef|pragma|include)\b", line):
                return None         # leaks into the bodies after it
            continue
        m = _DECL_FUNC.search(line) or _DECL_TYPE.match(line) or _DECL_OTHER.match(line)
        if m:
            names.add(next(g for g in m.groups() if g))
        else:
            names.add(line.strip())  # unknown construct: only identical lines conflict
    return frozenset(names)


def _unit(name: str, text: str) -> _Unit:
    marker = _cast_macros()
    at = text.find(marker)
    names = _top_level_names(text[at + len(marker):]) if at >= 0 else None
    if names is None:
        return _Unit(name, text, None, "", frozenset())
    cut = at + len(marker)
    return _Unit(name, text, text[:cut], text[cut:], names)


def _plan(units: list[_Unit], max_batch: int) -> list[list[_Unit]]:
    """First-fit batches: same header, no shared top-level name, at most ``max_batch`` units."""
    batches: list[tuple[list[_Unit], set[str]]] = []
    for unit in units:
        if unit.header is not None:
            for members, used in batches:
                if (len(members) < max_batch and members[0].header == unit.header
                        and used.isdisjoint(unit.names)):
                    members.append(unit)
                    used.update(unit.names)
                    break
            else:
                batches.append(([unit], set(unit.names)))
        else:
            batches.append(([unit], set()))
    return [members for members, _ in batches]


def _join(members: list[_Unit]) -> tuple[str, list[tuple[int, int]]]:
    """The batch's translation unit, and each member's 1-based line range in it."""
    if len(members) == 1:
        return members[0].text, [(1, members[0].text.count("\n") + 1)]
    text = members[0].header
    spans = []
    for unit in members:
        first = text.count("\n") + 1
        text += unit.body
        spans.append((first, text.count("\n") + 1))
    return text, spans


# ----------------------------------------------------------------------------------------------
# Driving the compiles


def _compile_all(backend: str, modules: list[tuple[str, str]], max_batch: int, arch: int | None
                 ) -> list[NativeResult]:
    if max_batch < 1:
        raise ValueError(f"max_batch must be >= 1, got {max_batch}")
    units: dict[tuple[str, str], _Unit] = {}
    for position, (name, text) in enumerate(modules):
        unit = units.get((name, text))
        if unit is None:
            unit = units[(name, text)] = _unit(name, text)
        unit.positions.append(position)
    out: list[NativeResult | None] = [None] * len(modules)
    with _session() as call_dir:
        for members in _plan(list(units.values()), max_batch):
            for unit, result in zip(members, _compile_batch(backend, members, call_dir, arch), strict=True):
                for position in unit.positions:
                    out[position] = result
    return out  # type: ignore[return-value]


def _compile_batch(backend: str, members: list[_Unit], call_dir: str, arch: int | None
                   ) -> list[NativeResult]:
    """Results for ``members`` compiled as one TU; on failure, isolate the kernels that broke it."""
    text, spans = _join(members)
    ok, diagnostic, artifacts = _native_compile(backend, text, call_dir, arch)
    if ok:
        return [_extract(backend, unit.name, artifacts) for unit in members]
    if len(members) == 1:
        return [NativeResult(members[0].name, False, diagnostic or "compile failed without diagnostics")]
    lines = _error_lines(backend, diagnostic)
    blamed = {i for i, (first, last) in enumerate(spans) if any(first <= n <= last for n in lines)}
    if not blamed or len(blamed) == len(members):
        return [r for unit in members for r in _compile_batch(backend, [unit], call_dir, arch)]
    rest = [unit for i, unit in enumerate(members) if i not in blamed]
    results = dict(zip((id(u) for u in rest), _compile_batch(backend, rest, call_dir, arch), strict=True))
    for i in sorted(blamed):
        results[id(members[i])] = _compile_batch(backend, [members[i]], call_dir, arch)[0]
    return [results[id(unit)] for unit in members]


def _error_lines(backend: str, diagnostic: str) -> set[int]:
    """Lines of the batch TU that the diagnostics name (errors first, else any mention)."""
    program = re.escape(PROGRAM[backend])
    if backend == "cpu":
        errors = re.findall(rf"\b{program}:(\d+):\d+: (?:fatal )?error", diagnostic)
        mentions = re.findall(rf"\b{program}:(\d+):\d+:", diagnostic)
    else:
        errors = re.findall(rf"\b{program}\((\d+)\): (?:catastrophic )?error", diagnostic)
        mentions = re.findall(rf"\b{program}\((\d+)\)", diagnostic)
    return {int(n) for n in (errors or mentions)}


# ----------------------------------------------------------------------------------------------
# One native compile (private Warp API, all here)


def _native_compile(backend: str, text: str, call_dir: str, arch: int | None
                    ) -> tuple[bool, str, dict[str, str]]:
    """Compile one TU: (ok, normalized diagnostic, artifacts). Never raises for bad source."""
    codegen.warp()
    source = os.path.join(call_dir, PROGRAM[backend])
    with open(source, "w", encoding="utf-8") as f:
        f.write(text)
    output = os.path.join(call_dir, "module.ptx" if backend == "cuda" else "module.o")
    with contextlib.suppress(FileNotFoundError):
        os.remove(output)
    failure, log = _run_native(backend, source, output, call_dir, arch)
    if failure and backend == "cuda":
        # NVRTC keeps its automatic-PCH directory for the whole process and fails when it has
        # vanished (a temp cleaner, or a caller removing the private dir): recreate it, retry.
        missing = re.search(r"invalid PCH directory: (\S+)", log)
        if missing:
            os.makedirs(missing.group(1), exist_ok=True)
            failure, log = _run_native(backend, source, output, call_dir, arch)
    if failure:
        return False, _normalize_error(log, call_dir, backend, failure), {}
    if backend == "cuda":
        with open(output, "rb") as f:
            return True, "", {"ptx": f.read().decode("utf-8").rstrip("\0")}
    run = subprocess.run(["objdump", *OBJDUMP_ARGS, output], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise NativeToolchainError(f"objdump failed: {run.stderr.strip()[:500]}")
    return True, "", {"ir": log, "asm": run.stdout}


def _run_native(backend: str, source: str, output: str, call_dir: str, arch: int | None) -> tuple[str, str]:
    """Run Warp's compiler on ``source``: (failure message or "", everything written to fd 2)."""
    import warp._src.build as build

    failure = ""
    with _LOCK, _capture_fd2(call_dir) as captured:
        try:
            if backend == "cuda":
                # Private API: build_cuda -> wp_cuda_compile_program (NVRTC). The program name is
                # the basename of the path, always module.cu. Guarded by
                # tests/test_native.py::test_ptx_has_forward_and_backward_entries_without_a_gpu.
                with _tmpdir_for_nvrtc():
                    build.build_cuda(source, arch, output, pch_dir=None, config="release",
                                     optimization_level=_opt_level("cuda"), verify_fp=False, fast_math=False,
                                     fuse_fp=True, lineinfo=False)
            else:
                # Private API: build_cpu -> warp-clang wp_compile_cpp. Guarded by
                # tests/test_native.py::test_cpu_ir_and_asm_are_captured_for_the_fixed_target.
                build.build_cpu(output, source, mode="release", verify_fp=False, fast_math=False, fuse_fp=True,
                                extra_flags=cpu_flags(), optimization_level=_opt_level("cpu"),
                                use_precompiled_headers=True, pch_dir=_clang_pch_dir(), block_dim=CPU_BLOCK_DIM)
        except Exception as e:   # Warp raises a bare Exception("... build failed with error code N")
            failure = str(e) or type(e).__name__
        finally:
            if backend == "cpu":
                _keep_or_restore_pch(failed=bool(failure))
    return failure, captured["text"]


def _extract(backend: str, name: str, artifacts: dict[str, str]) -> NativeResult:
    try:
        if backend == "cuda":
            forward = _ptx_entry(artifacts["ptx"], f"{name}_cuda_kernel_forward")
            backward = _ptx_entry(artifacts["ptx"], f"{name}_cuda_kernel_backward", required=False)
            return NativeResult(name, True, "", ptx=normalize_ptx("\n".join(p for p in (forward, backward) if p)))
        symbol = f"{name}_cpu_forward"
        return NativeResult(name, True, "", ir_llvm=normalize_llvm_ir(_ir_function(artifacts["ir"], symbol)),
                            asm=normalize_asm(_asm_function(artifacts["asm"], symbol)))
    except KeyError as e:
        return NativeResult(name, False, f"compiled, but {e.args[0]}")


def _ptx_entry(ptx: str, symbol: str, required: bool = True) -> str:
    m = re.search(rf"^\.visible \.entry {re.escape(symbol)}\(", ptx, re.MULTILINE)
    if m is None:
        if required:
            raise KeyError(f"no .entry {symbol} in the PTX")
        return ""
    end = ptx.find("\n}\n", m.start())
    return ptx[m.start(): end + 3]


_IR_DUMP_HEADER = "*** IR Dump Before CodeGen Prepare (codegenprepare) ***\n"


def _ir_function(dump: str, symbol: str) -> str:
    for chunk in dump.split(_IR_DUMP_HEADER):
        if re.search(rf"^define [^\n]*@{re.escape(symbol)}\(", chunk, re.MULTILINE):
            return chunk[: chunk.index("\n}\n") + 3]
    raise KeyError(f"no IR dump of @{symbol}")


def _asm_function(disassembly: str, symbol: str) -> str:
    m = re.search(rf"^<{re.escape(symbol)}>:\n", disassembly, re.MULTILINE)
    if m is None:
        raise KeyError(f"no <{symbol}> in the disassembly")
    end = disassembly.find("\n\n", m.end())
    return disassembly[m.start(): end + 1 if end >= 0 else len(disassembly)]


# ----------------------------------------------------------------------------------------------
# Normalizations


def _renumber(text: str, pattern: str, template: str | Callable[[int], str]) -> str:
    """Replace each match of ``pattern`` by ``template`` of the index of its group 1's first appearance."""
    seen: dict[str | None, int] = {}
    spell = template.format if isinstance(template, str) else template

    def sub(m: re.Match) -> str:
        return spell(seen.setdefault(m.group(1), len(seen)))

    return re.sub(pattern, sub, text)


def normalize_ptx(ptx: str) -> str:
    ptx = _renumber(ptx, r"__local_depot(\d+)", "__local_depot{}")
    ptx = _renumber(ptx, r"\$L__BB(\d+)_", "$L__BB{}_")
    ptx = _renumber(ptx, r"\$str(\$\d+)?(?![\w$])", lambda i: f"$str${i}" if i else "$str")
    ptx = _renumber(ptx, r"// callseq (\d+)\b", "// callseq {}")   # call-site counter (vprintf)
    for label in ("L__tmp", "L__func_begin", "L__func_end"):
        ptx = _renumber(ptx, rf"\${label}(\d+)", f"${label}{{}}")
    return ptx


def normalize_llvm_ir(ir: str) -> str:
    ir = re.sub(r"^; ModuleID = .*$", "; ModuleID = 'module.cpp'", ir, flags=re.MULTILINE)
    ir = re.sub(r'^source_filename = .*$', 'source_filename = "module.cpp"', ir, flags=re.MULTILINE)
    ir = _renumber(ir, r"(?<![\w.\"])!(\d+)\b", "!{}")
    ir = _renumber(ir, r"(?<![\w.\"])#(\d+)\b", "#{}")
    ir = _renumber(ir, r"@(\d+)\b", "@{}")
    ir = _renumber(ir, r"@\.str(\.\d+)?(?![\w.])", lambda i: f"@.str.{i}" if i else "@.str")
    return ir


_PADDING = re.compile(r"^\t(?:(?:data16|cs|ds|rex\.\w+) )*(?:nop\w*|xchg\s+%ax,%ax|int3)\b.*$")


def normalize_asm(asm: str) -> str:
    lines = asm.rstrip("\n").split("\n")
    while lines and _PADDING.match(lines[-1]):
        lines.pop()
    return "\n".join(lines) + "\n"


def _normalize_error(log: str, call_dir: str, backend: str, failure: str) -> str:
    retry = "Warp: Compilation with PCH failed, retrying without precompiled headers"
    if retry in log:
        log = log.split(retry, 1)[1]
    log = log.replace(os.path.join(call_dir, ""), "")
    if _STATE.root:
        log = log.replace(_STATE.root, "<tmp>")
    kept = []
    for line in log.splitlines():
        if backend == "cuda" and ("precompiled header" in line or line.startswith("Remark: The warnings can be")):
            continue        # NVRTC's auto-PCH chatter: names the pid, depends on earlier calls
        kept.append(re.sub(r" \(/[^)]*\.cu:\d+\)$", "", line.rstrip()))
    kept = [line for line in kept if line.strip()] or [failure]
    return "\n".join(kept[:ERROR_LINES])


# ----------------------------------------------------------------------------------------------
# Process state: lock, private temp dir, PCHs, fd-2 capture


class _State:
    root: str | None = None
    owner: int | None = None


_STATE = _State()
_LOCK = threading.RLock()


def _root() -> str:
    """The process's private directory under the system temp dir (created on first use)."""
    with _LOCK:
        if _STATE.root is None:
            _STATE.root = tempfile.mkdtemp(prefix="warp_ir_pairs_native_")
            _STATE.owner = os.getpid()
        elif not os.path.isdir(_STATE.root):
            # Removed under us (a temp cleaner): recreate the same path, which NVRTC keeps using.
            os.makedirs(_STATE.root, exist_ok=True)
        return _STATE.root


@atexit.register
def _remove_root() -> None:
    # Forked children inherit _STATE; only the creating process removes the shared directory.
    if _STATE.root is not None and _STATE.owner == os.getpid():
        shutil.rmtree(_STATE.root, ignore_errors=True)
        _STATE.root = None


@contextlib.contextmanager
def _session() -> Iterator[str]:
    """A per-call working directory, removed afterwards whatever happens."""
    call_dir = tempfile.mkdtemp(prefix="call_", dir=_root())
    try:
        yield call_dir
    finally:
        shutil.rmtree(call_dir, ignore_errors=True)


def _clang_pch_dir() -> str:
    path = os.path.join(_root(), "clang_pch")
    os.makedirs(path, exist_ok=True)
    return path


def _keep_or_restore_pch(failed: bool) -> None:
    """Keep a hard link to each clang PCH; after a source error, put back the PCH Warp deleted.

    Warp deletes its PCH whenever a compile fails (the PCH might be stale), so the next
    compile pays ~1.6 s to rebuild it. After a genuine source error the PCH was fine. When a
    compile succeeds only without the PCH (Warp's retry) it really was stale: drop the link.
    Relies on Warp's PCH file naming (``*.pch`` in the pch_dir we pass); guarded by
    tests/test_native.py::test_a_broken_kernel_fails_alone_and_its_batch_mates_succeed.
    """
    pch_dir = _clang_pch_dir()
    for entry in os.listdir(pch_dir):
        path = os.path.join(pch_dir, entry)
        if entry.endswith(".pch"):
            with contextlib.suppress(FileExistsError):
                os.link(path, path + ".keep")
        elif entry.endswith(".pch.keep"):
            pch = path[: -len(".keep")]
            if not os.path.exists(pch):
                if failed:
                    with contextlib.suppress(FileExistsError):
                        os.link(path, pch)
                else:
                    os.remove(path)


@contextlib.contextmanager
def _tmpdir_for_nvrtc() -> Iterator[None]:
    """Point TMPDIR into the private dir: NVRTC's automatic PCH directory goes there.

    NVRTC fixes that directory on first use for the whole process (and fails later if it is
    deleted), so it must outlive the call: the private dir is removed at exit. Guarded by
    tests/test_native.py::test_a_fresh_process_gives_the_same_bytes_and_leaves_no_temp_files.
    """
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = _root()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


@contextlib.contextmanager
def _capture_fd2(call_dir: str) -> Iterator[dict[str, str]]:
    """Everything written to file descriptor 2 (clang, LLVM and NVRTC write there directly)."""
    captured: dict[str, str] = {"text": ""}
    sys.stderr.flush()
    with tempfile.TemporaryFile(dir=call_dir) as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured["text"] = sink.read().decode("utf-8", "replace")
