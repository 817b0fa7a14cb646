"""Figure helpers of the report pages: readable series names, distinguishable line styles,
labelled τ ticks, and :func:`show`, which renders a figure and records whether every panel
with more than one series has a legend (the HTML test reads that record).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

#: gid of reference lines (chance level, diagonal): drawn for orientation, not data series.
REFERENCE = "reference"
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "x", "P", "*")


def styles() -> Iterator[dict[str, Any]]:
    """Endless distinct (line style, marker) pairs, so overlapping series stay apart."""
    for style, marker in zip(itertools.cycle(LINE_STYLES), itertools.cycle(MARKERS)):
        yield {"ls": style, "marker": marker, "markersize": 4}


def reference_line(ax: Axes, *args: Any, horizontal: bool = False, **kwargs: Any) -> None:
    """A dotted black guide line (chance level, diagonal) that is not a data series."""
    kwargs = {"color": "k", "ls": ":", "lw": 1, "gid": REFERENCE} | kwargs
    if horizontal:
        ax.axhline(*args, **kwargs)
    else:
        ax.plot(*args, **kwargs)


def setting_label(params: Mapping[str, Any]) -> str:
    """002 controlled setting as a reader names it (not the config key)."""
    experiment = "linear W" if params.get("experiment") == "linear" else params.get("experiment")
    norm = "" if params.get("normalise", True) else ", no ℓ2 norm"
    return (
        f"{experiment}, {params.get('space')}, d_c = {params.get('content_dims')}, "
        f"τ_c = {params.get('tau_content'):g}, τ_s = {params.get('tau_style'):g}{norm}"
    )


def temperature_axis(ax: Axes, temperatures: Sequence[float]) -> None:
    """Log τ axis with exactly the swept temperatures as labelled ticks."""
    ax.set_xscale("log")
    values = sorted(set(float(t) for t in temperatures))
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if len(values) > 1:
        ax.set_xlim(values[0] / 1.5, values[-1] * 1.5)


def class_axis(ax: Axes, names: Sequence[str], axis: str = "y") -> None:
    """Class names as the tick labels of ``axis`` (instead of class indices)."""
    positions = range(len(names))
    if axis == "y":
        ax.set_yticks(positions, labels=list(names), fontsize=7)
    else:
        ax.set_xticks(positions, labels=list(names), fontsize=7, rotation=45, ha="right")


def data_series(ax: Axes) -> int:
    """Plotted data series of a panel: lines, collections and images, reference lines aside."""
    artists = [*ax.lines, *ax.collections, *ax.images]
    return sum(1 for artist in artists if artist.get_gid() != REFERENCE)


def _unexplained(ax: Axes) -> bool:
    """A colourbar without a label, or a panel with several data series and no legend."""
    colourbar = getattr(ax, "_colorbar", None)
    if colourbar is not None:
        return not colourbar.ax.get_ylabel() and not colourbar.ax.get_xlabel()
    return ax.get_legend() is None and data_series(ax) > 1


def series_without_legend(fig: Figure) -> int:
    """Panels a reader cannot decode: several series and no legend, or an unlabelled colourbar."""
    return sum(1 for ax in fig.axes if _unexplained(ax))


def audit_html(fig: Figure) -> str:
    """A hidden marker the HTML test reads: the count of panels lacking a legend."""
    return (
        f'<span class="figure-audit" data-panels-without-legend="{series_without_legend(fig)}"'
        " hidden></span>"
    )


def show(fig: Figure) -> None:
    """Lay out, render and close ``fig``, followed by its legend audit."""
    from IPython.display import HTML, display

    fig.tight_layout()
    plt.show()
    display(HTML(audit_html(fig)))
    plt.close(fig)
