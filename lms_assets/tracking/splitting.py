"""The daily split's engine: log files in, per-course Arrow staging files out, in parallel.

A day's files are cut into *pieces*: a gzip file is one piece (it cannot be entered
in the middle); a plain file is cut every ``PIECE_BYTES``, each piece owning the lines
that *start* inside its byte range. Worker processes split pieces independently
(Python parses one line per core at a time, so processes, not threads), each writing
``<staging>/<day>/<course>/part-<piece>-<n>.arrow`` (LZ4 Arrow IPC, one file per flush)
and returning its counts; line numbers of quarantined lines are made file-wide afterwards
from each piece's line count.

Nothing here imports Dagster: worker processes start by importing only this module.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from lms_assets.tracking.keys import username_hashes
from lms_assets.tracking.parsing import SITE, Event, Quarantined, Skipped, parse_line

PIECE_BYTES = 64 << 20  # plain files are cut into pieces of this size for the workers
PARALLEL_MIN_BYTES = 16 << 20  # below this, starting worker processes costs more than it saves
FLUSH_ROWS = 50_000  # events a worker buffers before writing them: memory per worker
MAX_QUARANTINE_ROWS = 10_000  # quarantined lines kept per day for inspection; all are counted
READ_BUFFER = 1 << 20
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("time", pa.timestamp("us")),
        ("user_id", pa.int64()),
        ("username", pa.string()),
        ("course_id", pa.string()),
        ("course_from", pa.string()),
        ("event_type", pa.string()),
        ("event_source", pa.string()),
        ("session", pa.string()),
        ("page", pa.string()),
        ("module_id", pa.string()),
        ("video_position", pa.float64()),
        ("problem_id", pa.string()),
        ("problem_success", pa.bool_()),
        ("problem_attempts", pa.int64()),
        ("discussion_id", pa.string()),
        ("from_studio", pa.bool_()),
    ]
)
assert EVENT_SCHEMA.names == list(Event._fields)
_EVENT_STRUCT = pa.struct(list(EVENT_SCHEMA))  # Event tuples convert to it in one C call
# Staged: the parsed event and its username's pseudonym (keys.py), hashed once per distinct
# username of a flush, so the load and person_course join packages without rehashing.
STAGING_SCHEMA = EVENT_SCHEMA.append(pa.field("username_hash", pa.string()))
# LZ4: staging is ~1/3 of the log's size uncompressed; LZ4 shrinks it for little CPU.
_STAGING_WRITE = pa.ipc.IpcWriteOptions(compression="lz4")


def course_dir_name(course_id: str) -> str:
    """A file-system-safe, collision-free folder name for a course key."""
    return hashlib.sha1(course_id.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Piece:
    path: str
    start: int  # byte offset; the piece owns lines starting in [start, end)
    end: int | None  # None: to the end of the file
    home: bool  # the file is named for the day being split: its lines are judged here
    number: int  # unique within the day: names the staging parts


@dataclass
class PieceResult:
    piece: Piece
    lines: int = 0  # every line of the piece, for file-wide line numbers
    counts: Counter[str] = field(default_factory=Counter)
    courses: Counter[str] = field(default_factory=Counter)
    quarantine: list[tuple[int, str, str]] = field(default_factory=list)  # line in piece, why, raw
    # Events of other days in a home file, by their own day (partition timezone).
    other_days: Counter[dt.date] = field(default_factory=Counter)
    peak_memory_mib: float | None = None  # of the process that split it (Linux)


def plan_pieces(files: list[tuple[Path, bool]], piece_bytes: int = PIECE_BYTES) -> list[Piece]:
    """Cut ``(path, home)`` files into pieces, in file and byte order."""
    pieces: list[Piece] = []
    for path, home in files:
        size = path.stat().st_size
        if path.name.endswith(".gz") or size <= piece_bytes:
            pieces.append(Piece(str(path), 0, None, home, len(pieces)))
            continue
        for start in range(0, size, piece_bytes):
            end = start + piece_bytes if start + piece_bytes < size else None
            pieces.append(Piece(str(path), start, end, home, len(pieces)))
    return pieces


def piece_lines(piece: Piece) -> Iterator[bytes]:
    """The lines owned by ``piece``: those whose first byte lies in its range."""
    if piece.path.endswith(".gz"):
        with gzip.open(piece.path, "rb") as handle:
            yield from handle
        return
    with open(piece.path, "rb", buffering=READ_BUFFER) as handle:
        position = piece.start
        if position:
            handle.seek(position - 1)
            # The line running across the start belongs to the previous piece.
            position += len(handle.readline()) - 1
        for line in handle:
            if piece.end is not None and position >= piece.end:
                return
            position += len(line)
            yield line


def split_piece(
    piece: Piece,
    day_start: dt.datetime,
    day_end: dt.datetime,
    staging: str,
    timezone: str = "UTC",
    pseudonym_key: str | None = None,
) -> PieceResult:
    """Split one piece into per-course staging parts; runs in a worker process.

    Site-level events (no course) are staged like a course's, under course ``SITE`` ("").
    ``pseudonym_key``: the key of keyed pseudonyms (LMS_PSEUDONYM_KEY), None for plain ones.
    """
    result = PieceResult(piece)
    counts, courses, quarantine = result.counts, result.courses, result.quarantine
    other_days, zone = result.other_days, ZoneInfo(timezone)
    buffers: dict[str, list[Event]] = {}
    buffered = 0
    home = piece.home
    number = 0
    try:
        for number, line in enumerate(piece_lines(piece), start=1):
            outcome = parse_line(line)
            if type(outcome) is Event:
                if day_start <= outcome.time < day_end:
                    course = outcome.course_id
                    buffer = buffers.get(course)
                    if buffer is None:
                        buffer = buffers[course] = []
                    buffer.append(outcome)
                    buffered += 1
                    if buffered >= FLUSH_ROWS:  # one bound for all courses together
                        _flush(buffers, courses, staging, piece.number, pseudonym_key)
                        buffered = 0
                elif home:
                    day = outcome.time.replace(tzinfo=dt.UTC).astimezone(zone).date()
                    other_days[day] += 1
            elif not home:
                continue
            elif type(outcome) is Skipped:
                counts[outcome.kind] += 1
            elif type(outcome) is Quarantined:
                counts["quarantined"] += 1
                if len(quarantine) < MAX_QUARANTINE_ROWS:
                    quarantine.append((number, outcome.reason, outcome.raw))
    except (OSError, EOFError, zlib.error) as exc:
        if not piece.path.endswith(".gz"):
            raise  # a plain file's read error (or a staging write's) is not data to keep
        # A corrupt or truncated .gz: the lines read before stay; the rest of the file is one
        # quarantined "line" that names the problem (the next day's split records it for a
        # file read here only for late events), and the day goes on.
        number += 1
        if home:
            counts["quarantined"] += 1
            reason = f"unreadable gzip after line {number - 1}: {type(exc).__name__}: {exc}"
            quarantine.append((number, reason[:255], ""))
    _flush(buffers, courses, staging, piece.number, pseudonym_key)
    result.lines = number
    counts["lines"] = number if home else 0
    result.peak_memory_mib = peak_memory_mib()
    return result


def peak_memory_mib() -> float | None:
    """This process's peak resident memory (VmHWM; exact for a spawned worker), Linux only."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _flush(
    buffers: dict[str, list[Event]],
    courses: Counter[str],
    staging: str,
    part: int,
    pseudonym_key: str | None,
) -> None:
    for course, rows in buffers.items():
        if not rows:
            continue
        table = pa.Table.from_struct_array(pa.array(rows, type=_EVENT_STRUCT))
        table = with_username_hash(table, pseudonym_key)
        folder = Path(staging) / course_dir_name(course)
        folder.mkdir(parents=True, exist_ok=True)
        # One file per piece and flush: appending is a new file, never a rewrite.
        path = folder / f"part-{part:05d}-{courses[course]:09d}.arrow"
        with pa.ipc.new_file(path, STAGING_SCHEMA, options=_STAGING_WRITE) as writer:
            writer.write_table(table)
        courses[course] += len(rows)
        rows.clear()


