"""RIPEMD160 pseudonyms: bit-exact with seed 004 / MOOCdb, with or without OpenSSL's ripemd160."""

import hashlib
import hmac

import pytest

from lms_assets.research_packages import pseudonyms
from lms_assets.research_packages.pseudonyms import (
    HASH_PATTERN,
    Pseudonymizer,
    PycryptodomeRipemd160,
    ripemd160_hex,
)


def test_the_test_vector_of_the_ripemd160_paper() -> None:
    assert ripemd160_hex("abc") == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    assert ("abc", ripemd160_hex("abc")) == pseudonyms.TEST_VECTOR


def test_the_fallback_gives_the_same_digests_as_hashlib() -> None:
    assert ripemd160_hex("abc", PycryptodomeRipemd160) == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    # RIPEMD-160 paper, A.1: the empty string and "message digest".
    assert ripemd160_hex("", PycryptodomeRipemd160) == "9c1185a5c5e9fc54612808977ee8f548b2258d31"
    assert (
        ripemd160_hex("message digest", PycryptodomeRipemd160)
        == "5d0689ef49d2fae572b881b123a85ffa21595f36"
    )


def test_without_ripemd160_in_hashlib_the_fallback_is_used(monkeypatch) -> None:
    real_new = hashlib.new

    def openssl3_new(name, *args, **kwargs):  # what OpenSSL 3 without the legacy provider does
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type ripemd160")
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", openssl3_new)
    pseudonyms.ripemd160_constructor.cache_clear()
    try:
        assert pseudonyms.hashlib_ripemd160() is None
        assert pseudonyms.ripemd160_constructor() is PycryptodomeRipemd160
        assert Pseudonymizer()("abc") == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    finally:
        pseudonyms.ripemd160_constructor.cache_clear()


def test_a_username_hashed_as_seed_004_does_it() -> None:
    username = "Nguyễn_Văn.An-42"  # non-ASCII: the UTF-8 bytes are hashed
    one_hash = hashlib.new("ripemd160")  # seed 004's own code
    one_hash.update(username.encode("utf-8"))
    assert Pseudonymizer()(username) == one_hash.hexdigest()
    assert HASH_PATTERN.match(Pseudonymizer()(username))
    assert Pseudonymizer()(None) is None and Pseudonymizer()("") is None


@pytest.mark.parametrize("constructor", [None, PycryptodomeRipemd160])
def test_keyed_mode_is_hmac_ripemd160(constructor, monkeypatch) -> None:
    if constructor is not None:
        monkeypatch.setattr(pseudonyms, "ripemd160_constructor", lambda: constructor)
    keyed = Pseudonymizer("site secret")
    assert keyed.mode == "hmac-ripemd160"
    expected = hmac.new(b"site secret", b"abc", "ripemd160").hexdigest()
    assert keyed("abc") == expected != ripemd160_hex("abc")
    assert HASH_PATTERN.match(keyed("abc"))


def test_the_key_comes_from_the_environment_and_keys_every_pseudonym(monkeypatch) -> None:
    import dagster as dg

    from lms_assets import settings
    from lms_assets.partitions import Partition
    from lms_assets.research_packages.definitions import resources
    from lms_assets.research_packages.parsing import CourseReader
    from lms_assets.research_packages.resources import ResearchPackageFolderResource
    from lms_assets_tests.test_research_packages import COURSE, DAY, FIXTURE

    monkeypatch.setenv("LMS_PSEUDONYM_KEY", "a site secret")
    wired = resources(settings.Settings.from_environment())["research_packages"]
    assert wired.pseudonym_key == dg.EnvVar("LMS_PSEUDONYM_KEY")  # the name, never the value
    monkeypatch.delenv("LMS_PSEUDONYM_KEY")
    assert (
        resources(settings.Settings.from_environment())["research_packages"].pseudonym_key is None
    )

    keyed = ResearchPackageFolderResource(path=str(FIXTURE.parent), pseudonym_key="a site secret")
    package, prefix = keyed.find(Partition(COURSE, DAY))
    load = CourseReader(package, prefix, Partition(COURSE, DAY), keyed.pseudonymizer()).read()
    alice = next(u for u in load.rows["package_users"] if u["user_id"] == 1)
    assert alice["username_hash"] == hmac.new(b"a site secret", b"alice", "ripemd160").hexdigest()
    assert load.rows["forum_posts"][0]["author_hash"] == alice["username_hash"]
