"""The one record schema.

``FIELDS`` is the single source of truth: ``datasets.Features``, the shipped JSON Schema
(``record.schema.json``, draft 2020-12) and the README's schema table are all derived from it,
and tests check that the shipped file and the README still match it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..options import BACKENDS, VERIFY_LEVELS

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "record.schema.json"


@dataclass(frozen=True)
class Field:
    """One record field: its Arrow/JSON type, meaning, and the JSON Schema constraints on it."""

    name: str
    dtype: str  # "string" | "int64" | "int32" | "bool"
    description: str
    constraints: dict[str, Any] = field(default_factory=dict)


# The JSON inside ``example_io`` (a string field, so every config shares one Features).
_VALUE = {"$comment": "number, 'nan'/'inf'/'-inf', bool, nested list, or object (struct fields, handles)"}
EXAMPLE_IO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["dim", "inputs", "outputs"],
    "additionalProperties": False,
    "properties": {
        "dim": {"oneOf": [{"type": "integer", "minimum": 0},
                          {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1,
                           "maxItems": 4}]},
        "inputs": {"type": "object", "additionalProperties": _VALUE},
        "outputs": {"type": "object", "minProperties": 1, "additionalProperties": _VALUE},
    },
}

_JSON_TYPES = {"string": "string", "int64": "integer", "int32": "integer", "bool": "boolean"}

FIELDS: tuple[Field, ...] = (
    Field("id", "string", "Unique, stable id `{backend}-{seed}-{index}`.",
          {"pattern": r"^(cpu|cuda|paired|errors)-[0-9]+-[0-9]+$"}),
    Field("kernel_name", "string", "Name of the `@wp.kernel` function in `python_source`.",
          {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}),
    Field("category", "string", "Kernel family the synthesizer drew the kernel from.", {"minLength": 1}),
    Field("backend", "string", "`cpu` (IR is C++), `cuda` (CUDA C++) or `paired` (`ir_*` hold the CPU IR and "
          "`cuda_ir_*` the same kernel's CUDA IR).", {"enum": list(BACKENDS)}),
    Field("python_source", "string",
          "A complete, runnable Python module: `import warp as wp`, any `@wp.func` helpers, the `@wp.kernel`.",
          {"pattern": r"^import warp as wp\n(.|\n)*@wp\.kernel\n"}),
    Field("ir_code", "string",
          "The kernel's forward function exactly as Warp emits it: `…_cpu_kernel_forward` (CPU launch, "
          "`block_dim=1`) or the `__global__ …_cuda_kernel_forward` with its grid-stride loop; empty for "
          "`errors` records."),
    Field("ir_functions", "string",
          "The device functions Warp emits for the `@wp.func` helpers the kernel calls, in Warp's order; "
          "empty when there are none."),
    Field("ir_backward", "string",
          "The kernel's adjoint (reverse-mode) function exactly as Warp emits it (`…_cpu_kernel_backward` / "
          "`…_cuda_kernel_backward`); empty with `backward=False`.",
          {"pattern": r"^$|_(cpu|cuda)_kernel_backward\("}),
    Field("ir_code_debug", "string", "With `opt_variants=True`: the same forward function generated under "
          "Warp's `mode=\"debug\"` (bounds checks, `#line` directives); else empty.",
          {"pattern": r"^$|_(cpu|cuda)_kernel_forward\("}),
    Field("cuda_ir_code", "string", "`paired` only: the same kernel's CUDA forward function; else empty.",
          {"pattern": r"^$|_cuda_kernel_forward\("}),
    Field("cuda_ir_functions", "string", "`paired` only: the CUDA device functions of its helpers; else empty."),
    Field("cuda_ir_backward", "string", "`paired` only (with backward): the CUDA adjoint function; else empty.",
          {"pattern": r"^$|_cuda_kernel_backward\("}),
    Field("verify", "string", "How far the pair was checked: `codegen` (Warp's code generator), `compile` "
          "(also compiled by Warp's bundled clang / NVRTC) or `execute` (also launched on CPU).",
          {"enum": list(VERIFY_LEVELS)}),
    Field("ptx", "string", "`compile`+, cuda/paired: NVRTC PTX of the forward then backward `.entry` functions, "
          "labels and depots renumbered; else empty.", {"pattern": r"^$|\.entry \w+_cuda_kernel_forward\("}),
    Field("ptx_arch", "int32", "The `sm_` arch the PTX was compiled for; 0 when there is no PTX.", {"minimum": 0}),
    Field("ir_llvm", "string", "`compile`+, cpu/paired: optimized LLVM IR (`define` of the forward function, "
          "before instruction selection), metadata renumbered; else empty.", {"pattern": r"^$|define "}),
    Field("asm", "string", "`compile`+, cpu/paired: x86-64 assembly (AT&T, objdump) of the forward function for "
          "the fixed target `cpu_target`; else empty."),
    Field("cpu_target", "string", "The fixed CPU the object code targets (never the host's); empty when none."),
    Field("ptx_o1", "string", "`opt_variants` at `compile`+: `ptx` compiled at -O1 instead of Warp's -O3; else empty.",
          {"pattern": r"^$|\.entry \w+_cuda_kernel_forward\("}),
    Field("ir_llvm_o1", "string", "`opt_variants` at `compile`+: `ir_llvm` at -O1 instead of Warp's -O2; else empty.",
          {"pattern": r"^$|define "}),
    Field("asm_o1", "string", "`opt_variants` at `compile`+: `asm` at -O1 instead of Warp's -O2; else empty."),
    Field("example_io", "string", "`execute`: JSON of the launch (`dim`), inputs and outputs of one CPU run on "
          "small deterministic inputs (schema: `EXAMPLE_IO_SCHEMA`); else empty.",
          {"contentMediaType": "application/json"}),
    Field("error_message", "string", "`errors` only: Warp's (or Python's) diagnostic for the kernel's mistake, file "
          "name normalized to `<kernel>`, line numbers of `python_source`; else empty."),
    Field("structure_hash", "string",
          "sha256 (16 hex) of the source with identifiers and literal values abstracted; decides the split.",
          {"pattern": r"^[0-9a-f]{16}$"}),
    Field("warp_version", "string", "The `warp-lang` version that emitted the IR.",
          {"pattern": r"^[0-9]+\.[0-9]+\.[0-9]+"}),
    Field("warp_options", "string",
          "JSON of the Warp module options that shape the IR (block_dim, mode, enable_backward, ...).",
          {"pattern": r"^\{.*\}$"}),
    Field("complexity", "int32", "Difficulty level 1 (one-liners) … 5 (long kernels) the kernel was drawn at; "
          "set for all records by the `complexity` override, else drawn per record.", {"minimum": 1, "maximum": 5}),
    Field("seed", "int64", "Generation seed of the config.", {"minimum": 0}),
    Field("index", "int64", "Record index within the config; the record is a pure function of "
          "(backend, seed, index, options).", {"minimum": 0}),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)


def features():
    """The ``datasets.Features`` of a record (imported lazily: the engine works without datasets)."""
    import datasets

    return datasets.Features({f.name: datasets.Value(f.dtype) for f in FIELDS})


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a record, derived from ``FIELDS``."""
    properties = {}
    for f in FIELDS:
        prop: dict[str, Any] = {"type": _JSON_TYPES[f.dtype], "description": f.description}
        prop.update(f.constraints)
        if f.name == "example_io":
            prop["contentSchema"] = EXAMPLE_IO_SCHEMA   # an annotation in 2020-12; enforced below
        properties[f.name] = prop
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "https://github.com/warp-ir-pairs/warp-ir-pairs/record.schema.json",
        "title": "warp-ir-pairs record",
        "type": "object",
        "properties": properties,
        "required": list(FIELD_NAMES),
        "additionalProperties": False,
        # errors records carry a diagnostic and no IR; every other record carries IR and no diagnostic.
        "if": {"properties": {"backend": {"const": "errors"}}},
        "then": {"properties": {"ir_code": {"const": ""}, "error_message": {"minLength": 1},
                                "category": {"pattern": "^error_"}}},
        "else": {"properties": {"ir_code": {"pattern": r"_(cpu|cuda)_kernel_forward\("},
                                "error_message": {"const": ""}}},
    }


