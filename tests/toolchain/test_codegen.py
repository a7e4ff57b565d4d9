"""IR authenticity: records are what Warp itself emits for their own source."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest
from warp_ir_pairs_generator import driver, synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.synth.builder import KernelSource
from warp_ir_pairs_generator.toolchain import codegen, constants, extract

_HELPER_FILE_COMMENT = re.compile(r"^// .*:(\d+)$", re.MULTILINE)


def _aot_ir(tmp_path, record: dict) -> tuple[str, str]:
    """Compile the record's source from a real .py file with Warp's public AOT API; cut out its IR."""
    wp = codegen.warp()
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{record['kernel_name']}_{record['backend']}.py"
    path.write_text(record["python_source"])
    name = f"aot_{record['backend']}_{record['index']}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    kernel = getattr(module, record["kernel_name"])
    out = tmp_path / "aot"
    if record["backend"] == "cpu":
        wp.set_module_options({"block_dim": 1}, module)   # what a CPU launch compiles with
        wp.compile_aot_module(kernel.module, device="cpu", module_dir=str(out))
        text = next(out.glob("*.cpp")).read_text()
    else:
        wp.compile_aot_module(kernel.module, arch=constants.DEFAULT_PTX_ARCH, module_dir=str(out), use_ptx=True)
        text = next(out.glob("*.cu")).read_text()
    name_ = kernel.get_mangled_name()
    forward = extract.extract_function(text, f"{name_}_{record['backend']}_kernel_forward(")
    return forward, text


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_rerunning_warp_on_the_source_gives_the_recorded_ir(backend, tiny_records):
    for record in tiny_records[backend][:5]:
        ir = codegen.emit(record["python_source"], record["kernel_name"], backend)
        assert ir.forward == record["ir_code"]
        assert ir.functions == record["ir_functions"]


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_in_memory_codegen_equals_public_aot_output(backend, tiny_records, tmp_path):
    """Guards the private ModuleBuilder path: Warp's public AOT compile writes the same function."""
    with_helper = next(r for r in tiny_records[backend] if r["ir_functions"])
    for record in (tiny_records[backend][0], with_helper):
        forward, text = _aot_ir(tmp_path / str(record["index"]), record)
        assert forward == record["ir_code"]
        # Helpers differ only in the "// <file>:line" comment: a real file gives its path.
        for function in record["ir_functions"].split("\n\n"):
            if function.strip():
                normalized = _HELPER_FILE_COMMENT.sub(r"// FILE:\1", function.strip())
                assert normalized in _HELPER_FILE_COMMENT.sub(r"// FILE:\1", text)


def test_helpers_are_emitted_when_the_kernel_calls_them(tiny_records):
    for record in tiny_records["cpu"]:
        helpers = re.findall(r"^@wp\.func\ndef (\w+)\(", record["python_source"], re.MULTILINE)
        for helper in helpers:
            if re.search(rf"\b{helper}\(", record["python_source"].split("@wp.kernel")[1]):
                assert re.search(rf"\b{helper}_0\(", record["ir_functions"])
        if not helpers:
            assert record["ir_functions"] == ""


def test_a_rejected_kernel_is_counted_and_replaced(monkeypatch):
    options = GenerationOptions.from_config("cpu-tiny", num_examples=3)
    real = synth.synthesize

    def flaky(opts, index, attempt=0):
        ks = real(opts, index, attempt)
        if index == 1 and attempt == 0:   # a float + int mismatch Warp must refuse
            src = ks.python_source.replace("i = wp.tid()", "i = wp.tid()\n    bad = 1.5 + i", 1)
            return KernelSource(src, ks.kernel_name, ks.category)
        return ks

    monkeypatch.setattr(synth, "synthesize", flaky)
    report = driver.Report()
    records = list(driver.iter_shard(options, 0, 3, None, report))
    assert [r["index"] for r in records] == [0, 1, 2]
    assert report.total_rejected == 1
    ((category, reason), count), = report.rejected.items()
    assert category == records[1]["category"] and count == 1
    assert "Input types must be the same" in reason
    assert "bad = 1.5 + i" not in records[1]["python_source"]
    assert "rejected and replaced" in report.summary()


def test_warp_rejection_carries_warps_reason():
    src = "import warp as wp\n\n@wp.kernel\ndef k(a: wp.array(dtype=float)):\n    i = wp.tid()\n    a[i] = b\n"
    with pytest.raises(codegen.KernelRejected) as info:
        codegen.emit(src, "k", "cpu")
    assert "undefined symbol" in info.value.message.lower() or "b" in info.value.message


def test_released_kernels_are_freed():
    """Nothing keeps a generated kernel alive: memory stays flat over any number of records."""
    import gc
    import weakref

    import warp._src.codegen as cg

    options = GenerationOptions.from_config("cpu-large")
    modules = []
    real = codegen.load_module

    def tracking(source, filename, modname=None):
        module = real(source, filename, modname)
        modules.append(weakref.ref(module))
        return module

    codegen.load_module = tracking
    try:
        list(driver.iter_shard(options, 30, 90))
    finally:
        codegen.load_module = real
    gc.collect()
    assert len(modules) == 60 and [m for m in modules if m() is not None] == []
    # Adjoints of our kernels and helpers (Warp's own @wp.func builtins keep theirs, once each).
    ours = [o for o in gc.get_objects() if isinstance(o, cg.Adjoint)
            and str(getattr(o.func, "__module__", "")).startswith("warp_ir_pairs_k")]
    assert ours == []


