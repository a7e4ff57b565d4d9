"""`errors-{tier}` configs: kernels with realistic mistakes paired with Warp's diagnostic."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.record import schema
from warp_ir_pairs_generator.record.structure import split_of
from warp_ir_pairs_generator.toolchain import codegen


@pytest.fixture(scope="module")
def errors() -> list[dict]:
    options = GenerationOptions.from_config("errors-tiny", num_examples=60)
    return list(driver.iter_shard(options, 0, 60))


def test_error_records_carry_a_diagnostic_and_no_ir(errors):
    kinds = {r["category"] for r in errors}
    assert len(kinds) >= 6 and all(k.startswith("error_") for k in kinds)
    for r in errors:
        assert not schema.validation_errors(r)
        assert r["ir_code"] == r["ir_backward"] == "" and r["error_message"]
        assert f"<{r['kernel_name']}>" not in r["error_message"]   # the load-time file name is normalized


def test_the_diagnostic_is_what_warp_says_for_the_source(errors):
    from warp_ir_pairs_generator import mistakes

    for r in errors[:15]:
        with pytest.raises(codegen.KernelRejected):
            codegen.emit(r["python_source"], r["kernel_name"], "cpu")
        assert mistakes.diagnose(r["python_source"], r["kernel_name"]) == r["error_message"]


def test_errors_follow_the_split_rule(errors):
    for r in errors:
        assert split_of(r["structure_hash"]) == driver.split_of_index(
            GenerationOptions.from_config("errors-tiny", num_examples=60), r["index"])


def test_errors_are_identical_in_a_fresh_process(errors):
    code = ("import json; from warp_ir_pairs_generator import driver; "
            "from warp_ir_pairs_generator.options import GenerationOptions as G; "
            "o = G.from_config('errors-tiny', num_examples=60); print(json.dumps(list(driver.iter_shard(o, 20, 30))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == errors[20:30]


def test_codegen_records_have_no_error_message(tiny_records):
    assert all(r["error_message"] == "" for r in tiny_records["cpu"][:20])


def test_errors_need_verify_codegen():
    with pytest.raises(ValueError, match="errors configs hold kernels Warp rejects"):
        GenerationOptions.from_config("errors-tiny", verify="compile")
