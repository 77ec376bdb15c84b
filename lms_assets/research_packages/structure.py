"""The course structure JSON as a tree: each block's parent, position, depth and chapter.

The file is a dict keyed by block id (``i4x://`` or ``block-v1:``), each block with
``category``, ``children`` (ids) and ``metadata`` (display_name, youtube ids, ...).
Parents come from the children lists; a block no path from the course block reaches
cannot be placed in the tree and is refused (kept with its reason).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from lms_assets.errors import ReasonCode, RecordError

Row = dict[str, Any]


def _duration(metadata: dict[str, Any]) -> float | None:
    value = metadata.get("duration")
    try:
        seconds = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def blocks_of(
    document: dict[str, Any],
) -> tuple[list[Row], list[Row], list[tuple[str, RecordError]]]:
    """(block rows, video rows, refused (block id, reason)) of a structure document."""
    problems: list[tuple[str, RecordError]] = []
    blocks = {}
    for block_id, block in document.items():
        if not isinstance(block, dict) or not isinstance(block.get("category"), str):
            problems.append(
                (
                    block_id,
                    RecordError(
                        ReasonCode.WRONG_SHAPE, "category", f"block {block_id!r} has no category"
                    ),
                )
            )
            continue
        if len(block_id) > 255:
            problems.append(
                (
                    block_id[:255],
                    RecordError(ReasonCode.TOO_LONG, "block_id", "block id over 255 characters"),
                )
            )
            continue
        blocks[block_id] = block
    roots = [b for b, block in blocks.items() if block["category"] == "course"]
    placed: dict[str, Row] = {}
    queue = deque((root, None, None, 0, None) for root in roots[:1])
    while queue:
        block_id, parent, position, depth, chapter = queue.popleft()
        if block_id in placed or block_id not in blocks:
            continue
        block = blocks[block_id]
        chapter = block_id if block["category"] == "chapter" else chapter
        metadata = block.get("metadata") if isinstance(block.get("metadata"), dict) else {}
        name = metadata.get("display_name")
        placed[block_id] = {
            "block_id": block_id,
            "category": block["category"][:32],
            "display_name": name[:255] if isinstance(name, str) else None,
            "parent_id": parent,
            "position": position,
            "depth": depth,
            "chapter_id": chapter,
        }
        children = block.get("children") if isinstance(block.get("children"), list) else []
        for index, child in enumerate(children):
            if isinstance(child, str):
                queue.append((child, block_id, index, depth + 1, chapter))
    for block_id in blocks:
        if block_id not in placed:
            why = "no course block" if not roots else "no path from the course block reaches it"
            problems.append(
                (
                    block_id,
                    RecordError(ReasonCode.INCONSISTENT, "parent", f"block {block_id!r}: {why}"),
                )
            )
    videos = []
    for block_id, row in placed.items():
        if row["category"] != "video":
            continue
        metadata = blocks[block_id].get("metadata") or {}
        videos.append(
            {
                "block_id": block_id,
                "display_name": row["display_name"],
                "youtube_id": (metadata.get("youtube_id_1_0") or None),
                "edx_video_id": (metadata.get("edx_video_id") or None),
                "duration_seconds": _duration(metadata),
            }
        )
    return list(placed.values()), videos, problems
