"""Normalizations of native outputs, so a field depends on the kernel alone, never on the call.

Each renumbering goes by first appearance in the field, so nothing depends on the TU's content.

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

The cutting itself (which function of the output) is ``extract``'s; this module only rewrites.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

ERROR_LINES = 20
_PADDING = re.compile(r"^\t(?:(?:data16|cs|ds|rex\.\w+) )*(?:nop\w*|xchg\s+%ax,%ax|int3)\b.*$")
_PCH_RETRY = "Warp: Compilation with PCH failed, retrying without precompiled headers"


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


def normalize_asm(asm: str) -> str:
    lines = asm.rstrip("\n").split("\n")
    while lines and _PADDING.match(lines[-1]):
        lines.pop()
    return "\n".join(lines) + "\n"


def normalize_error(log: str, call_dir: str, backend: str, failure: str, private_root: str | None) -> str:
    """The diagnostic a failed compile wrote to fd 2, free of paths, pids and earlier calls.

    ``failure`` (Warp's exception text) stands in when the log holds nothing; ``private_root``
    is the process's private temp dir (spelled ``<tmp>``), None when there is none yet.
    """
    if _PCH_RETRY in log:
        log = log.split(_PCH_RETRY, 1)[1]
    log = log.replace(os.path.join(call_dir, ""), "")
    if private_root:
        log = log.replace(private_root, "<tmp>")
    kept = []
    for line in log.splitlines():
        if backend == "cuda" and ("precompiled header" in line or line.startswith("Remark: The warnings can be")):
            continue        # NVRTC's auto-PCH chatter: names the pid, depends on earlier calls
        kept.append(re.sub(r" \(/[^)]*\.cu:\d+\)$", "", line.rstrip()))
    kept = [line for line in kept if line.strip()] or [failure]
    return "\n".join(kept[:ERROR_LINES])
