"""A kernel's structure: its source with identifiers and literal values abstracted.

Two kernels that differ only in names or constants have the same structure, hence the same
``structure_hash`` and the same split. Names that belong to Warp or Python (``wp.sin``,
``wp.vec3``, ``range``, keywords) are kept: they are part of the program's shape.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re

SPLITS: tuple[tuple[str, int], ...] = (("train", 90), ("validation", 5), ("test", 5))
# Names that are part of a program's shape, not user identifiers.
_KEEP = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"wp"}


# One regex pass instead of the tokenize module (5x faster; structure hashing runs for every
# draw). Alternatives are tried in order: comments, strings (with prefixes), numbers, names,
# a newline with the next line's indentation, operators, other whitespace.
_Q3S, _Q3D = "'" * 3, '"' * 3   # triple quotes, spelled out to keep this regex readable
_TOKEN = re.compile("|".join((
    r"(?P<comment>#[^\n]*)",
    r"(?P<string>[rRbBfFuU]{0,2}(?:" + _Q3S + r"[\s\S]*?" + _Q3S + "|" + _Q3D + r"[\s\S]*?" + _Q3D
    + r"|'(?:\\.|[^'\\\n])*'" + r'|"(?:\\.|[^"\\\n])*"))',
    r"(?P<number>0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?[jJ]?)",
    r"(?P<name>[A-Za-z_]\w*)",
    r"(?P<newline>(?:\n[ \t]*)+)",
    r"(?P<op>\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%@&|^<>!=]=|[-+*/%@&|^~<>=.,:;()\[\]{}])",
    r"(?P<space>[ \t\\]+)",
    r"(?P<other>.)",
)))


def abstract_tokens(source: str) -> list[str]:
    """Token stream of ``source`` with user identifiers numbered by first use and literals typed.

    Numbering (``ID0``, ``ID1``...) keeps data flow: ``a = a + b`` and ``a = b + c`` differ.
    A logical line ends in a ``NL<indent>`` token, so indentation (block structure) counts;
    newlines inside brackets and comment-only lines do not.
    """
    out: list[str] = []
    ids: dict[str, str] = {}
    depth = 0
    after_wp_dot = False
    prev = ""
    for m in _TOKEN.finditer(source):
        kind, text = m.lastgroup, m.group()
        if kind in ("comment", "space"):
            continue
        if kind == "newline":
            if depth == 0 and out and not out[-1].startswith("NL"):
                out.append("NL" + text.rsplit("\n", 1)[1])
            continue
        if kind == "name":
            keep = after_wp_dot or text in _KEEP
            out.append(text if keep else ids.setdefault(text, f"ID{len(ids)}"))
        elif kind == "number":
            out.append("FLOAT" if any(c in text for c in ".eE") and not text[:2].lower() == "0x" else "INT")
        elif kind == "string":
            out.append("STR")
        else:
            depth += text in "([{" and kind == "op"
            depth -= text in ")]}" and kind == "op" and depth > 0
            out.append(text)
        after_wp_dot = text == "." and prev == "wp"
        prev = text
    return out


def structure_hash(source: str) -> str:
    """16-hex sha256 of the abstracted token stream."""
    return hashlib.sha256("\x1f".join(abstract_tokens(source)).encode()).hexdigest()[:16]


def split_of(structure: str) -> str:
    """The split a structure hash belongs to (≈ 90/5/5), fixed by the hash alone."""
    bucket = int(structure, 16) % 100
    for name, share in SPLITS:
        if bucket < share:
            return name
        bucket -= share
    raise AssertionError("split shares must sum to 100")


SPLIT_NAMES: tuple[str, ...] = tuple(name for name, _ in SPLITS)
