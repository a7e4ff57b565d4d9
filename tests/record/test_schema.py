"""One schema source: Features, the shipped JSON Schema and the README table all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
from warp_ir_pairs_generator.record import schema

README = Path(__file__).resolve().parents[2] / "README.md"


def test_features_are_derived_from_the_fields():
    assert list(schema.features()) == list(schema.FIELD_NAMES)


def test_shipped_json_schema_equals_the_derived_one():
    assert schema.shipped_json_schema() == schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema.shipped_json_schema())


def test_readme_schema_table_matches_the_fields():
    assert schema.markdown_table() in README.read_text(encoding="utf-8")


def test_every_tiny_record_is_schema_valid(tiny_records):
    validator = jsonschema.Draft202012Validator(schema.shipped_json_schema())
    for backend, records in tiny_records.items():
        assert len(records) == 256
        for record in records:
            validator.validate(record)
            assert record["backend"] == backend


def test_schema_rejects_a_broken_record(tiny_records):
    record = dict(tiny_records["cpu"][0])
    record["ir_code"] = "int main() {}"
    del record["seed"]
    errors = schema.validation_errors(record)
    assert any(e.startswith("ir_code:") for e in errors)
    assert any("'seed' is a required property" in e for e in errors)


def test_ir_is_the_forward_function_of_the_configured_backend(tiny_records):
    for record in tiny_records["cpu"][:20]:
        assert re.search(r"^static void \w+_cpu_kernel_forward\(", record["ir_code"], re.MULTILINE)
        assert '"block_dim": 1' in record["warp_options"]
    for record in tiny_records["cuda"][:20]:
        assert 'extern "C" __global__ void' in record["ir_code"]
        assert "_idx += static_cast<size_t>(blockDim.x) * static_cast<size_t>(gridDim.x)" in record["ir_code"]


def _mutations(record: dict) -> list[dict]:
    """Broken copies of a valid record, one way of breaking it each."""
    out = []
    for field, value in (("ir_code", 5), ("seed", "0"), ("index", -1.5), ("ptx_arch", None), ("warp_options", [])):
        out.append({**record, field: value})
    out.append({k: v for k, v in record.items() if k != "structure_hash"})
    out.append({**record, "unexpected_field": ""})
    out.append({**record, "ir_code": "int main() {}"})                # not a kernel's forward function
    out.append({**record, "error_message": "boom"})                   # only errors records carry one
    out.append({**record, "backend": "errors"})                       # errors records have no IR
    return out


def test_the_fast_validator_agrees_with_jsonschema(tiny_records):
    """Records are checked by jsonschema-rs; jsonschema (the reference) must give the same verdicts."""
    reference = jsonschema.Draft202012Validator(schema.shipped_json_schema())
    fast = schema._fast_validator()
    checked = broken = 0
    for records in tiny_records.values():
        for record in records[:64]:
            assert fast.is_valid(record) and reference.is_valid(record)
            checked += 1
            for bad in _mutations(record):
                assert not reference.is_valid(bad)
                assert not fast.is_valid(bad), [k for k in {*bad, *record} if bad.get(k) != record.get(k)]
                assert schema.validation_errors(bad)
                broken += 1
    assert checked == 128 and broken == 128 * len(_mutations(tiny_records["cpu"][0]))