def test_a_definition_time_error_is_a_rejection_that_leaves_no_trace():
    import warp._src.context as ctx

    src = ("import warp as wp\n\n@wp.func\ndef helper_zz(x: float):\n    return x\n\n"
           "@wp.kernel\ndef k_zz(a: wp.array(dtype=float), n):\n    i = wp.tid()\n    a[i] = helper_zz(a[i])\n")
    with pytest.raises(codegen.KernelRejected) as info:
        codegen.emit(src, "k_zz", "cpu")
    assert "annotations" in info.value.message.lower()
    assert "helper_zz" not in ctx.function_key_counts
    assert not [name for name in ctx.user_modules if name.startswith("warp_ir_pairs_k")]


FLOAT64_OF_BOOL = """import warp as wp
@wp.kernel
def k(a: wp.array(dtype=wp.float64), x: float):
    if x > 0.5:
        wp.printf("True or False? %f\\n", x)   # Python words in strings and comments are fine
    a[0] = wp.float64({arg})
"""


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_ir_with_a_python_literal_warp_wrote_into_the_cpp_is_rejected(backend):
    """Warp 1.19 emits wp.float64(True) as `var_N = True;`: IR no compiler accepts is not recorded."""
    with pytest.raises(codegen.KernelRejected) as info:
        codegen.emit(FLOAT64_OF_BOOL.format(arg="True"), "k", backend)
    assert info.value.reason == "WarpEmittedPythonLiteral" and "= True" in info.value.message
    ir = codegen.emit(FLOAT64_OF_BOOL.format(arg="x > 0.5"), "k", backend)   # a bool value is fine
    assert "True or False?" in ir.forward


def _by_brace_counting(body: str, signature: str) -> str:
    """Reference: the first point after the opening brace where braces balance."""
    at = body.index(signature)
    start, depth = body.rfind("\n\n", 0, at) + 2, 0
    for i in range(body.index("{", at), len(body)):
        depth += {"{": 1, "}": -1}.get(body[i], 0)
        if depth == 0:
            return body[start:i + 1] + "\n"
    raise AssertionError("unbalanced")


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_extract_function_equals_brace_counting_on_warps_output(backend):
    """extract_function cuts at Warp's column-0 closing brace; on Warp 1.19 output that is exact."""
    options = GenerationOptions.from_config(f"{backend}-tiny")
    checked = 0
    for index in range(12):
        ks = synth.synthesize(options, index, 0)
        ir = codegen.emit(ks.python_source, ks.kernel_name, backend)
        body = ir.module_text
        signatures = [f"{ir.mangled_name}_{backend}_kernel_forward(", f"{ir.mangled_name}_{backend}_kernel_backward("]
        signatures += [m.group(1) + "(" for m in extract._HELPER_DECL.finditer(body)]
        for signature in signatures:
            assert extract.extract_function(body, signature) == _by_brace_counting(body, signature)
            checked += 1
    assert checked >= 24


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_every_module_text_starts_with_the_constant_header(backend):
    """Guards module_header_end (Warp's private cast macros): one header for all, then the body."""
    options = GenerationOptions.from_config(f"{backend}-tiny")
    marker = codegen.module_header_end()
    headers = set()
    for index in range(3):
        ks = synth.synthesize(options, index, 0)
        ir = codegen.emit(ks.python_source, ks.kernel_name, backend)
        assert ir.module_text.count(marker) == 1
        header, body = ir.module_text.split(marker)
        headers.add(header)
        assert ir.forward in body
    assert len(headers) == 1


def test_emitted_options_are_the_toolchain_constants(tiny_records):
    """Records carry the block dim and arch of toolchain.constants (1 / 256, sm_90 for CUDA text)."""
    for backend, records in tiny_records.items():
        recorded = json.loads(records[0]["warp_options"])
        assert set(recorded) == set(constants.RECORDED_OPTIONS)
        assert recorded["block_dim"] == constants.BLOCK_DIM[backend] == (1 if backend == "cpu" else 256)
        assert recorded["output_arch"] == (constants.DEFAULT_PTX_ARCH if backend == "cuda" else None)


GENERIC = """import warp as wp
from typing import Any

@wp.kernel
def generic_scale(a: wp.array(dtype=Any), s: float):
    i = wp.tid()
    a[i] = a[i] * s
"""


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_a_generic_kernel_is_a_rejection_not_a_bare_error(backend):
    with pytest.raises(codegen.KernelRejected) as e:
        codegen.emit(GENERIC, "generic_scale", backend)
    assert e.value.reason == "GenericKernel"
    assert e.value.message == "generic_scale has generic parameters and no overload to generate code for"
