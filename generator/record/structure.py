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
    append = out.append
    ids: dict[str, str] = {}
    depth = 0
    after_wp_dot = False
    prev = ""
    keep_names = _KEEP
    for m in _TOKEN.finditer(source):
        kind = m.lastgroup
        if kind == "comment" or kind == "space":
            continue
        text = m.group()
        if kind == "newline":
            if depth == 0 and out and not out[-1].startswith("NL"):
                append("NL" + text.rsplit("\n", 1)[1])
            continue
        if kind == "name":
            if after_wp_dot or text in keep_names:
                append(text)
            else:
                name = ids.get(text)
                if name is None:
                    name = ids[text] = f"ID{len(ids)}"
                append(name)
        elif kind == "number":
            is_float = ("." in text or "e" in text or "E" in text) and text[:2] not in ("0x", "0X")
            append("FLOAT" if is_float else "INT")
        elif kind == "string":
            append("STR")
        else:
            if kind == "op":
                if text in "([{":
                    depth += 1
                elif text in ")]}" and depth > 0:
                    depth -= 1
            append(text)
        after_wp_dot = prev == "wp" and text == "."
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
