"""Score predicted IR against the records: exact text, native compile, CPU behaviour.

A model reads a record's ``python_source`` and predicts its ``ir_code`` (the kernel's forward
function as Warp emits it). ``score(records, predictions)`` puts every prediction through three
rungs and returns one ``Score`` per record; ``report(scores)`` aggregates them;
``read_predictions(path)`` reads the JSON-lines file a model writes. A broken prediction (garbage,
empty, wrong C++, a crash or a hang when run) is a scored failure, never an exception or a stall.

The room: ``normalize`` (``normalize_ir``, the file-directive check, first difference),
``score`` (cases, rungs, ``score``; the rungs are documented there), ``compare``
(``compare_outputs``), ``verdict`` (behaves judged from raw outputs: hidden trials, expected
outputs, degenerate outputs), ``report`` (``report``, ``read_predictions``), ``sandboxed``
(the items in ``sandbox`` workers, whose messages must follow their steps) and ``worker``
(compile, load and run a prediction; it reports raw outputs only).
"""

from .compare import ATOL, RTOL, compare_outputs
from .normalize import normalize_ir
from .report import read_predictions, report
from .score import HARNESS_ERROR, MISSING, RUNGS, Score, score

__all__ = ["ATOL", "HARNESS_ERROR", "MISSING", "RTOL", "RUNGS", "Score", "compare_outputs", "normalize_ir",
           "read_predictions", "report", "score"]
