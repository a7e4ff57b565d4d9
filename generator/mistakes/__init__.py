"""Broken kernels for diagnose-and-repair data: one realistic mistake in a valid kernel.

Each mistake is a small, local edit of a kernel that Warp accepts (a synthesized one), chosen
to look like what a person or a model actually gets wrong, and each kind below is one that
Warp 1.19 (or Python) really rejects. ``inject`` picks a kind that applies to the kernel;
``diagnose`` runs Warp on the broken source and returns its message, normalized so it does
not depend on where the source was loaded from.

The kinds and how each is made are listed in ``kinds``. The mutation code is pure Python
(``ast`` for finding sites, text edits of single lines for changing them, so the rest of the
source keeps its exact formatting); only ``diagnose`` runs Warp, and it imports the toolchain
lazily.

Modules: ``analysis`` (parse a kernel, infer types, find live code, edit single lines),
``typing_mistakes``/``name_mistakes``/``construct_mistakes`` (the kinds), ``kinds`` (``MISTAKES``,
``inject``), ``diagnose`` (Warp's normalized message).
"""

from __future__ import annotations

from .construct_mistakes import kernel_returns_value, syntax_error, unsupported_construct
from .diagnose import FILE_TOKEN, MAX_DIAGNOSTIC, MAX_REASON, diagnose, normalize_diagnostic
from .kinds import MISTAKES, Mistake, inject
from .name_mistakes import undefined_name, unknown_builtin, wrong_arg_count
from .typing_mistakes import constant_mutation, missing_annotation, type_mismatch

__all__ = [
    "FILE_TOKEN", "MAX_DIAGNOSTIC", "MAX_REASON", "MISTAKES", "Mistake", "constant_mutation", "diagnose", "inject",
    "kernel_returns_value", "missing_annotation", "normalize_diagnostic", "syntax_error", "type_mismatch",
    "undefined_name", "unknown_builtin", "unsupported_construct", "wrong_arg_count",
]
