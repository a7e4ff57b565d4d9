"""Native outputs: PTX from NVRTC and optimized LLVM IR + x86-64 asm from Warp's clang, no GPU needed."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest
from sample_kernels import (  # tests/sample_kernels.py
    BACKENDS,
    SOURCES,
    broken,
    check_broken_result,
    compile_alone,
    each_alone,
    module_texts,
)
from warp_ir_pairs_generator.toolchain import codegen, constants, native, process_state


@pytest.fixture(scope="module")
def modules() -> dict[str, list[tuple[str, str]]]:
    return module_texts()


@pytest.fixture(scope="module")
def alone(modules) -> dict[str, list[native.NativeResult]]:
    return each_alone(modules)


def test_module_text_matches_warp_ir_emit(modules):
    """Guards module_text's private codegen path: codegen.emit cuts its records from the same text."""
    for backend in BACKENDS:
        for (name, text), (kernel, source) in zip(modules[backend], SOURCES.items(), strict=True):
            ir = codegen.emit(source, kernel, backend)
            assert ir.mangled_name == name
            assert ir.forward in text and ir.backward in text


def test_ptx_has_forward_and_backward_entries_without_a_gpu(modules, alone):
    for (name, _), result in zip(modules["cuda"], alone["cuda"], strict=True):
        assert result.ok, result.error
        assert result.ptx.startswith(f".visible .entry {name}_cuda_kernel_forward(")
        assert f"\n.visible .entry {name}_cuda_kernel_backward(" in result.ptx
        assert result.ir_llvm == result.asm == result.error == ""
        # renumbered per field: the forward's depot/labels are 0, the backward's 1
        assert "__local_depot0" in result.ptx and not re.search(r"__local_depot[2-9]|\$L__BB[2-9]", result.ptx)
    # arch is a parameter: another arch compiles too (its PTX is recorded with its arch)
    name, text = modules["cuda"][0]
    sm75 = native.compile_cuda([(name, text)], arch=75)[0]
    assert sm75.ok and sm75.ptx.startswith(f".visible .entry {name}_cuda_kernel_forward(")
    with pytest.raises(ValueError):
        native.compile_cuda([(name, text)], arch="sm_90")


def test_cpu_ir_and_asm_are_captured_for_the_fixed_target(modules, alone):
    for (name, _), result in zip(modules["cpu"], alone["cpu"], strict=True):
        assert result.ok, result.error
        assert re.search(rf"^define [^\n]*@{name}_cpu_forward\(", result.ir_llvm, re.MULTILINE)
        assert f"@{name}_cpu_backward(" not in result.ir_llvm
        assert result.ir_llvm.rstrip().endswith("}")
        # metadata and attribute groups are numbered 0, 1, 2... in order of first appearance
        for sigil in "!#":
            numbers = list(dict.fromkeys(re.findall(rf"(?<![\w.\"]){sigil}(\d+)\b", result.ir_llvm)))
            assert numbers == [str(i) for i in range(len(numbers))]
        assert result.asm.startswith(f"<{name}_cpu_forward>:\n")
        assert "\tret" in result.asm and not re.search(r"\tnop\w*[^\n]*\n$", result.asm)
        assert re.search(r"^\tv\w+\s", result.asm, re.MULTILINE), "x86-64-v3 code is VEX encoded"
        assert result.ptx == result.error == ""


def test_a_batch_gives_each_kernel_what_it_gets_alone(modules, alone):
    for backend in BACKENDS:
        batch = compile_alone(backend, modules[backend])
        assert batch == alone[backend]
        # the same module twice in one call: compiled once, answered twice
        twice = compile_alone(backend, [modules[backend][0], modules[backend][0]])
        assert twice == [alone[backend][0]] * 2


def test_compile_text_is_the_one_tu_compile_and_kernel_result_cuts_the_kernel_out(modules, alone):
    for backend in BACKENDS:
        name, text = modules[backend][0]
        ok, error, artifacts = native.compile_text(backend, text)
        assert ok and error == ""
        assert set(artifacts) == ({"ptx"} if backend == "cuda" else {"ir", "asm"})
        assert native.kernel_result(backend, name, artifacts) == alone[backend][0]
        bad_name, bad_text = broken(modules[backend][2])
        ok, error, artifacts = native.compile_text(backend, bad_text)
        assert not ok and artifacts == {} and error == compile_alone(backend, [(bad_name, bad_text)])[0].error
    with pytest.raises(ValueError, match="backend must be one of cuda, cpu, got 'rocm'"):
        native.compile_text("rocm", "")
    with pytest.raises(ValueError):
        native.compile_text("cuda", modules["cuda"][0][1], arch="sm_90")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_broken_kernel_fails_alone_and_its_batch_mates_succeed(backend, modules, alone):
    batch = [*modules[backend][:2], broken(modules[backend][2])]
    results = compile_alone(backend, batch)
    # the good kernels get exactly what they get without the bad one
    assert results[:2] == alone[backend][:2]
    assert all(r.ok for r in results[:2])
    bad = results[2]
    check_broken_result(bad, batch[2][0], backend)
    # the diagnostic is the kernel's own: the same in any batch
    assert compile_alone(backend, [batch[2]])[0] == bad
    if backend == "cpu":
        # Warp deleted its PCH after the failure; the kept hard link put it back (no 1.3 s rebuild)
        assert any(e.endswith(".pch") for e in os.listdir(native.clang_pch_dir()))


