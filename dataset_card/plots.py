"""PNG plots for the dataset card, drawn from figures computed from the data.

Every plot is deterministic for the same data: matplotlib's default style (not the user's
matplotlibrc), a fixed figure size and dpi, sorted inputs, and no ``Software`` metadata chunk
(the only varying text matplotlib writes into a PNG). Figures are built with the object API on
the Agg canvas, so nothing here touches pyplot's global state or the user's backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, PercentFormatter
from warp_ir_pairs_generator.release.manifest import atomic_write

FIGSIZE = (8.0, 4.5)
DPI = 100
# PNG text chunks: matplotlib adds "Software: matplotlib version ...", which would change the
# bytes on a matplotlib upgrade without any change in the data.
PNG_METADATA: dict[str, str | None] = {"Software": None}
# Histogram bins: about sqrt(records), within these bounds (few bins for tiny configs, detail for large).
MIN_BINS, MAX_BINS = 10, 40


@dataclass(frozen=True)
class Plot:
    """A written plot: its file name (inside ``plots/``) and the alt text the card shows."""

    filename: str
    alt: str


def _new_figure(height_scale: float = 1.0) -> Figure:
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * height_scale), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    # Through a temp file and a rename: a kill or a full disk leaves the previous plot, never a 0-byte PNG.
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, metadata=PNG_METADATA))


def category_counts(config: str, counts: Mapping[str, int], path: Path) -> None:
    """Horizontal bars: records per family (category) of one config, in the given order."""
    names = list(counts)
    values = [counts[n] for n in names]
    with style.context("default"):
        # Families differ per backend (10 seed families each), so one chart per config.
        fig = _new_figure(height_scale=max(1.0, len(names) / 18))
        ax = fig.add_subplot()
        y = np.arange(len(names))
        bars = ax.barh(y, values, color="tab:blue")
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=2)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()   # first family on top, as in the card's table
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("records")
        ax.set_title(f"{config}: records per family")
        _save(fig, path)


def _log_bins(series: Sequence[np.ndarray]) -> np.ndarray:
    """Shared log-spaced bin edges covering every series (lengths are ≥ 1)."""
    values = [s[s > 0] for s in series if s.size]
    values = [v for v in values if v.size]
    if not values:
        return np.array([1.0, 10.0])
    lo = min(int(v.min()) for v in values)
    hi = max(int(v.max()) for v in values)
    bins = int(np.clip(np.sqrt(sum(v.size for v in values)), MIN_BINS, MAX_BINS))
    return np.geomspace(lo, max(hi, lo + 1), bins + 1)


def _short_number(value: float, _pos: object = None) -> str:
    """Tick labels: 200, 5k, 100k, 2M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def length_histograms(lengths: Mapping[str, Mapping[str, np.ndarray]], fields: Sequence[str], path: Path) -> None:
    """One panel per field: histogram (log x) of its length in characters, one step line per config.

    ``lengths`` maps config -> field -> lengths of that field's non-empty values. Each config is
    drawn as a share of its own records, so configs of different sizes compare by shape.
    """
    with style.context("default"):
        fig = _new_figure(height_scale=1.0)
        axes = fig.subplots(1, len(fields), squeeze=False)[0]
        for ax, field_name in zip(axes, fields, strict=True):
            series = [lengths[c].get(field_name, np.array([], dtype=np.int64)) for c in lengths]
            bins = _log_bins(series)
            for config, values in zip(lengths, series, strict=True):
                if values.size:
                    ax.hist(values, bins=bins, weights=np.full(values.size, 100 / values.size), histtype="step",
                            linewidth=1.5, label=config)
            ax.set_xscale("log")   # lengths span orders of magnitude (one-liners to long kernels)
            # Plain numbers (1-2-5 steps over short ranges): matplotlib's default minor labels
            # (2×10², 3×10²...) collide.
            decades = np.log10(bins[-1] / bins[0])
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,)))
            ax.xaxis.set_major_formatter(FuncFormatter(_short_number))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_major_formatter(PercentFormatter())
            ax.set_xlabel(f"{field_name} length (characters)")
            ax.set_ylabel("share of the config's records")
            ax.set_title(field_name)
        axes[0].legend(fontsize=8)
        _save(fig, path)


def complexity(counts: Mapping[str, Mapping[int, int]], levels: Sequence[int], path: Path) -> None:
    """Grouped bars: share of each config's records per complexity level (configs differ in size)."""
    configs = list(counts)
    with style.context("default"):
        fig = _new_figure()
        ax = fig.add_subplot()
        x = np.arange(len(levels))
        width = 0.8 / max(1, len(configs))
        for i, config in enumerate(configs):
            total = sum(counts[config].values()) or 1
            ax.bar(x + (i - (len(configs) - 1) / 2) * width,
                   [100 * counts[config].get(level, 0) / total for level in levels], width=width, label=config)
        ax.set_xticks(x, [str(level) for level in levels])
        ax.yaxis.set_major_formatter(PercentFormatter())
        ax.set_xlabel("complexity level (1 = one-liners … 5 = long kernels)")
        ax.set_ylabel("share of the config's records")
        ax.set_title("records per complexity level")
        ax.legend(fontsize=8)
        _save(fig, path)
