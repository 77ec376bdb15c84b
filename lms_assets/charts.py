"""Small charts, drawn once for the Dagster UI and the course report: matplotlib PNGs.

matplotlib's ``Figure`` is used directly (no ``pyplot``): no global figure state, so
assets drawing in threads or in one process never share a canvas, and the Agg
backend needs no display. A chart is a PNG of a few tens of KB; the UI shows it as a
markdown image with a ``data:`` URI (Dagster's markdown keeps base64 images), the
report inlines the same URI, so neither needs a network.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Callable, Sequence

import dagster as dg
import matplotlib
import pandas as pd

matplotlib.use("Agg")  # before any canvas is made: no display on a server

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SIZE = (5.6, 2.2)  # inches; at DPI, 560 x 220 px: readable beside the UI's metadata table
DPI = 100
COLORS = ("#3b6ea8", "#e08a2c", "#4f9a58", "#c44e52", "#8172b2", "#937860", "#64b5cd")


def png(draw: Callable[[Axes], None], size: tuple[float, float] = SIZE) -> bytes:
    """The PNG of one axes that ``draw`` fills in."""
    figure = Figure(figsize=size, dpi=DPI)
    axes = figure.add_subplot()
    draw(axes)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    axes.title.set_fontsize(9)
    figure.tight_layout(pad=0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _short(label: object, width: int = 18) -> str:
    text = str(label)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def bars(
    labels: Sequence[object],
    values: Sequence[float],
    title: str,
    *,
    horizontal: bool = False,
    size: tuple[float, float] = SIZE,
    label_width: int = 18,
) -> bytes:
    """One bar per label (long labels cut from the left: course and block keys end in
    what tells them apart)."""
    names = [_short(label, label_width) for label in labels]

    def draw(axes: Axes) -> None:
        if horizontal:
            axes.barh(names[::-1], list(values)[::-1], color=COLORS[0])
        else:
            axes.bar(names, values, color=COLORS[0])
            if len(names) > 6:
                axes.tick_params(axis="x", labelrotation=45)
                for tick in axes.get_xticklabels():
                    tick.set_horizontalalignment("right")
        if all(float(v).is_integer() for v in values):  # counts: no 0.25 of a learner
            (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)

    return png(draw, size)


def lines(
    x: Sequence[object],
    series: dict[str, Sequence[float]],
    title: str,
    *,
    stacked: bool = False,
    size: tuple[float, float] = SIZE,
) -> bytes:
    """One line per series over ``x`` (dates, positions), or stacked areas."""

    def draw(axes: Axes) -> None:
        if stacked:
            axes.stackplot(x, *series.values(), labels=list(series), colors=COLORS)
        else:
            for (name, values), color in zip(series.items(), COLORS * 4, strict=False):
                axes.plot(x, values, label=name, color=color, linewidth=1.5)
        if len(series) > 1:
            axes.legend(fontsize=7, frameon=False, ncols=min(len(series), 4))
        axes.set_title(title)
        if len(x) and isinstance(x[0], dt.date):
            axes.figure.autofmt_xdate()

    return png(draw, size)


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def metadata_image(image: bytes, alt: str) -> dg.MetadataValue:
    """The chart as materialization metadata: a markdown image the UI renders inline."""
    return dg.MetadataValue.md(f"![{alt}]({data_uri(image)})")


def grouped_bars(
    frame: pd.DataFrame,
    by: str,
    value: str | None,
    title: str,
    *,
    top: int | None = None,
    horizontal: bool = False,
) -> dg.MetadataValue:
    """The UI chart of a written frame: ``value`` summed (or rows counted) per ``by``, the
    ``top`` largest only when given (else in ``by`` order)."""
    if frame.empty:
        return dg.MetadataValue.md("_no rows: no chart_")
    grouped = frame.groupby(by)[value].sum() if value else frame.groupby(by).size()
    grouped = grouped.sort_values(ascending=False).head(top) if top else grouped.sort_index()
    image = bars(list(grouped.index), [float(v) for v in grouped], title, horizontal=horizontal)
    return metadata_image(image, title)


def per_day_or_course(frame: pd.DataFrame, value: str | None, title: str) -> dg.MetadataValue:
    """A run of many days: the figure per day; a run of one day: per course (largest 12)."""
    days = frame["snapshot_date"].nunique() if not frame.empty else 0
    if days > 1:
        return grouped_bars(frame, "snapshot_date", value, f"{title} per day")
    return grouped_bars(frame, "course_id", value, f"{title} per course", top=12, horizontal=True)
