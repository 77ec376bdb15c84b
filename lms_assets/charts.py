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
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SIZE = (5.6, 2.2)  # inches; at DPI, 560 x 220 px: readable beside the UI's metadata table
DPI = 100
COLORS = ("#3b6ea8", "#e08a2c", "#4f9a58", "#c44e52", "#8172b2", "#937860", "#64b5cd")


def png(
    draw: Callable[[Axes], None],
    size: tuple[float, float] = SIZE,
    *,
    left: float = 0.09,
    bottom: float = 0.14,
    font: float = 8,
) -> bytes:
    """The PNG of one axes that ``draw`` fills in. Margins are fixed (in inches, so any
    size keeps them): tight_layout measured every label again, a third of a chart's time."""
    figure = Figure(figsize=size, dpi=DPI)
    axes = figure.add_subplot()
    draw(axes)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=font, length=font / 2)
    axes.title.set_fontsize(font + 1)
    width, height = size
    top = 1 - (0.3 * font / 8 if axes.get_title() else 0.08) / height
    figure.subplots_adjust(left=left, right=1 - 0.15 / width, bottom=bottom, top=top)
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
    font: float = 8,
    ticks: int | None = None,
) -> bytes:
    """One bar per label (long labels cut from the left: course and block keys end in
    what tells them apart). ``ticks``: at most that many labels on each axis (0: none)."""
    names = [_short(label, label_width) for label in labels]
    longest = max((len(n) for n in names), default=1) if ticks != 0 else 0
    rotated = not horizontal and len(names) > 6 and ticks is None
    # Positions, not the labels, place the bars: two labels cut alike stay two bars.
    positions = list(range(len(names)))[::-1] if horizontal else list(range(len(names)))

    def draw(axes: Axes) -> None:
        (axes.barh if horizontal else axes.bar)(positions, values, color=COLORS[0])
        value_axis, label_axis = (
            (axes.xaxis, axes.yaxis) if horizontal else (axes.yaxis, axes.xaxis)
        )
        step = -(-len(names) // ticks) if ticks else 1
        label_axis.set_ticks(positions[::step], names[::step])
        integers = all(float(v).is_integer() for v in values)  # counts: no 0.25 of a learner
        value_axis.set_major_locator(MaxNLocator(nbins=3 if ticks else "auto", integer=integers))
        if rotated:
            axes.tick_params(axis="x", labelrotation=45)
            for tick in axes.get_xticklabels():
                tick.set_horizontalalignment("right")
        if ticks == 0:
            axes.set_axis_off()
        axes.set_title(title)

    # Room for the labels: ~0.065 inch per character at 8 pt.
    scale = font / 8
    left = (0.15 + 0.065 * scale * longest) / size[0] if horizontal else 0.3 * scale / size[0]
    bottom = (0.2 + 0.045 * scale * longest) / size[1] if rotated else 0.3 * scale / size[1]
    return png(draw, size, left=min(left, 0.5), bottom=min(bottom, 0.6), font=font)


def lines(
    x: Sequence[object],
    series: dict[str, Sequence[float]],
    title: str,
    *,
    stacked: bool = False,
    size: tuple[float, float] = SIZE,
) -> bytes:
    """One line per series over ``x`` (dates, positions), or stacked areas. A single x (one
    day stored) is drawn as bars, since a line or an area of one point is invisible."""

    def draw(axes: Axes) -> None:
        if len(x) == 1:
            bottom = 0.0
            for (name, values), color in zip(series.items(), COLORS * 4, strict=False):
                axes.bar([str(x[0])], [values[0]], 0.3, bottom=bottom, label=name, color=color)
                bottom += float(values[0]) if stacked else 0.0
            axes.set_xlim(-1, 1)
        elif stacked:
            axes.stackplot(x, *series.values(), labels=list(series), colors=COLORS)
        else:
            for (name, values), color in zip(series.items(), COLORS * 4, strict=False):
                axes.plot(x, values, label=name, color=color, linewidth=1.5)
        if len(series) > 1:
            axes.legend(fontsize=7, frameon=False, ncols=min(len(series), 4))
        axes.set_title(title)
        if len(x) > 1 and isinstance(x[0], dt.date):
            axes.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
            axes.xaxis.set_major_formatter(DateFormatter("%m-%d"))

    return png(draw, size)


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def metadata_image(image: bytes, alt: str) -> dg.MetadataValue:
    """A chart as a markdown image (the UI shows it behind "Show Markdown" when long)."""
    return dg.MetadataValue.md(f"![{alt}]({data_uri(image)})")


# Dagster 1.13's UI renders markdown metadata shorter than 1,000 characters in place, and
# longer markdown behind a "[Show Markdown]" button: the chart people see at a glance must
# fit, so it is a small two-colour PNG (~550 bytes, few labels, its title in the metadata
# key's neighbour); the full-size one, titled, sits beside it as chart_large.
INLINE_MARKDOWN_LIMIT = 1000
THUMBNAIL = (3.0, 1.0)  # inches at DPI


def _two_colours(image: bytes) -> bytes:
    from PIL import Image  # matplotlib's own dependency

    small = Image.open(io.BytesIO(image)).convert("RGB").quantize(colors=2)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True, bits=1)
    return out.getvalue()


def chart_metadata(
    labels: Sequence[object], values: Sequence[float], title: str, *, horizontal: bool = False
) -> dict[str, dg.MetadataValue]:
    """``chart`` (small, shown in place, with fewer labels until it fits) and
    ``chart_large`` (full size, titled, behind the UI's button) of one bar chart."""
    large = metadata_image(bars(labels, values, title, horizontal=horizontal), title)
    for ticks, width in ((5, 10), (3, 8), (0, 0)):
        image = bars(
            labels,
            values,
            "",
            horizontal=horizontal,
            size=THUMBNAIL,
            font=6,
            label_width=width,
            ticks=ticks,
        )
        inline = f"![{title}]({data_uri(_two_colours(image))})"
        if len(inline) < INLINE_MARKDOWN_LIMIT:
            return {"chart": dg.MetadataValue.md(inline), "chart_large": large}
    return {"chart": large}


def grouped_bars(
    frame: pd.DataFrame,
    by: str,
    value: str | None,
    title: str,
    *,
    top: int | None = None,
    horizontal: bool = False,
) -> dict[str, dg.MetadataValue]:
    """The UI charts of a written frame: ``value`` summed (or rows counted) per ``by``, the
    ``top`` largest only when given (else in ``by`` order)."""
    if frame.empty:
        return {"chart": dg.MetadataValue.md("_no rows: no chart_")}
    grouped = frame.groupby(by)[value].sum() if value else frame.groupby(by).size()
    grouped = grouped.sort_values(ascending=False).head(top) if top else grouped.sort_index()
    labels = [d.strftime("%m-%d") if isinstance(d, dt.date) else d for d in grouped.index]
    return chart_metadata(labels, [float(v) for v in grouped], title, horizontal=horizontal)


def per_day_or_course(
    frame: pd.DataFrame, value: str | None, title: str
) -> dict[str, dg.MetadataValue]:
    """A run of many days: the figure per day; a run of one day: per course (largest 12)."""
    days = frame["snapshot_date"].nunique() if not frame.empty else 0
    if days > 1:
        return grouped_bars(frame, "snapshot_date", value, f"{title} per day")
    return grouped_bars(frame, "course_id", value, f"{title} per course", top=12, horizontal=True)
