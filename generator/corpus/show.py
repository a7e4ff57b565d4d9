"""``warp-ir-pairs show``: one pair, Python and IR side by side (syntax-highlighted on a terminal)."""

from __future__ import annotations

import sys

from ..release import read

_LEXERS = {"ir_code": "cpp", "ir_backward": "cpp", "ir_functions": "cpp", "cuda_ir_code": "cuda",
           "cuda_ir_backward": "cuda", "cuda_ir_functions": "cuda", "ptx": "nasm", "asm": "gas",
           "ir_llvm": "llvm", "example_io": "json"}


def record_from_release(root: str, config: str | None, index: int) -> dict:
    """The record with ``index`` of ``config`` (default: the first) in a release folder."""
    return read.find_record(root, config, index)


def print_pair(record: dict, field: str = "ir_code") -> None:
    from rich.columns import Columns
    from rich.console import Console
    from rich.panel import Panel
    from rich.syntax import Syntax

    if field not in record:
        raise ValueError(f"no field {field!r}; fields: {', '.join(record)}")
    console = Console()
    title = f"{record['id']}  {record['category']}  complexity {record['complexity']}  verify {record['verify']}"
    console.print(title, markup=False, highlight=False, soft_wrap=True)
    ir = record[field] or f"({field} is empty for this record)"
    if not console.is_terminal:   # plain, unwrapped text for pipes and files
        sys.stdout.write(f"{record['python_source']}\n----- {field} -----\n{ir}\n")
        return
    width = max(40, console.width // 2 - 2)
    left = Panel(Syntax(record["python_source"], "python", word_wrap=True), title="python_source", width=width)
    right = Panel(Syntax(ir, _LEXERS.get(field, "text"), word_wrap=True), title=field, width=width)
    console.print(Columns([left, right]))
