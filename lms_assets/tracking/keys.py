"""The narrow tracking table's computed keys: page keys and username pseudonyms.

Both are computed once per distinct value of a batch (``pc.unique``), never per line, and
mapped back onto the batch in C (``pc.index_in`` + ``take``). Nothing here imports Dagster:
the split's worker processes use it.
"""

from __future__ import annotations

import hashlib
from functools import cache, lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from lms_assets.research_packages.pseudonyms import Pseudonymizer


def page_key(page: str | None) -> int | None:
    """A page URL's key in ``tracking_pages``: the first 8 bytes of its sha1, signed.

    Deterministic, so concurrent loads agree on a page's key without asking the database
    (a collision needs ~4 billion distinct pages for even odds).
    """
    if page is None:
        return None
    return int.from_bytes(hashlib.sha1(page.encode("utf-8")).digest()[:8], "big", signed=True)


@cache
def _pseudonymizer(key: str | None) -> Pseudonymizer:
    return Pseudonymizer(key)


@lru_cache(maxsize=1 << 16)  # a worker meets the same learners flush after flush
def _pseudonym(key: str | None, username: str) -> str | None:
    return _pseudonymizer(key)(username)


def _mapped(values: pa.ChunkedArray | pa.Array, function, type_: pa.DataType) -> pa.Array:
    """``function`` of each distinct value, spread over ``values`` (NULL stays NULL)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    distinct = pc.unique(values).drop_null()
    if not len(values):
        return pa.array([], type=type_)
    mapped = pa.array([function(v) for v in distinct.to_pylist()], type=type_)
    return pc.take(mapped, pc.index_in(values, value_set=distinct))


def username_hashes(usernames: pa.ChunkedArray | pa.Array, key: str | None) -> pa.Array:
    """RIPEMD160 (HMAC-RIPEMD160 with ``key``) of each username, as the packages hash it."""
    return _mapped(usernames, lambda name: _pseudonym(key, name), pa.string())


def page_keys(pages: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, list[dict]]:
    """Each page's key, and the distinct ``{page_key, page}`` rows for ``tracking_pages``."""
    if isinstance(pages, pa.ChunkedArray):
        pages = pages.combine_chunks()
    distinct = pc.unique(pages).drop_null().to_pylist()
    rows = [{"page_key": page_key(p), "page": p} for p in distinct]
    if not len(pages):
        return pa.array([], type=pa.int64()), rows
    mapped = pa.array([r["page_key"] for r in rows], type=pa.int64())
    return pc.take(mapped, pc.index_in(pages, value_set=pa.array(distinct, pa.string()))), rows
