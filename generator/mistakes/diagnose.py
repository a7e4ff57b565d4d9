"""Warp's verdict on a broken kernel: run its codegen (through ``toolchain``) and normalize the message.

The toolchain (and so Warp) is imported inside ``diagnose`` only: importing ``mistakes`` stays
Warp-free, so the driver can inject mistakes before it pays for Warp.
"""

from __future__ import annotations

import re

# Longest normalized diagnostic; the final reason (Warp's own words) is always kept whole.
MAX_DIAGNOSTIC = 500

MAX_REASON = 300

FILE_TOKEN = "<kernel>"

_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def normalize_diagnostic(message: str, filename: str) -> str:
    """Warp's (or Python's) message, independent of where the source was loaded from.

    The pseudo-filename (or a user's real path) becomes ``<kernel>``, object addresses are
    masked, whitespace collapses to single spaces, and Warp's chain of "Error while parsing
    function ... at <kernel>:LINE: <code>" segments (separated by ";") is kept before the
    final reason; when the whole exceeds ``MAX_DIAGNOSTIC`` characters the context is cut,
    never the reason.
    """
    text = message.replace(filename, FILE_TOKEN) if filename else message
    text = _ADDRESS.sub("0x…", text)
    segments = [" ".join(s.split()) for s in text.split("\n;")]
    segments = [s for s in segments if s]
    if not segments:
        return ""
    reason = segments[-1][:MAX_REASON]
    head = re.match(r"^\w+: ", segments[0]) if len(segments) > 1 else None
    if head:   # "RuntimeError: Error while ..." -> the class goes with the reason
        segments[0] = segments[0][head.end():]
        reason = head.group() + reason
    context = "; ".join(segments[:-1])
    if not context:
        return reason[:MAX_DIAGNOSTIC]
    room = MAX_DIAGNOSTIC - len(reason) - 3
    if len(context) > room:
        context = context[:max(room - 2, 0)].rstrip() + " …"
    return f"{reason} | {context}" if context else reason


def diagnose(source: str, kernel_name: str, backend: str = "cpu") -> str | None:
    """Warp's normalized diagnostic for ``source``, or None when Warp accepts it."""
    from ..toolchain import codegen

    codegen.warp()

    filename = f"<{kernel_name}>"     # how toolchain.codegen loads kernels (the name of the linecache entry)
    try:
        codegen.emit(source, kernel_name, backend)   # cleans up after itself, also on failure
    except codegen.KernelRejected as e:
        # emit raises "from None": the exception Warp (or compile) raised is still the context.
        error: BaseException = e.__context__ if isinstance(e.__context__, Exception) else e
    else:
        return None
    return normalize_diagnostic(_describe(error), filename)


def _describe(error: BaseException) -> str:
    """``ClassName: message`` as the last line of a traceback shows it."""
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])   # KeyError's str() is the repr of its argument
    else:
        text = str(error)
    return f"{type(error).__name__}: {text}"
