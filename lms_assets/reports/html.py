"""The course report: the default tasks of one course and day as ONE self-contained HTML file.

Inline CSS, charts as inline PNG ``data:`` URIs (charts.py), no script, no font, no
link to fetch: the file opens anywhere, offline, and can be mailed as it is. Every
section answers one question; a section without data says so (``data-empty``).
"""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lms_assets import charts
from lms_assets.reports import tasks
from lms_assets.warehouse import WarehouseResource

TABLE_ROWS = 10  # rows of a section's table shown in the page (the CLI gives them all)
VIDEOS_DRAWN = 6  # drop-off lines in one chart
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
header{background:#243b53;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#bcccdc}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:16px;
padding:16px 32px}
section{background:#fff;border-radius:6px;padding:12px 18px;box-shadow:0 1px 3px #0002}
section h2{font-size:16px;margin:0 0 2px}section p.q{margin:0 0 8px;color:#52606d}
img{max-width:100%;display:block}table{border-collapse:collapse;font-size:12px;width:100%}
th,td{padding:3px 6px;border-bottom:1px solid #e4e7eb;text-align:left}
th{background:#f0f4f8}td.pass{color:#2f8132}td.fail{color:#c44e52;font-weight:bold}
td.warn,td.no.rows{color:#b7791f}.empty{color:#9aa5b1;font-style:italic}
.scroll{overflow-x:auto}td{overflow-wrap:break-word}
footer{padding:8px 32px 24px;color:#7b8794;font-size:12px}
"""


@dataclass
class Section:
    key: str
    title: str
    question: str
    images: list[bytes] = field(default_factory=list)
    table: pd.DataFrame | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.table is None or self.table.empty

    def html(self) -> str:
        parts = [
            f'<section id="{self.key}" data-empty="{str(self.empty).lower()}">',
            f"<h2>{html.escape(self.title)}</h2>",
            f'<p class="q">{html.escape(self.question)}</p>',
        ]
        if self.empty:
            parts.append('<p class="empty">No data stored for this course up to this day.</p>')
        else:
            parts += [
                f'<img alt="{html.escape(self.title)}" src="{charts.data_uri(i)}">'
                for i in self.images
            ]
            parts.append(_table(self.table))
        if self.note:
            parts.append(f'<p class="q">{html.escape(self.note)}</p>')
        parts.append("</section>")
        return "\n".join(parts)


def _table(frame: pd.DataFrame) -> str:
    shown = frame.head(TABLE_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for column, value in zip(shown.columns, row, strict=True):
            text = (
                "NULL" if value is None or (isinstance(value, float) and pd.isna(value)) else value
            )
            css = f' class="{html.escape(str(value))}"' if column == "status" else ""
            cells.append(f"<td{css}>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="q">{len(frame) - TABLE_ROWS} more rows: lms-assets analyze gives them all.</p>'
        if len(frame) > TABLE_ROWS
        else ""
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>{more}'


def _short(video_id: str) -> str:
    return video_id.rsplit("@", 1)[-1][-24:]


def sections(warehouse: WarehouseResource, course: str, day: dt.date) -> list[Section]:
    """Every section of the report, each from its task."""
    with tasks.one_read_each():
        run = {name: task.run(warehouse, course, day) for name, task in tasks.TASKS.items()}
    out: list[Section] = []

    enrolled = run["enrollment_over_time"]
    out.append(
        Section(
            "enrollment",
            "Enrollment over time",
            "How many learners have enrolled, day by day?",
            [charts.lines(list(enrolled["date"]), {"enrolled": enrolled["enrolled"]}, "enrolled")]
            if not enrolled.empty
            else [],
            enrolled.iloc[::-1],
        )
    )
    active = run["daily_active_learners"]
    out.append(
        Section(
            "active",
            "Daily active learners",
            "How many learners did something in the course each day?",
            [
                charts.lines(
                    list(active["date"]),
                    {"active learners": active["active_learners"]},
                    "learners with events",
                )
            ]
            if not active.empty
            else [],
            active.iloc[::-1],
        )
    )
    weekly = run["activity_by_type"]
    out.append(
        Section(
            "activity",
            "Activity by type",
            "What do learners do, week by week?",
            [
                charts.lines(
                    list(weekly["week"]),
                    {c: weekly[c] for c in [*tasks.ACTIVITY_TYPES, "other"]},
                    "events per week",
                    stacked=True,
                    size=(5.6, 2.6),
                )
            ]
            if not weekly.empty
            else [],
            weekly.iloc[::-1],
        )
    )
    videos = run["videos"]
    top = videos.head(12)
    out.append(
        Section(
            "videos",
            "Video engagement",
            f"Which videos are watched, and to the end? (last {tasks.WINDOW_DAYS} days)",
            [
                charts.bars(
                    [_short(v) for v in top["video_id"]],
                    top["completion_pct"].tolist(),
                    "% of viewers reaching 90% (most watched videos)",
                    horizontal=True,
                    size=(5.6, 2.8),
                )
            ]
            if not videos.empty
            else [],
            videos,
        )
    )
    drop = run["video_drop_off"]
    drawn = list(videos["video_id"].head(VIDEOS_DRAWN))
    series = {_short(v): drop[drop["video_id"] == v]["still_watching_pct"].tolist() for v in drawn}
    out.append(
        Section(
            "dropoff",
            "Drop-off along each video",
            "Where along a video do viewers stop?",
            [
                charts.lines(
                    list(tasks.DROP_OFF_STEPS),
                    series,
                    "% of viewers still watching at % of the video",
                    size=(5.6, 2.6),
                )
            ]
            if series
            else [],
            drop[drop["video_id"].isin(drawn)]
            .pivot(index="video_id", columns="position_pct", values="still_watching_pct")
            .reset_index()
            if not drop.empty
            else drop,
        )
    )
    problems = run["problem_performance"]
    hardest = problems.dropna(subset=["first_try_success_pct"]).head(10)
    out.append(
        Section(
            "problems",
            "Problem performance",
            f"Which problems are hardest? (last {tasks.WINDOW_DAYS} days)",
            [
                charts.bars(
                    [p[-20:] for p in hardest["problem_id"]],
                    hardest["first_try_success_pct"].tolist(),
                    "first-try success % (hardest problems)",
                    horizontal=True,
                    size=(5.6, 2.8),
                )
            ]
            if not hardest.empty
            else [],
            problems,
        )
    )
    grades, completion = run["grade_distribution"], run["completion_distribution"]
    out.append(
        Section(
            "grades",
            "Grade and completion distributions",
            "How are grades and completion spread over the learners?",
            [
                charts.bars(grades["grade"], grades["learners"].tolist(), "learners per grade"),
                charts.bars(
                    completion["completion"],
                    completion["learners"].tolist(),
                    "learners per completion %",
                ),
            ],
            grades.merge(
                completion.rename(columns={"completion": "grade", "learners": "by_completion"}),
                on="grade",
            ).rename(columns={"grade": "bucket", "learners": "by_grade"})
            if grades["learners"].sum() or completion["learners"].sum()
            else None,
        )
    )
    risk = run["learners_at_risk"]
    reasons = risk["reasons"].str.split("; ").explode().value_counts() if not risk.empty else None
    out.append(
        Section(
            "risk",
            "Learners at risk",
            "Who may need a nudge, and why? (pseudonymous ids)",
            [
                charts.bars(
                    list(reasons.index),
                    reasons.tolist(),
                    f"{len(risk)} learners flagged, by reason",
                    horizontal=True,
                    label_width=42,
                )
            ]
            if reasons is not None
            else [],
            risk,
        )
    )
    quality = run["data_quality"]
    failing = int((quality["status"] == "fail").sum())
    out.append(
        Section(
            "quality",
            "Data quality of the day",
            "Can the figures of this day be trusted?",
            [],
            quality.sort_values("status", key=lambda s: s.map({"fail": 0, "warn": 1}).fillna(2)),
            note=f"{failing} check(s) failing; checks re-run on the stored rows of {day}.",
        )
    )
    return out


def render(warehouse: WarehouseResource, course: str, day: dt.date) -> tuple[str, list[str]]:
    """The page, and the keys of its sections without data."""
    started = time.monotonic()
    parts = sections(warehouse, course, day)
    body = "\n".join(s.html() for s in parts)
    took = time.monotonic() - started
    title = f"{course}, {day}"
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Course report: {html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Course report</h1><p>{html.escape(course)} · as of the end of {day}</p>"
        f"</header><main>\n{body}\n</main><footer>lms-assets course_report · built in "
        f"{took:.1f}s from the warehouse · sections and columns: docs/reports.md</footer>"
        "</body></html>\n"
    )
    return page, [s.key for s in parts if s.empty]


def report_path(folder: str | Path, course: str, day: dt.date) -> Path:
    """FOLDER/<course, filename-safe>/<day>.html"""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in course)
    return Path(folder) / safe / f"{day.isoformat()}.html"


@dataclass(frozen=True)
class Written:
    path: Path
    empty_sections: list[str]


def write_report(
    warehouse: WarehouseResource, folder: str | Path, course: str, day: dt.date
) -> Written:
    """Render and write atomically (a reader never sees half a page)."""
    path = report_path(folder, course, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    page, empty = render(warehouse, course, day)
    partial = path.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return Written(path, empty)