def test_one_module_per_translation_unit_is_the_only_way(modules):
    """Shared TUs are not exact, so the toolchain offers none (benchmarks/shared_tu.py measures them)."""
    with pytest.raises(TypeError):
        native.compile_cpu(modules["cpu"], max_batch=3)
    with pytest.raises(TypeError):
        native.compile_cuda(modules["cuda"], max_batch=3)


def test_a_wrong_mangled_name_is_a_failed_result_not_an_exception(modules):
    _, text = modules["cuda"][0]
    result = native.compile_cuda([("nope_00000000", text)])[0]
    assert not result.ok and "no .entry nope_00000000_cuda_kernel_forward" in result.error


def test_cpu_flags_are_a_fixed_target_never_native(monkeypatch, modules, alone):
    import warp
    import warp._src.build as build

    seen = []
    real = build.build_cpu

    def spy(*args, **kwargs):
        seen.append(kwargs["extra_flags"])
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "build_cpu", spy)
    again = native.compile_cpu(modules["cpu"])
    assert seen == [native.cpu_flags()] * len(modules["cpu"])
    assert "-march=native" not in native.cpu_flags()
    assert native.cpu_flags().startswith(f"-target-cpu {constants.CPU_TARGET} ")
    assert constants.CPU_TARGET == "x86-64-v3"
    # everything else is Warp's default flag string
    target = f"-target-cpu {constants.CPU_TARGET}"
    assert constants.CPU_FLAGS == warp.config.cpu_compiler_flags.replace("-march=native", target)
    # and two runs give the same IR and asm
    assert again == alone["cpu"]


_SUBPROCESS = """
import dataclasses, json, shutil, sys
from warp_ir_pairs_generator.toolchain import native, process_state
modules = [tuple(m) for m in json.load(open(sys.argv[1]))]
out = {"cpu": native.compile_cpu(modules[:2]), "cuda": native.compile_cuda(modules[2:])}
# a temp cleaner removes the private dir (PCHs, NVRTC's PCH dir): the next calls still work
shutil.rmtree(process_state.private_root())
assert out == {"cpu": native.compile_cpu(modules[:2]), "cuda": native.compile_cuda(modules[2:])}
json.dump({b: [dataclasses.asdict(r) for r in rs] for b, rs in out.items()}, open(sys.argv[2], "w"))
"""


def test_a_fresh_process_gives_the_same_bytes_and_leaves_no_temp_files(tmp_path, modules, alone):
    """Cold PCHs, another hash seed, another temp dir: same results; nothing left in that temp dir.

    The child also survives its private temp dir being deleted mid-process (NVRTC keeps the path
    of its automatic-PCH directory and fails once it is gone unless it is recreated).
    """
    bad_cpu = broken(modules["cpu"][2])
    bad_cuda = broken(modules["cuda"][2])
    inputs = [modules["cpu"][0], bad_cpu, modules["cuda"][0], bad_cuda]
    (tmp_path / "in.json").write_text(json.dumps(inputs))
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", _SUBPROCESS, str(tmp_path / "in.json"), str(tmp_path / "out.json")],
                   env=env, check=True, capture_output=True, timeout=300)
    got = json.loads((tmp_path / "out.json").read_text())
    here = {"cpu": [alone["cpu"][0], native.compile_cpu([bad_cpu])[0]],
            "cuda": [alone["cuda"][0], native.compile_cuda([bad_cuda])[0]]}
    assert got == {b: [dataclasses.asdict(r) for r in rs] for b, rs in here.items()}
    assert got["cpu"][1]["ok"] is False and got["cuda"][1]["ok"] is False
    assert list(private_tmp.iterdir()) == []


def test_a_call_leaves_only_the_process_pch_dir(modules):
    native.compile_cpu(modules["cpu"][:1])
    native.compile_cuda(modules["cuda"][:1])
    entries = os.listdir(process_state.private_root())
    assert not [e for e in entries if e.startswith("call_")]
    assert set(entries) <= {"clang_pch"} | {e for e in entries if e.startswith("__nvrtc_auto_pch_")}