def with_username_hash(table: pa.Table, pseudonym_key: str | None) -> pa.Table:
    """``table`` with its ``username_hash`` column (computed when it has none)."""
    if "username_hash" in table.column_names:
        return table
    return table.append_column("username_hash", username_hashes(table["username"], pseudonym_key))


def run_pieces(
    pieces: list[Piece],
    day_start: dt.datetime,
    day_end: dt.datetime,
    staging: Path,
    workers: int,
    timezone: str = "UTC",
    pseudonym_key: str | None = None,
) -> Iterator[PieceResult]:
    """Split ``pieces`` with ``workers`` processes (1: in this process); results in order."""
    if workers <= 1 or len(pieces) <= 1:
        for piece in pieces:
            yield split_piece(piece, day_start, day_end, str(staging), timezone, pseudonym_key)
        return
    # spawn, not fork: the Dagster process holds threads and open connections.
    with ProcessPoolExecutor(min(workers, len(pieces)), mp_context=get_context("spawn")) as pool:
        results = pool.map(
            split_piece,
            pieces,
            [day_start] * len(pieces),
            [day_end] * len(pieces),
            [str(staging)] * len(pieces),
            [timezone] * len(pieces),
            [pseudonym_key] * len(pieces),
        )
        try:
            yield from results
        except BrokenProcessPool as exc:
            raise SplitWorkerDied(
                f"a tracking-split worker process died ({len(pieces)} pieces, {workers} "
                "workers), most often killed for memory; nothing of the day was recorded. "
                "Re-run the day, with the run config `workers` lowered if it happens again."
            ) from exc


