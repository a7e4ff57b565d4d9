"""Cutting one function out of module text and compiler output, on fixed text (no Warp)."""

from __future__ import annotations

import pytest
from warp_ir_pairs_generator.toolchain import extract


def _by_brace_counting(body: str, signature: str) -> str:
    """Reference: the first point after the opening brace where braces balance."""
    at = body.index(signature)
    start, depth = body.rfind("\n\n", 0, at) + 2, 0
    for i in range(body.index("{", at), len(body)):
        depth += {"{": 1, "}": -1}.get(body[i], 0)
        if depth == 0:
            return body[start:i + 1] + "\n"
    raise AssertionError("unbalanced")


def test_extract_function_falls_back_to_brace_counting_when_the_cut_does_not_balance():
    body = ('\n\nvoid k_cpu_kernel_forward(int a)\n{\n    printf("{");\n}\n    a += 1;\n}\n'
            '\n\nvoid k_cpu_kernel_backward(int a)\n{\n}\n')
    signature = "k_cpu_kernel_forward("
    assert extract.extract_function(body, signature) == _by_brace_counting(body, signature)
    assert extract.extract_function(body, "k_cpu_kernel_backward(") == "void k_cpu_kernel_backward(int a)\n{\n}\n"


def test_extract_function_refuses_unbalanced_braces():
    with pytest.raises(ValueError, match=r"unbalanced braces after 'k\('"):
        extract.extract_function("\n\nvoid k(int a)\n{\n  {\n", "k(")


PTX = (".version 8.8\n\n.visible .entry k_cuda_kernel_forward(\n\t.param .u32 n\n)\n{\n\tret;\n}\n\n"
       ".visible .entry k_cuda_kernel_backward(\n)\n{\n\tret;\n}\n")


def test_ptx_entry_cuts_one_entry_and_an_absent_optional_one_is_empty():
    assert extract.ptx_entry(PTX, "k_cuda_kernel_forward") == \
        ".visible .entry k_cuda_kernel_forward(\n\t.param .u32 n\n)\n{\n\tret;\n}\n"
    assert extract.ptx_entry(PTX, "k_cuda_kernel_backward").startswith(".visible .entry k_cuda_kernel_backward(")
    assert extract.ptx_entry(PTX, "j_cuda_kernel_backward", required=False) == ""
    with pytest.raises(KeyError, match=r"no \.entry j_cuda_kernel_forward in the PTX"):
        extract.ptx_entry(PTX, "j_cuda_kernel_forward")


def test_ir_function_takes_the_define_from_its_own_dump():
    dump = (extract.IR_DUMP_HEADER + "define void @other() {\n  ret void\n}\n"
            + extract.IR_DUMP_HEADER + "; Function Attrs: nounwind\ndefine void @k_cpu_forward(ptr %a) #0 {\n"
            "  ret void\n}\n\nattributes #0 = { nounwind }\n")
    assert extract.ir_function(dump, "k_cpu_forward") == \
        "; Function Attrs: nounwind\ndefine void @k_cpu_forward(ptr %a) #0 {\n  ret void\n}\n"
    with pytest.raises(KeyError, match="no IR dump of @j_cpu_forward"):
        extract.ir_function(dump, "j_cpu_forward")


def test_asm_function_is_one_objdump_block():
    disassembly = "m.o: file format\n\n<k_cpu_forward>:\n\tpush   %rbp\n\tret\n\n<k_cpu_backward>:\n\tret\n"
    assert extract.asm_function(disassembly, "k_cpu_forward") == "<k_cpu_forward>:\n\tpush   %rbp\n\tret\n"
    assert extract.asm_function(disassembly, "k_cpu_backward") == "<k_cpu_backward>:\n\tret\n"
    with pytest.raises(KeyError, match="no <j_cpu_forward> in the disassembly"):
        extract.asm_function(disassembly, "j_cpu_forward")
