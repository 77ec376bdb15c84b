"""Pseudonyms: RIPEMD160 of a username's (or full name's) UTF-8 bytes, as 40 lowercase hex.

Seed 004 and MOOCdb key learners by ``hashlib.new('ripemd160', username).hexdigest()``,
so ours must be bit-exact with it: no salt, no normalisation, the text as the LMS
wrote it. OpenSSL 3 moved RIPEMD160 to its legacy provider, so ``hashlib`` may not
have it; pycryptodome (a maintained library) then computes the same digest.

A site that must not publish plain (dictionary-attackable) hashes can set a key
(``LMS_PSEUDONYM_KEY``, read through ``dagster.EnvVar``): the pseudonym is then
HMAC-RIPEMD160(key, text), still 40 hex, but no longer joinable with MOOCdb tables
made without the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from functools import cache
from typing import Any

HASH_LENGTH = 40
HASH_PATTERN = re.compile(r"^[0-9a-f]{40}$")
TEST_VECTOR = ("abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc")  # RIPEMD-160 paper, A.1


class PycryptodomeRipemd160:
    """pycryptodome's RIPEMD160 behind hashlib's interface (what ``hmac`` needs)."""

    digest_size = 20
    block_size = 64
    name = "ripemd160"

    def __init__(self, data: bytes = b"") -> None:
        from Crypto.Hash import RIPEMD160

        self._hash = RIPEMD160.new()
        if data:
            self._hash.update(data)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def copy(self) -> PycryptodomeRipemd160:
        clone = PycryptodomeRipemd160()
        clone._hash = self._hash.copy()
        return clone


def hashlib_ripemd160() -> Callable[..., Any] | None:
    """hashlib's RIPEMD160 constructor, or None where OpenSSL does not provide it."""
    try:
        hashlib.new("ripemd160", b"")
    except ValueError:
        return None
    return lambda data=b"": hashlib.new("ripemd160", data)


@cache
def ripemd160_constructor(prefer_hashlib: bool = True) -> Callable[..., Any]:
    """A RIPEMD160 constructor: hashlib's when it has one, pycryptodome's otherwise."""
    native = hashlib_ripemd160() if prefer_hashlib else None
    return native or PycryptodomeRipemd160


def ripemd160_hex(text: str, constructor: Callable[..., Any] | None = None) -> str:
    """The 40-hex RIPEMD160 of ``text``'s UTF-8 bytes (seed 004's pseudonym)."""
    return (constructor or ripemd160_constructor())(text.encode("utf-8")).hexdigest()


class Pseudonymizer:
    """Turns usernames and names into pseudonyms; plain RIPEMD160 unless given a key."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key.encode("utf-8") if key else None
        self._constructor = ripemd160_constructor()

    @property
    def mode(self) -> str:
        return "hmac-ripemd160" if self.key else "ripemd160"

    def __call__(self, text: str | None) -> str | None:
        """The pseudonym of ``text``; None (no one to name) for NULL or empty text."""
        if text is None or text == "":
            return None
        if self.key is None:
            return ripemd160_hex(text, self._constructor)
        return hmac.new(self.key, text.encode("utf-8"), self._constructor).hexdigest()