class SplitWorkerDied(RuntimeError):
    """A worker process ended without a result (killed, crashed interpreter)."""


@dataclass
class DaySplit:
    """What splitting a day's files produced, with file-wide line numbers."""

    pieces: int
    workers: int = 1
    peak_memory_mib: float | None = None  # the largest of any process that split a piece
    counts: Counter[str] = field(default_factory=Counter)  # lines by outcome
    courses: Counter[str] = field(default_factory=Counter)  # events staged per course
    site_events: int = 0  # events naming no course, staged under SITE
    # (file path below the log folder, day) -> events of that other day in the day's own files
    other_days: Counter[tuple[str, dt.date]] = field(default_factory=Counter)
    # (file path below the log folder, file-wide line number, reason, raw text), at most
    # MAX_QUARANTINE_ROWS
    quarantine: list[tuple[str, int, str, str]] = field(default_factory=list)


def split_day(
    files: list[tuple[Path, bool]],
    day_start: dt.datetime,
    day_end: dt.datetime,
    staging: Path,
    workers: int,
    piece_bytes: int = PIECE_BYTES,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
    on_file_read: Callable[[Path], None] = lambda path: None,
    root: Path | None = None,
    timezone: str = "UTC",
    pseudonym_key: str | None = None,
) -> DaySplit:
    """Split ``(path, home)`` files into per-course staging under ``staging``.

    Quarantined lines name their file by its path below ``root`` (the log folder), so two
    log servers' ``tracking.log-20260310.gz`` in their own sub-folders stay apart.
    """
    pieces = plan_pieces(files, piece_bytes)
    if sum(path.stat().st_size for path, _ in files) < parallel_min_bytes:
        workers = 1
    day = DaySplit(len(pieces), workers=min(workers, len(pieces)) or 1)
    lines_before: Counter[str] = Counter()  # lines of the same file's earlier pieces
    results = run_pieces(pieces, day_start, day_end, staging, workers, timezone, pseudonym_key)
    for result in results:
        path = Path(result.piece.path)
        name = str(path.relative_to(root)) if root is not None else path.name
        day.counts.update(result.counts)
        day.courses.update(result.courses)
        for other, events in result.other_days.items():
            day.other_days[(name, other)] += events
        offset = lines_before[result.piece.path]
        for number, reason, raw in result.quarantine:
            if len(day.quarantine) < MAX_QUARANTINE_ROWS:
                day.quarantine.append((name, offset + number, reason, raw))
        lines_before[result.piece.path] += result.lines
        if result.peak_memory_mib is not None:
            day.peak_memory_mib = max(day.peak_memory_mib or 0.0, result.peak_memory_mib)
        if result.piece.end is None:
            on_file_read(path)
    day.site_events = day.courses.pop(SITE, 0)
    day.counts["events"] = sum(day.courses.values())
    day.counts["site_events"] = day.site_events
    day.counts["other_day"] = sum(day.other_days.values())
    return day


def default_workers() -> int:
    """The CPU cores this process may run on (all cores where affinity is not known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def read_course(staging: Path, course_id: str) -> pa.Table:
    """Every staged event of one course and day (empty when it had none)."""
    folder = staging / course_dir_name(course_id)
    parts = sorted(folder.glob("part-*.arrow")) if folder.is_dir() else []
    tables = []
    for part in parts:
        with pa.memory_map(str(part)) as source:
            tables.append(pa.ipc.open_file(source).read_all())
    if not tables:
        return STAGING_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def unique_events(data: pa.Table) -> pa.Table:
    """The events sorted by event_id, each id once (the same line read twice is one event).

    Sorted, InnoDB appends to its clustered index instead of splitting pages.
    """
    data = data.sort_by("event_id")
    if data.num_rows < 2:
        return data
    ids = data["event_id"]
    first = pc.not_equal(ids.slice(1), ids.slice(0, data.num_rows - 1))
    keep = pa.concat_arrays([pa.array([True]), first.combine_chunks()])
    return data.filter(keep)
