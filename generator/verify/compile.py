"""The ``compile`` level: Warp's bundled NVRTC and clang compile each kernel's module (no GPU).

CUDA modules become ``ptx`` (for ``options.ptx_arch``); CPU modules become ``ir_llvm`` and
``asm`` for the fixed ``cpu_target``. With ``opt_variants`` the same is also compiled at
``VARIANT_OPT_LEVEL`` into the ``_o1`` fields. A kernel that fails to compile on any target is
rejected with the compiler's first diagnostic line.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..toolchain.constants import CPU_TARGET, VARIANT_OPT_LEVEL
from .level import NATIVE_BATCH, Draft, Level, VerifyOptions

_VARIANT = f"_o{VARIANT_OPT_LEVEL}"


def _check(options: VerifyOptions, drafts: Sequence[Draft]) -> list[str]:
    from ..toolchain import native  # the native toolchains are only loaded when asked for

    reasons = [""] * len(drafts)
    levels: list[tuple[int | None, str]] = [(None, "")]
    if options.opt_variants:
        levels.append((VARIANT_OPT_LEVEL, _VARIANT))
    for level, suffix in levels:
        if "cuda" in options.targets:
            modules = [(d.irs["cuda"].mangled_name, d.irs["cuda"].module_text) for d in drafts]
            results = native.compile_cuda(modules, arch=options.ptx_arch, opt_level=level)
            for i, (d, r) in enumerate(zip(drafts, results, strict=True)):
                if not r.ok:
                    reasons[i] = reasons[i] or "NVRTC: " + first_error_line(r.error)
                d.native.update({"ptx" + suffix: r.ptx, "ptx_arch": options.ptx_arch})
        if "cpu" in options.targets:
            modules = [(d.irs["cpu"].mangled_name, d.irs["cpu"].module_text) for d in drafts]
            results = native.compile_cpu(modules, opt_level=level)
            for i, (d, r) in enumerate(zip(drafts, results, strict=True)):
                if not r.ok:
                    reasons[i] = reasons[i] or "clang: " + first_error_line(r.error)
                d.native.update({"ir_llvm" + suffix: r.ir_llvm, "asm" + suffix: r.asm,
                                 "cpu_target": CPU_TARGET})
    return reasons


def first_error_line(error: str) -> str:
    """The compiler's first diagnostic (``module.cu(710): error: ...``), not Warp's summary line."""
    lines = [ln.strip() for ln in error.splitlines()]
    for pick in (lambda ln: "error:" in ln, lambda ln: "error" in ln.lower(), bool):
        found = [ln for ln in lines if pick(ln)]
        if found:
            return found[0][:200]
    return "?"


LEVEL = Level(
    name="compile",
    fields={"ptx": "", "ptx_arch": 0, "ir_llvm": "", "asm": "", "cpu_target": "",
            "ptx" + _VARIANT: "", "ir_llvm" + _VARIANT: "", "asm" + _VARIANT: ""},
    sentence="`compile`: the generated code was also compiled by the toolchains bundled with Warp (NVRTC for "
             "CUDA into `ptx`, clang/LLVM for the CPU into `ir_llvm` and `asm`), with no GPU and no system "
             "compiler; a kernel that failed to compile was replaced.",
    batch=NATIVE_BATCH,
    check=_check,
)
