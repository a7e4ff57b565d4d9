"""Rewrite the generated blocks of README.md (between ``<!-- NAME:start -->`` / ``<!-- NAME:end -->``).

Usage: ``python dataset_card/update_readme.py [README.md]``. The schema table comes from the
one schema source; ``tests/record/test_schema.py`` fails when the README is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from warp_ir_pairs_generator.record import schema


def blocks() -> dict[str, str]:
    return {"schema": schema.markdown_table()}


def update(text: str) -> str:
    for name, content in blocks().items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README has no <!-- {name}:start --> ... <!-- {name}:end --> block")
        text = pattern.sub(lambda m, c=content: m.group(1) + c + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "README.md")
    path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