def shipped_json_schema() -> dict[str, Any]:
    """The JSON Schema file shipped inside the package (a test keeps it equal to ``json_schema()``)."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def markdown_table() -> str:
    """The README / dataset-card schema table."""
    rows = ["| field | type | description |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.dtype} | {f.description} |" for f in FIELDS]
    return "\n".join(rows)


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@functools.lru_cache(maxsize=1)
def _fast_validator():
    # jsonschema-rs checks a record in ~3 µs where jsonschema takes ~0.2 ms (2% of a record's
    # whole cost); jsonschema stays the reference: it meta-checks the schema and words the
    # errors, and tests/test_schema.py checks that the two agree.
    import jsonschema_rs

    _validator()
    return jsonschema_rs.validator_for(json_schema())


@functools.lru_cache(maxsize=1)
def _io_validator():
    import jsonschema

    return jsonschema.Draft202012Validator(EXAMPLE_IO_SCHEMA)


def validation_errors(record: dict[str, Any]) -> list[str]:
    """Every way ``record`` breaks the schema, as one-line messages (empty when valid).

    ``example_io`` is JSON text; JSON Schema only annotates a string's content, so its content
    schema is enforced here.
    """
    errors = [] if _fast_validator().is_valid(record) else _record_errors(record)
    text = record.get("example_io")
    if isinstance(text, str) and text:
        try:
            errors += [f"example_io/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                       for e in _io_validator().iter_errors(json.loads(text))]
        except json.JSONDecodeError as e:
            errors.append(f"example_io: not JSON ({e.msg})")
    return errors


def _record_errors(record: dict[str, Any]) -> list[str]:
    """jsonschema's messages for an invalid record (jsonschema-rs's if jsonschema finds none)."""
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<record>'}: {e.message[:200]}"
              for e in _validator().iter_errors(record)]
    return errors or [f"{'/'.join(map(str, e.instance_path)) or '<record>'}: {e.message[:200]}"
                      for e in _fast_validator().iter_errors(record)]
