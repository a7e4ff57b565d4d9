"""Cutting one function out of generated or compiled text: C++/CUDA module text, PTX, IR dumps, asm.

Warp's module text holds every function of a module; a record holds one kernel's forward (and
backward) and the forward device functions of its ``@wp.func`` helpers. Compiler output holds
one TU's worth of functions; a record holds one kernel's. A cut that finds nothing raises
``KeyError`` (native outputs) or ``ValueError`` (unbalanced C++), never returns a partial text.
"""

from __future__ import annotations

import re
import types

_BRACE = re.compile(r"[{}]")
_HELPER_DECL = re.compile(r"^// <[^>]*>:\d+\n(?:static |CUDA_CALLABLE |inline )*[^\n(]*?\b(\w+)\($", re.MULTILINE)
# The header LLVM prints before each function under -mllvm=-print-before=codegenprepare.
IR_DUMP_HEADER = "*** IR Dump Before CodeGen Prepare (codegenprepare) ***\n"


def extract_function(body: str, signature: str) -> str:
    """Cut one function out of emitted C++/CUDA: from its declaration line to its closing brace."""
    at = body.index(signature)
    start = body.rfind("\n\n", 0, at) + 2   # declarations start after a blank line
    # template<...>/extern "C" lines belong to the declaration; a // file:line comment too.
    opening = body.index("{", at)
    # Warp closes a function with a "}" in column 0 and indents everything inside: cut there
    # when the braces balance (a scan of every brace costs ~0.2 ms a kernel).
    end = body.find("\n}\n", opening)
    if end >= 0:
        text = body[start:end + 3]
        if text.count("{") == text.count("}"):
            return text
    depth = 0
    for m in _BRACE.finditer(body, opening):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            return body[start:m.end()] + "\n"
    raise ValueError(f"unbalanced braces after {signature!r}")


def helper_functions(body: str, module: types.ModuleType) -> str:
    """Forward device functions of the module's @wp.func helpers, in Warp's emission order."""
    import warp._src.context as ctx

    natives = set()
    for obj in module.__dict__.values():
        if isinstance(obj, ctx.Function):
            natives.update(f.native_func for f in _overloads(obj))
    if not natives:
        return ""   # no @wp.func in the source: skip scanning the module text
    out = []
    for m in _HELPER_DECL.finditer(body):
        if m.group(1) in natives:
            out.append(extract_function(body, m.group(1) + "("))
    return "\n".join(out)


def _overloads(func) -> list:
    found = [func]
    found += list(getattr(func, "user_overloads", {}).values())
    found += list(getattr(func, "user_templates", {}).values())
    return [f for f in found if getattr(f, "native_func", None)]


def ptx_entry(ptx: str, symbol: str, required: bool = True) -> str:
    """The ``.visible .entry {symbol}(`` function of NVRTC's PTX, to its closing brace ("" if absent)."""
    m = re.search(rf"^\.visible \.entry {re.escape(symbol)}\(", ptx, re.MULTILINE)
    if m is None:
        if required:
            raise KeyError(f"no .entry {symbol} in the PTX")
        return ""
    end = ptx.find("\n}\n", m.start())
    return ptx[m.start(): end + 3]


def ir_function(dump: str, symbol: str) -> str:
    """The ``define`` of ``@{symbol}`` (with its ``; Function Attrs`` comment) from LLVM's fd-2 dump."""
    for chunk in dump.split(IR_DUMP_HEADER):
        if re.search(rf"^define [^\n]*@{re.escape(symbol)}\(", chunk, re.MULTILINE):
            return chunk[: chunk.index("\n}\n") + 3]
    raise KeyError(f"no IR dump of @{symbol}")


def asm_function(disassembly: str, symbol: str) -> str:
    """The ``<{symbol}>:`` block of objdump's disassembly."""
    m = re.search(rf"^<{re.escape(symbol)}>:\n", disassembly, re.MULTILINE)
    if m is None:
        raise KeyError(f"no <{symbol}> in the disassembly")
    end = disassembly.find("\n\n", m.end())
    return disassembly[m.start(): end + 1 if end >= 0 else len(disassembly)]
