"""A kernel's structure: its source with identifiers and literal values abstracted.

Two kernels that differ only in names or constants have the same structure, hence the same
``structure_hash`` and the same split. Names that belong to Warp or Python (``wp.sin``,
``wp.vec3``, ``range``, keywords) are kept: they are part of the program's shape.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize

SPLITS: tuple[tuple[str, int], ...] = (("train", 90), ("validation", 5), ("test", 5))
_PYTHON_NAMES = frozenset(dir(builtins)) | {"wp"}


def abstract_tokens(source: str) -> list[str]:
    """Token stream of ``source`` with user identifiers numbered by first use and literals typed.

    Numbering (``ID0``, ``ID1``...) keeps data flow: ``a = a + b`` and ``a = b + c`` differ.
    """
    out: list[str] = []
    ids: dict[str, str] = {}
    after_wp_dot = False
    prev = ""
    for tok in _tokens(source):
        kind, text = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NAME:
            if after_wp_dot or keyword.iskeyword(text) or text in _PYTHON_NAMES:
                out.append(text)
            else:
                out.append(ids.setdefault(text, f"ID{len(ids)}"))
        elif kind == tokenize.NUMBER:
            out.append("FLOAT" if any(c in text for c in ".eE") and not text.startswith("0x") else "INT")
        elif kind == tokenize.STRING:
            out.append("STR")
        elif kind == tokenize.NEWLINE:
            out.append("\n")
        else:
            out.append(text)  # operators, INDENT/DEDENT text
        after_wp_dot = text == "." and prev == "wp"
        prev = text
    return out


def _tokens(source: str):
    """Python tokens of ``source``; broken code (an ``errors`` record) ends in an ERRORTOKEN."""
    try:
        yield from tokenize.generate_tokens(io.StringIO(source).readline)
    except (tokenize.TokenError, IndentationError, SyntaxError) as e:
        yield tokenize.TokenInfo(tokenize.ERRORTOKEN, type(e).__name__, (0, 0), (0, 0), "")


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
