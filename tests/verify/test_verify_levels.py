"""IR depth: backward IR, paired records, and the compile level (PTX, LLVM IR, asm)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest
from warp_ir_pairs_generator import driver, synth, verify
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.toolchain import codegen

NATIVE_FIELDS = ("ptx", "ir_llvm", "asm", "cpu_target", "example_io")


def _records(config: str, n: int, **overrides) -> tuple[list[dict], driver.Report]:
    options = GenerationOptions.from_config(config, num_examples=n, **overrides)
    report = driver.Report()
    return list(driver.iter_shard(options, 0, n, None, report)), report


@pytest.fixture(scope="module")
def compiled() -> dict[str, list[dict]]:
    return {b: _records(f"{b}-tiny", 3, verify="compile")[0] for b in ("cpu", "cuda")}


def test_backward_ir_is_recorded_by_default_and_skipped_on_request(tiny_records):
    for backend, records in tiny_records.items():
        for r in records[:10]:
            name = re.search(rf"(\w+)_{backend}_kernel_forward\(", r["ir_code"]).group(1)
            assert f"{name}_{backend}_kernel_backward(" in r["ir_backward"]
    options = GenerationOptions.from_config("cuda-tiny", backward=False)
    record = driver.make_record(options, 3)
    assert record["ir_backward"] == ""
    assert record["ir_code"] == tiny_records["cuda"][3]["ir_code"]   # forward code is unchanged


def test_codegen_records_leave_native_fields_empty(tiny_records):
    for records in tiny_records.values():
        for r in records[:10]:
            assert r["verify"] == "codegen" and r["ptx_arch"] == 0
            assert all(r[f] == "" for f in NATIVE_FIELDS)


def test_paired_records_hold_one_kernels_cpu_and_cuda_ir():
    records, _ = _records("paired-tiny", 6)
    for r in records:
        assert r["backend"] == "paired" and r["id"].startswith("paired-42-")
        cpu = re.search(r"(\w+)_cpu_kernel_forward\(", r["ir_code"]).group(1)
        cuda = re.search(r"(\w+)_cuda_kernel_forward\(", r["cuda_ir_code"]).group(1)
        assert cpu.rsplit("_", 1)[0] == cuda.rsplit("_", 1)[0] == r["kernel_name"]
        irs = codegen.emit_all(r["python_source"], r["kernel_name"], ("cpu", "cuda"))
        assert (irs["cpu"].forward, irs["cuda"].forward) == (r["ir_code"], r["cuda_ir_code"])
        assert irs["cuda"].backward == r["cuda_ir_backward"]


def test_cuda_compile_level_records_ptx_of_forward_and_backward(compiled):
    for r in compiled["cuda"]:
        name = re.search(r"(\w+)_cuda_kernel_forward\(", r["ir_code"]).group(1)
        assert r["ptx"].index(f".visible .entry {name}_cuda_kernel_forward(") < \
            r["ptx"].index(f".visible .entry {name}_cuda_kernel_backward(")
        assert r["ptx_arch"] == 90 and r["verify"] == "compile"
        assert r["ir_llvm"] == r["asm"] == r["cpu_target"] == ""


def test_ptx_arch_override_changes_the_recorded_arch():
    records, _ = _records("cuda-tiny", 1, verify="compile", ptx_arch=80)
    assert records[0]["ptx_arch"] == 80 and ".entry" in records[0]["ptx"]


def test_cpu_compile_level_records_llvm_ir_and_asm_for_a_fixed_target(compiled):
    for r in compiled["cpu"]:
        name = re.search(r"(\w+)_cpu_kernel_forward\(", r["ir_code"]).group(1)
        assert re.search(rf"^define .*@{name}_cpu_forward\(", r["ir_llvm"], re.M)
        assert r["asm"].startswith(f"<{name}_cpu_forward>:")
        assert r["cpu_target"] == "x86-64-v3" and r["ptx"] == ""


_SCRIPT = """
import json, sys
from warp_ir_pairs_generator import driver, synth, verify
from warp_ir_pairs_generator.options import GenerationOptions
o = GenerationOptions.from_config(sys.argv[1] + "-tiny", num_examples=3, verify="compile")
print(json.dumps(list(driver.iter_shard(o, 0, 3)), sort_keys=True))
"""


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_compile_level_is_identical_in_a_fresh_process(backend, compiled):
    out = subprocess.run([sys.executable, "-c", _SCRIPT, backend], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == compiled[backend]


def test_a_native_compile_failure_is_counted_and_replaced(monkeypatch):
    real = codegen.emit_all

    def broken_first_draw(source, kernel_name, backends, **kwargs):
        irs = real(source, kernel_name, backends, **kwargs)
        if "broken" not in state:
            state.add("broken")   # the first kernel compiles to C++ that clang must refuse
            irs = {b: replace(ir, module_text=ir.module_text + "\nthis is not C++;\n") for b, ir in irs.items()}
        return irs

    state: set[str] = set()
    monkeypatch.setattr(codegen, "emit_all", broken_first_draw)
    records, report = _records("cpu-tiny", 2, verify="compile")
    assert [r["index"] for r in records] == [0, 1]
    assert all(r["ir_llvm"] for r in records)
    ((category, reason), count), = report.rejected.items()
    assert count == 1 and category == records[0]["category"]
    assert reason.startswith("clang: ") and "error" in reason


def test_execute_level_records_example_io_and_replaces_a_crashing_kernel(monkeypatch):
    from warp_ir_pairs_generator import synth
    from warp_ir_pairs_generator.record import schema
    from warp_ir_pairs_generator.synth.builder import KernelSource

    real = synth.synthesize

    def crashing_first_draw(options, index, attempt=0):
        ks = real(options, index, attempt)
        if index == 1 and attempt == 0:   # an out-of-bounds write far enough to SIGSEGV the sandbox
            src = ks.python_source + (f"\n\n@wp.kernel\ndef {ks.kernel_name}_x(a: wp.array(dtype=float)):\n"
                                      "    i = wp.tid()\n    a[i + 100000000] = 1.0\n")
            src = src.replace(f"def {ks.kernel_name}(", f"def {ks.kernel_name}_orig(").replace(
                f"def {ks.kernel_name}_x(", f"def {ks.kernel_name}(")
            return KernelSource(src, ks.kernel_name, ks.category, ks.complexity)
        return ks

    monkeypatch.setattr(synth, "synthesize", crashing_first_draw)
    records, report = _records("cpu-tiny", 3, verify="execute")
    assert [r["index"] for r in records] == [0, 1, 2]
    for r in records:
        io = json.loads(r["example_io"])
        assert set(io) == {"dim", "inputs", "outputs"} and io["outputs"]
        assert not schema.validation_errors(r) and r["ir_llvm"] and r["verify"] == "execute"
    ((category, reason), count), = report.rejected.items()
    assert count == 1 and reason.startswith("execute: crash") and category == records[1]["category"]


def test_compile_level_is_identical_with_num_proc_2(tmp_path, monkeypatch):
    import datasets

    import warp_ir_pairs  # noqa: F401  (registers the builder)

    monkeypatch.setattr(driver, "SHARD_SIZE", 3)   # two shards, so two processes really share the work
    assert driver.shards(6) == [(0, 3), (3, 6)]

    def load(sub: str, **kw):
        ds = datasets.load_dataset("warp_ir_pairs", "cuda-tiny", num_examples=6, verify="compile",
                                   cache_dir=str(tmp_path / sub), **kw)
        return {split: d.to_list() for split, d in ds.items()}

    one, two = load("one"), load("two", num_proc=2)
    assert one == two and all(r["ptx"] for rows in one.values() for r in rows)


def test_opt_variants_record_debug_ir_and_native_code_at_a_second_level(tiny_records):
    options = GenerationOptions.from_config("cpu-tiny", opt_variants=True)
    record = driver.make_record(options, 5)
    assert record["ir_code"] == tiny_records["cpu"][5]["ir_code"]   # the release IR is unchanged
    assert "#line" in record["ir_code_debug"] and record["ir_code_debug"] != record["ir_code"]
    assert tiny_records["cpu"][5]["ir_code_debug"] == ""
    records, _ = _records("paired-tiny", 1, verify="compile", opt_variants=True)
    r = records[0]
    assert r["ptx_o1"] and r["ptx_o1"] != r["ptx"]
    assert r["asm_o1"] and r["asm_o1"] != r["asm"] and r["ir_llvm_o1"].startswith(("; Function Attrs", "define"))


def test_each_level_fills_exactly_the_record_fields_it_declares():
    """The registry's field declarations are what the checks write (so _record's defaults are complete)."""
    options = GenerationOptions.from_config("paired-tiny", verify="execute", opt_variants=True)
    for index in range(10):
        ks = synth.synthesize(options, index, 0)
        try:
            irs = codegen.emit_all(ks.python_source, ks.kernel_name, options.targets)
            break
        except codegen.KernelRejected:
            continue
    draft = SimpleNamespace(index=index, kernel=ks, irs=irs, native={})
    for level in verify.up_to("execute"):
        before = set(draft.native)
        assert level.check(options, [draft]) == [""], level.name
        assert set(draft.native) - before == set(level.fields), level.name
    assert draft.native["cpu_target"] == "x86-64-v3" and draft.native["ptx_arch"] == 90
    assert json.loads(draft.native["example_io"])["outputs"]
