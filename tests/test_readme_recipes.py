"""The README's recipes run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_reverse_direction_and_execution_prediction_recipes_run(tmp_path, monkeypatch):
    block = re.search(r"<!-- recipe:start -->\n```python\n(.*?)```\n<!-- recipe:end -->",
                      README.read_text(encoding="utf-8"), re.S)
    assert block, "README lost its recipe block"
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README recipe", "exec"), {"__name__": "recipe"})
