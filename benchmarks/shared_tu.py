"""Shared translation units: several kernels in ONE NVRTC program / clang TU (benchmarks only, not exact).

The dataset compiles every module as its own translation unit (``toolchain.native``: exact, a
kernel's output never depends on what else is in the call). This module is the measured
alternative, kept for ``benchmarks/batch_compile.py``; it is built only on the toolchain's
public seams (``compile_text``, ``kernel_result``, ``module_header_end``).

``compile_shared(backend, modules, max_batch)`` puts up to ``max_batch`` kernels in ONE TU:
every module starts with the same header, which ends with ``warp._src.codegen.codegen_cast_macros``
(``toolchain.module_header_end()``), so a batch is that header once and then each module's body
in input order. Bodies in one TU may share no top-level name (Warp's helpers are ``static`` with
names like ``helper_0`` or ``norm_huber_0``; only kernel names carry a content hash; two
definitions of one name would fail to compile or, for overloads, could bind calls to the wrong
one): ``_plan`` puts such modules, modules with another header and bodies with their own
``#define`` into different TUs. A TU that fails to compile is split: the kernels its diagnostics
point at are compiled alone, the rest again together; if nothing can be blamed each kernel is
compiled alone. Only the bad kernel gets ``ok=False`` and its ``error`` always comes from
compiling its own module alone. With ``max_batch=1`` the results are the toolchain's own.

A shared TU is cheaper per kernel (``benchmarks/batch_compile.py`` on dataset kernels, 10 per
TU: 1.11x on CPU, 1.31x on CUDA; 1.4-1.7x on small kernels), but NOT exact: the optimizers work
on the whole TU, so a kernel's code can change with its batch-mates. Measured here: on CPU the
TU-wide ``static wp::shared_tile_storage`` (tile.h) is deleted by GlobalOpt only when no
function in the TU keeps it, so about a quarter to a third of the synthesized kernels gain a
load/restore of it next to a kernel that keeps it (15 of 16 differences in 60 kernels; the
batched IR of such a kernel looks like that of a kernel that keeps it alone, so the change
cannot be detected without compiling alone); on CUDA 0-2 of 60 synthesized kernels (with a
strided ``range(tid, n, step)`` loop) compiled to different control flow next to others.
Shared TUs stop getting cheaper past ~10 kernels. Use them only where output need not be a
function of the kernel alone. The label/metadata renumbering of ``toolchain.normalize`` goes
by first appearance in each field, so it makes the kernels that are not coupled equal to
their own compile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from warp_ir_pairs_generator import toolchain
from warp_ir_pairs_generator.toolchain.constants import PROGRAM


@dataclass
class _Unit:
    """One distinct (mangled_name, module_text) to compile, and the input positions it answers."""

    name: str
    text: str
    header: str | None      # None: not splittable, always compiled alone
    body: str
    names: frozenset[str]
    positions: list[int] = field(default_factory=list)


def compile_shared(backend: str, modules: list[tuple[str, str]], max_batch: int, arch: int | None = None
                   ) -> list[toolchain.NativeResult]:
    """Results of each ``(mangled_name, module_text)``, up to ``max_batch`` kernels per TU, in order."""
    if max_batch < 1:
        raise ValueError(f"max_batch must be >= 1, got {max_batch}")
    units: dict[tuple[str, str], _Unit] = {}
    for position, (name, text) in enumerate(modules):
        unit = units.get((name, text))
        if unit is None:
            unit = units[(name, text)] = _unit(name, text)
        unit.positions.append(position)
    out: list[toolchain.NativeResult | None] = [None] * len(modules)
    for members in _plan(list(units.values()), max_batch):
        for unit, result in zip(members, _compile_batch(backend, members, arch), strict=True):
            for position in unit.positions:
                out[position] = result
    return out  # type: ignore[return-value]


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
    marker = toolchain.module_header_end()
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


def _compile_batch(backend: str, members: list[_Unit], arch: int | None) -> list[toolchain.NativeResult]:
    """Results for ``members`` compiled as one TU; on failure, isolate the kernels that broke it."""
    text, spans = _join(members)
    ok, diagnostic, artifacts = toolchain.compile_text(backend, text, arch)
    if ok:
        return [toolchain.kernel_result(backend, unit.name, artifacts) for unit in members]
    if len(members) == 1:
        return [toolchain.NativeResult(members[0].name, False, diagnostic or "compile failed without diagnostics")]
    lines = _error_lines(backend, diagnostic)
    blamed = {i for i, (first, last) in enumerate(spans) if any(first <= n <= last for n in lines)}
    if not blamed or len(blamed) == len(members):
        return [r for unit in members for r in _compile_batch(backend, [unit], arch)]
    rest = [unit for i, unit in enumerate(members) if i not in blamed]
    results = dict(zip((id(u) for u in rest), _compile_batch(backend, rest, arch), strict=True))
    for i in sorted(blamed):
        results[id(members[i])] = _compile_batch(backend, [members[i]], arch)[0]
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
