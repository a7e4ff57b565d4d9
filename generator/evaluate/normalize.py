"""Rung 1's text work: the canonical form of IR for exact matching, and where two texts differ.

Also the file-directive check the compiles rung runs before handing a prediction to clang.
"""

from __future__ import annotations

import re

# Directives that read files. Warp never emits a preprocessor directive inside a function, and
# `#include "/dev/urandom"` would make clang read (and buffer) forever, so a prediction with one
# fails the compiles rung without being compiled.
_FILE_DIRECTIVES = ("include", "include_next", "import", "embed")

_TOKEN = re.compile(r"""
      (?P<comment> //[^\n]* | /\*.*?\*/ )
    | (?P<literal> "(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*' )
    | (?P<ident> [A-Za-z_]\w* )
    | (?P<number> \.?\d(?:[eEpP][+-]|[\w.])* )
    | (?P<punct> ::|->\*?|\.\*|\+\+|--|<<=|>>=|<=>|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|\.\.\.|\#\# | \S )
""", re.VERBOSE | re.DOTALL)
# The kernel's content hash, where Warp spells it: `<key>_<hash>_{cpu,cuda}_kernel_{forward,backward}`
# and the argument struct `wp_args_<key>_<hash>`.
_HASH_SITES = re.compile(r"_([0-9a-f]{8})_(?:cpu|cuda)_kernel_(?:forward|backward)$|^wp_args_\w+_([0-9a-f]{8})$")
# A ``@wp.struct``'s native name, ``<Name>_<hash>`` (``Params_1701fb21``; its adjoint
# ``adj_Params_1701fb21``): Warp hashes the struct's fields, which a model cannot be asked to do
# either. No other identifier Warp emits ends in 8 hex digits (its counters are short decimals).
_STRUCT_SITE = re.compile(r"^[A-Za-z_]\w*?_([0-9a-f]{8})$")
# Warp's per-function counters: `var_N` (primal) and `adj_N` (its adjoint) share N; the block
# labels `start_for_N`/`end_for_N`/`start_while_N`/..., return labels `labelN` and helper names
# `_wp_continue_N`/`_wp_ref_view_N` share Adjoint.label_count.
_VAR = re.compile(r"(var|adj)_(\d+)")
_LABEL = re.compile(r"((?:start|end)_(?:for|while)_|block_|label|_wp_continue_|_wp_ref_view_)(\d+)")


def normalize_ir(text: str) -> str:
    """The canonical form exact matching compares: Warp's IR with its incidental parts removed.

    * Comments go: ``// ...`` and ``/* ... */``, so Warp's echo of each Python statement and its
      ``<L n>`` source-line tag, which shift with the source's layout, do not count. String and
      character literals are kept whole (a ``//`` inside ``"..."`` is not a comment).
    * Whitespace is insignificant: the text is split into C++ tokens (identifiers, numbers,
      literals, multi-character operators such as ``::``, ``->``, ``<<=``) joined by one space,
      so indentation, line breaks and spacing (``f(a,b)`` vs ``f(a, b)``) do not count.
    * The kernel's 8-hex content hash (``name_<hash>_cpu_kernel_forward``, ``wp_args_name_<hash>``)
      becomes ``_h0`` (``_h1``... for further hashes, by first appearance): it hashes the source and
      options, not something a model can be asked to compute. So do the hashes in ``@wp.struct``
      type names (``Params_1701fb21``, ``adj_Params_1701fb21``), in the same sequence.
    * Warp's numbering is renumbered by first appearance: ``var_N``/``adj_N`` (one sequence, as
      ``adj_N`` is the adjoint of ``var_N``) and the labels and helper names of Warp's label
      counter (``start_for_N``, ``end_while_N``, ``labelN``, ``_wp_continue_N``, ...). So only the
      order and use of the variables counts, not which numbers Warp happened to give them.

    Everything else (names, constants, types, statement order) must match token for token.
    """
    return " ".join(_normal_tokens(text))


def _normal_tokens(text: str) -> list[str]:
    tokens = [m.group() for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]
    hashes: dict[str, str] = {}
    for tok in tokens:
        m = _HASH_SITES.search(tok)
        if m:
            h = m.group(1) or m.group(2)
            hashes.setdefault(h, f"h{len(hashes)}")
        elif not _VAR.fullmatch(tok) and (m := _STRUCT_SITE.match(tok)):
            hashes.setdefault(m.group(1), f"h{len(hashes)}")
    hash_sub = re.compile(r"_(" + "|".join(hashes) + r")(?![0-9A-Za-z])") if hashes else None
    var_ids: dict[str, int] = {}
    label_ids: dict[str, int] = {}
    out = []
    for tok in tokens:
        if not (tok[0].isalpha() or tok[0] == "_"):
            out.append(tok)
            continue
        if hash_sub is not None:
            tok = hash_sub.sub(lambda m: "_" + hashes[m.group(1)], tok)
        m = _VAR.fullmatch(tok)
        if m:
            tok = f"{m.group(1)}_{var_ids.setdefault(m.group(2), len(var_ids))}"
        else:
            m = _LABEL.fullmatch(tok)
            if m:
                tok = f"{m.group(1)}{label_ids.setdefault(m.group(2), len(label_ids))}"
        out.append(tok)
    return out


def file_directive(text: str) -> str | None:
    """The first file-reading directive in ``text`` (``#include``...), however it is spelled.

    Looks at tokens, after line splices are joined and comments dropped, so ``#/**/include``,
    ``# \\<newline> include`` and the digraph ``%:include`` are found too; ``"#include"`` in a
    string literal is not a directive.
    """
    tokens = [m.group() for m in _TOKEN.finditer(re.sub(r"\\\r?\n", "", text)) if m.lastgroup != "comment"]
    for k, tok in enumerate(tokens):
        after = k + 1 if tok == "#" else k + 2 if tok == "%" and tokens[k + 1:k + 2] == [":"] else None
        if after is not None and tokens[after:after + 1] and tokens[after] in _FILE_DIRECTIVES:
            return tokens[after]
    return None


def first_difference(want: str, got: str) -> str:
    """Where two IR texts first differ after normalization, for the one-line detail."""
    a, b = _normal_tokens(want), _normal_tokens(got)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"token {i}: expected {x!r}, got {y!r} (after {' '.join(a[max(0, i - 4):i])!r})"
    if len(a) > len(b):
        return f"prediction ends at token {len(b)} of {len(a)}"
    return f"prediction has {len(b) - len(a)} extra tokens after token {len(a)}"
