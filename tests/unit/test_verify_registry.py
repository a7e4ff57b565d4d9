"""Verify levels are an ordered registry: options, schema, card sentences and records derive from it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import options, verify
from warp_ir_pairs_generator.record import schema
from warp_ir_pairs_generator.verify.compile import first_error_line
from warp_ir_pairs_generator.verify.level import NATIVE_BATCH, Level


def test_the_levels_are_codegen_compile_execute_in_that_order():
    assert verify.names() == ("codegen", "compile", "execute") == options.VERIFY_LEVELS
    assert [level.batch for level in verify.LEVELS] == [1, NATIVE_BATCH, NATIVE_BATCH] == [1, 64, 64]
    assert list(verify.LEVEL_MODULES) == list(verify.names())


def test_up_to_includes_every_earlier_level():
    assert verify.names(verify.up_to("codegen")) == ("codegen",)
    assert verify.names(verify.up_to("execute")) == ("codegen", "compile", "execute")
    with pytest.raises(ValueError, match="unknown verify level 'run'; valid levels: codegen, compile, execute"):
        verify.up_to("run")


def test_each_level_declares_the_record_fields_it_fills_with_todays_defaults():
    fields = {level.name: dict(level.fields) for level in verify.LEVELS}
    assert fields == {"codegen": {},
                      "compile": {"ptx": "", "ptx_arch": 0, "ir_llvm": "", "asm": "", "cpu_target": "",
                                  "ptx_o1": "", "ir_llvm_o1": "", "asm_o1": ""},
                      "execute": {"example_io": ""}}
    declared = [name for level in verify.LEVELS for name in level.fields]
    # in record order, right after `verify`
    at = schema.FIELD_NAMES.index("verify") + 1
    assert list(schema.FIELD_NAMES[at: at + len(declared)]) == declared


def test_the_schema_enum_and_the_card_sentences_come_from_the_levels():
    verify_field = next(f for f in schema.FIELDS if f.name == "verify")
    assert verify_field.constraints["enum"] == list(verify.names())
    for level in verify.LEVELS:
        assert level.sentence.startswith(f"`{level.name}`: ")


def test_a_level_refuses_a_bad_name_or_batch():
    with pytest.raises(ValueError, match="name must be an identifier"):
        Level("two words", {}, "", 1, lambda o, d: [])
    with pytest.raises(ValueError, match="batch must be an int >= 1, got 0"):
        Level("x", {}, "", 0, lambda o, d: [])


def test_first_error_line_is_the_compilers_first_diagnostic():
    error = "Warp: cpu build failed\nmodule.cpp:3:1: error: bad thing\nmodule.cpp:9:1: error: other"
    assert first_error_line(error) == "module.cpp:3:1: error: bad thing"
    assert first_error_line("nvrtc Error 6\nmore") == "nvrtc Error 6"
    assert first_error_line("just words\n") == "just words"
    assert first_error_line("\n \n") == "?"


# A throwaway level inserted into a copy of the registry before anything reads it: options
# validation, the schema's enum, the driver's level selection, batch rule and checks pick it up.
_THROWAWAY = r"""
import json, sys
from warp_ir_pairs_generator import verify
from warp_ir_pairs_generator.verify.level import Level

calls = []

def check(options, drafts):
    calls.append([d.index for d in drafts])
    return ["throwaway: odd" if d.index % 2 else "" for d in drafts]

throwaway = Level("throwaway", {}, "`throwaway`: a test level.", 5, check)
verify.LEVELS = (verify.LEVELS[0], throwaway, *verify.LEVELS[1:])

from warp_ir_pairs_generator import driver, options
from warp_ir_pairs_generator.record import schema

class Draft:
    def __init__(self, index):
        self.index, self.native = index, {}

opts = options.GenerationOptions.from_config("cpu-tiny", verify="throwaway")
try:
    options.GenerationOptions.from_config("cpu-tiny", verify="nope")
except ValueError as e:
    refused = str(e)
reasons = driver._verify(opts, [Draft(i) for i in range(4)])
print(json.dumps({
    "levels": options.VERIFY_LEVELS,
    "enum": next(f for f in schema.FIELDS if f.name == "verify").constraints["enum"],
    "selected": verify.names(verify.up_to(opts.verify)),
    "batch": verify.up_to(opts.verify)[-1].batch,
    "reasons": reasons, "calls": calls, "refused": refused,
    "codegen_reasons": driver._verify(options.GenerationOptions.from_config("cpu-tiny"), [Draft(7)]),
    "warp": sorted(m for m in sys.modules if m == "warp" or m.startswith("warp.")),
}))
"""


def test_a_level_added_to_the_registry_is_picked_up_everywhere():
    out = subprocess.run([sys.executable, "-c", _THROWAWAY], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["levels"] == got["enum"] == ["codegen", "throwaway", "compile", "execute"]
    assert got["selected"] == ["codegen", "throwaway"] and got["batch"] == 5
    assert got["reasons"] == ["", "throwaway: odd", "", "throwaway: odd"] and got["calls"] == [[0, 1, 2, 3]]
    assert "valid levels: codegen, throwaway, compile, execute" in got["refused"]
    assert got["codegen_reasons"] == [""] and got["warp"] == []
    # the registry this process sees is untouched
    assert "throwaway" not in verify.names()
