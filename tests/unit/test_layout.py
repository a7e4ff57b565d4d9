"""The house rules that keep the layout honest: one door to Warp's private API, a Warp-free synthesizer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "generator"


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (lazy imports inside functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_only_the_toolchain_imports_warps_private_api():
    offenders = sorted(str(p.relative_to(ENGINE)) for p in ENGINE.rglob("*.py")
                       if "toolchain" not in p.relative_to(ENGINE).parts
                       and any(n == "warp._src" or n.startswith("warp._src.") for n in _imports(p)))
    assert offenders == [], f"import warp._src outside generator/toolchain/: {offenders}"


def test_the_synthesizer_never_imports_warp_or_the_toolchain():
    for path in (ENGINE / "synth").rglob("*.py"):
        bad = {n for n in _imports(path) if n == "warp" or n.startswith("warp.")}
        assert not bad, f"{path.relative_to(ENGINE)} imports {bad}"
        text = path.read_text(encoding="utf-8")
        assert "toolchain" not in {n.split(".")[0] for n in _relative_imports(path)}, path
        assert "from ..toolchain" not in text and "from ...toolchain" not in text, path


def test_the_synthesizer_never_imports_the_errors_task():
    """``mistakes`` is applied by the driver; synthesis must not depend on it (nor load it)."""
    for path in (ENGINE / "synth").rglob("*.py"):
        absolute = {n for n in _imports(path) if n.split(".")[-1] == "mistakes" or ".mistakes." in n}
        relative = {m for m in _relative_imports(path) if m.split(".")[0] == "mistakes"}
        assert not absolute and not relative and "import mistakes" not in path.read_text(encoding="utf-8"), path


def _relative_imports(path: Path) -> set[str]:
    return {node.module or "" for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.level > 0}


def test_synthesizing_every_backend_loads_no_warp_in_a_fresh_process():
    code = ("import sys\n"
            "from warp_ir_pairs_generator import synth\n"
            "from warp_ir_pairs_generator.options import GenerationOptions\n"
            "for b in ('cpu', 'cuda', 'paired', 'errors'):\n"
            "    o = GenerationOptions.from_config(b + '-tiny')\n"
            "    [synth.synthesize(o, i) for i in range(40)]\n"
            "print(sorted(m for m in sys.modules if m == 'warp' or m.startswith('warp.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
