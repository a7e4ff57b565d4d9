"""Checks that every catalog signature is accepted by Warp's CPU and CUDA codegen with its stated type.

Each signature becomes a probe kernel ``out[i] = fn(a0[i], ...)`` whose output array has the
stated return type; Warp's ``array_store`` rejects any other value type, so a successful codegen
proves both that the call resolves and that it returns exactly ``ret``. Probes are batched into
one in-memory module per catalog group to keep the test fast; a failing batch is re-run entry by
entry so the assertion names every offending signature.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import itertools
import linecache
import subprocess
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from warp_ir_pairs_generator.synth import catalog as cat
from warp_ir_pairs_generator.synth.catalog import SIGNATURES, Signature

# Honest count reached for warp-lang 1.19.0; lowering it should be a deliberate decision.
MIN_DISTINCT_FUNCTIONS = 165

_module_counter = itertools.count()

# Everything Warp raises when it rejects a kernel (its WarpCodegen*Error classes derive from these),
# plus AssertionError from our own emitted-symbol check.
_REJECTIONS = (RuntimeError, TypeError, ValueError, LookupError, AttributeError, NameError, AssertionError)


class _StringLoader(importlib.abc.InspectLoader):
    """Loads a module from an in-memory source string compiled under a pseudo filename."""

    def __init__(self, source: str, filename: str) -> None:
        self.source = source
        self.filename = filename

    def get_source(self, fullname: str) -> str:
        return self.source

    def get_code(self, fullname: str) -> types.CodeType:
        # The pseudo filename ties the code to the linecache entry that Warp reads the source from.
        return compile(self.source, self.filename, "exec")


@pytest.fixture(scope="module")
def wp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    """Initialised warp with quiet logging and a throwaway kernel cache."""
    warp = pytest.importorskip("warp")
    warp.config.log_level = warp.LOG_WARNING
    # Must be set before init; in-memory codegen writes nothing, but init may touch the cache dir.
    warp.config.kernel_cache_dir = str(tmp_path_factory.mktemp("warp_cache"))
    warp.init()
    yield warp


def _probe_source(entries: Sequence[tuple[int, Signature]]) -> str:
    """One probe kernel per signature; the output dtype is the claimed return type."""
    lines = ["import warp as wp", ""]
    for n, sig in entries:
        params = [f"a{j}: wp.array(dtype={t})" for j, t in enumerate(sig.args)]
        params.append(f"out: wp.array(dtype={sig.ret})")
        call_args = ", ".join(f"a{j}[i]" for j in range(len(sig.args)))
        lines += [
            "",
            "@wp.kernel",
            f"def probe_{n}({', '.join(params)}):",
            "    i = wp.tid()",
            f"    out[i] = {sig.fn}({call_args})",
            "",
        ]
    return "\n".join(lines)


def _codegen(wp: types.ModuleType, entries: Sequence[tuple[int, Signature]]) -> None:
    """Run in-memory CPU and CUDA codegen for a batch of probes; raises on the first rejection."""
    import warp._src.context as wpc  # private API: the only in-memory codegen path in Warp 1.19

    name = f"catalog_probe_{next(_module_counter)}"  # unique, or Warp appends to an old module
    filename = f"<{name}>"
    source = _probe_source(entries)
    # Warp reads kernel source through linecache; a "<...>" name is never re-validated on disk.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    loader = _StringLoader(source, filename)
    pymod = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader, origin=filename))
    pymod.__file__ = filename
    module = None
    try:
        loader.exec_module(pymod)  # not registered in sys.modules: nothing outlives the batch
        kernels = [getattr(pymod, f"probe_{n}") for n, _ in entries]
        module = kernels[0].module
        for target, extra in (("cpu", {"block_dim": 1}), ("cuda", {"output_arch": 90})):
            options = module.resolve_options(wp.config)
            options.update(extra)
            hasher = wpc.ModuleHasher(module._get_live_kernels(), options)
            text = wpc.ModuleBuilder(module, options, hasher, target=target).codegen(target)
            for kernel in kernels:  # every probe must actually have been emitted
                assert f"{kernel.get_mangled_name()}_{target}_kernel_forward(" in text
    finally:
        if module is not None:
            module.unload()
            wpc.user_modules.pop(module.name, None)
        linecache.cache.pop(filename, None)


def _describe(sig: Signature) -> str:
    return f"{sig.fn}({', '.join(sig.args)}) -> {sig.ret}"


def _groups() -> list[str]:
    return sorted({sig.group for sig in SIGNATURES})


@pytest.mark.parametrize("group", _groups())
def test_group_passes_cpu_and_cuda_codegen(wp: types.ModuleType, group: str) -> None:
    entries = [(n, sig) for n, sig in enumerate(SIGNATURES) if sig.group == group]
    try:
        _codegen(wp, entries)
        return
    except _REJECTIONS as exc:
        batch_error = exc
    # Re-run entry by entry so the failure names every rejected signature with Warp's reason.
    failures = []
    for entry in entries:
        try:
            _codegen(wp, [entry])
        except _REJECTIONS as exc:
            reason = (str(exc).strip().splitlines() or [""])[-1].lstrip(";")
            failures.append(f"{_describe(entry[1])}: {type(exc).__name__}: {reason}")
    assert not failures, f"{len(failures)} signature(s) rejected by Warp codegen:\n" + "\n".join(failures)
    pytest.fail(f"batch for group {group!r} failed ({batch_error!r}) but every entry passed alone")


def test_catalog_is_well_formed() -> None:
    allowed = set(cat.ALL_TYPES)
    keys = [(sig.fn, sig.args) for sig in SIGNATURES]
    assert len(keys) == len(set(keys)), "duplicate (fn, args) entries"
    for sig in SIGNATURES:
        assert isinstance(sig.args, tuple) and sig.fn and sig.group, sig
        assert set(sig.args) <= allowed and sig.ret in allowed, _describe(sig)
        assert sig.domain in cat.DOMAINS, _describe(sig)


def test_known_native_failures_are_excluded() -> None:
    # Codegen accepts these, but Warp 1.19's C++ and NVRTC builds reject them, so codegen alone
    # cannot catch them (the whole catalog was compiled natively once to find such cases).
    keys = {(sig.fn, sig.args) for sig in SIGNATURES}
    assert ("wp.bool", ("wp.float16",)) not in keys
    assert ("wp.float16", ("bool",)) not in keys


def test_by_return_type_partitions_catalog() -> None:
    groups = cat.by_return_type()
    assert groups is cat.by_return_type()  # cached
    assert sum(len(sigs) for sigs in groups.values()) == len(SIGNATURES)
    for ret, sigs in groups.items():
        assert all(sig.ret == ret for sig in sigs)


def test_distinct_function_count() -> None:
    assert len(cat.distinct_functions()) >= MIN_DISTINCT_FUNCTIONS


def test_catalog_does_not_import_warp() -> None:
    tree = ast.parse(Path(cat.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m == "warp" or m.startswith("warp.") for m in imported), imported
    # Also check at runtime, in a fresh interpreter (the catalog reads its type names from synth.types).
    code = (
        "import sys\n"
        "import warp_ir_pairs_generator.synth.catalog\n"
        "sys.exit('warp' in sys.modules)\n"
    )
    cmd = [sys.executable, "-c", code]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing the catalog loaded warp"
