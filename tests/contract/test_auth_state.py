"""Auth state on both stores: compare-and-set, single-use codes, throttling, device keys."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from glyphmemory import totp
from glyphmemory.errors import InvalidInput, TooManyRequests, Unauthorized
from glyphmemory.keys import Keyring, new_key

NOW = 1_800_000_015.0  # mid-step, so a code made "now" is in the step of NOW


@pytest.fixture
def keyring(store):
    return Keyring(new_key(), store)


def root_code(keyring, at=NOW, offset=0):
    return pyotp.TOTP(keyring.root.secret_b32).at(at, counter_offset=offset)


def test_compare_and_set(store):
    assert store.records_get("g", "n") == (None, 0)
    assert store.records_put_if("g", "n", {"a": 1}, expected_version=0)
    assert not store.records_put_if("g", "n", {"a": 2}, expected_version=0)
    assert store.records_get("g", "n") == ({"a": 1}, 1)
    assert not store.records_put_if("g", "n", {"a": 3}, expected_version=5)
    assert store.records_put_if("g", "n", {"a": 4}, expected_version=1)
    assert store.records_list("g") == [("n", {"a": 4})]
    assert store.records_delete("g", "n") and not store.records_delete("g", "n")
    assert store.records_list("g") == []


def test_a_code_is_accepted_once(store, keyring):
    code = root_code(keyring)
    totp.check_code(store, keyring, "root", code, NOW)
    with pytest.raises(Unauthorized):
        totp.check_code(store, keyring, "root", code, NOW)
    # Codes of earlier steps are dead too, the next step's code works.
    with pytest.raises(Unauthorized):
        totp.check_code(store, keyring, "root", root_code(keyring, offset=-1), NOW)
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 30), NOW + 30)


def test_two_requests_racing_with_one_fresh_code_exactly_one_wins(store, keyring):
    code = root_code(keyring)
    barrier = threading.Barrier(8)

    def attempt(_):
        barrier.wait()
        try:
            totp.check_code(store, keyring, "root", code, NOW)
            return "won"
        except Unauthorized:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count("won") == 1 and results.count("refused") == 7


def test_a_thousand_wrong_codes_evaluate_at_most_ten(store, keyring, monkeypatch):
    evaluated = []
    real = totp.match_step
    monkeypatch.setattr(totp, "match_step", lambda *a, **k: evaluated.append(1) or real(*a, **k))
    right = root_code(keyring)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    outcomes = {"401": 0, "429": 0}
    retry_after = set()
    for i in range(1000):
        try:
            totp.check_code(store, keyring, "root", wrong, NOW + i * 0.01)
        except Unauthorized:
            outcomes["401"] += 1
        except TooManyRequests as exc:
            outcomes["429"] += 1
            retry_after.add(int(exc.headers["Retry-After"]))
    assert len(evaluated) == 10 and outcomes == {"401": 10, "429": 990}
    assert retry_after and max(retry_after) <= 15 * 60 and min(retry_after) > 0
    # The right code is refused (unevaluated) while the window lasts...
    with pytest.raises(TooManyRequests):
        totp.check_code(store, keyring, "root", right, NOW + 60)
    assert len(evaluated) == 10
    # ...and a fresh code works once it has passed.
    later = NOW + 15 * 60 + 1
    totp.check_code(store, keyring, "root", root_code(keyring, later), later)


def test_the_daily_cap_holds_across_windows(store, keyring):
    at = NOW
    refused = 0
    for _window in range(4):
        for _ in range(10):
            try:
                totp.check_code(store, keyring, "root", "000000", at)
            except Unauthorized:
                refused += 1
            except TooManyRequests:
                pass
        at += 15 * 60 + 1
    assert refused == 30  # 10 per window, then the day's 30 are used up
    with pytest.raises(TooManyRequests) as info:
        totp.check_code(store, keyring, "root", root_code(keyring, at), at)
    assert int(info.value.headers["Retry-After"]) > 20 * 3600


def test_malformed_codes_are_400_and_never_count(store, keyring):
    for bad in ("12345", "1234567", "abcdef", "", None, 123456, "12 456", "١٢٣٤٥٦"):
        for _ in range(3):
            with pytest.raises(InvalidInput):
                totp.check_code(store, keyring, "root", bad, NOW)
    with pytest.raises(InvalidInput):
        totp.check_code(store, keyring, "../x", "123456", NOW)
    totp.check_code(store, keyring, "root", root_code(keyring), NOW)


def test_an_unknown_kid_is_refused_and_throttled_like_a_known_one(store, keyring):
    for _ in range(10):
        with pytest.raises(Unauthorized) as info:
            totp.check_code(store, keyring, "nobody", "123456", NOW)
        assert info.value.detail == "the code is wrong, expired or already used"
    with pytest.raises(TooManyRequests):
        totp.check_code(store, keyring, "nobody", "123456", NOW)


def test_device_keys_derive_from_the_root_and_revoke(store, keyring):
    key, info = keyring.add_device("phone", NOW)
    assert info["name"] == "phone" and key.kid.startswith("d")
    assert keyring.secret_for(key.kid) == key.secret != keyring.root.secret
    assert [d["kid"] for d in keyring.list_devices()] == [key.kid]
    # Nothing secret is stored: the record holds a name and a salt.
    record, _ = store.records_get("keys", key.kid)
    assert set(record) == {"name", "salt", "created_at"} and key.secret_b32 not in str(record)
    device_code = pyotp.TOTP(key.secret_b32).at(NOW)
    totp.check_code(store, keyring, key.kid, device_code, NOW)
    assert keyring.revoke(key.kid)
    assert keyring.secret_for(key.kid) is None  # at once, locally
    with pytest.raises(Unauthorized):
        totp.check_code(store, keyring, key.kid, pyotp.TOTP(key.secret_b32).at(NOW + 30), NOW + 30)


def test_a_cached_keyring_forgets_a_revoked_key_within_its_bound(store, monkeypatch):
    import glyphmemory.keys as keys_module

    clock = [1000.0]
    monkeypatch.setattr(keys_module.time, "monotonic", lambda: clock[0])
    admin = Keyring(new_key(), store)
    lambda_side = Keyring(admin.root, store, cache_s=30)
    key, _ = admin.add_device("laptop", NOW)
    assert lambda_side.secret_for(key.kid) == key.secret
    admin.revoke(key.kid)
    clock[0] += 29
    assert lambda_side.secret_for(key.kid) == key.secret  # still cached...
    clock[0] += 2
    assert lambda_side.secret_for(key.kid) is None  # ...but never past 30 s (< 60 s)


# --- strangers cannot lock the owner out (issue 13, item 6) ---------------------------------------

OWNER, STRANGER = "198.51.100.7", "203.0.113.9"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_strangers_burst_of_wrong_codes_does_not_lock_the_owner_out(store, keyring):
    for i in range(10):
        with pytest.raises(Unauthorized):
            totp.check_code(store, keyring, "root", wrong(root_code(keyring)), NOW + i, STRANGER)
    with pytest.raises(TooManyRequests):  # the stranger's own source is locked for the window
        totp.check_code(store, keyring, "root", root_code(keyring), NOW + 10, STRANGER)
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 11), NOW + 11, OWNER)  # the owner gets in


def test_the_daily_cap_still_bounds_guesses_from_everywhere(store, keyring):
    for i in range(totp.DAY_MAX):  # 30 wrong codes, each from another source
        with pytest.raises(Unauthorized):
            totp.check_code(store, keyring, "root", wrong(root_code(keyring)), NOW + i, f"203.0.113.{i}")
    with pytest.raises(TooManyRequests) as info:
        totp.check_code(store, keyring, "root", root_code(keyring, NOW + 40), NOW + 40, OWNER)
    assert int(info.value.headers["Retry-After"]) > 15 * 60  # until the day's window closes


def test_fetching_a_used_code_again_spends_nothing(store, keyring):
    code = root_code(keyring)
    totp.check_code(store, keyring, "root", code, NOW, OWNER)
    for i in range(25):  # a chat re-fetching its /r?code= link
        with pytest.raises(Unauthorized):
            totp.check_code(store, keyring, "root", code, NOW + 1 + i * 0.1, OWNER)
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 30), NOW + 30, OWNER)
    state, _ = store.records_get(totp.GROUP, "root")
    assert state["day_count"] == 0 and state["sources"][OWNER][1] == 0


def test_unknown_kids_share_one_record(store, keyring):
    for i in range(300):
        with pytest.raises((Unauthorized, TooManyRequests)):
            totp.check_code(store, keyring, f"guess{i}", "123456", NOW + i, f"203.0.113.{i % 250}")
    assert [name for name, _ in store.records_list(totp.GROUP)] == [totp.UNKNOWN_KIDS]


def test_an_address_that_signed_in_keeps_its_own_budget_and_the_owner_can_unlock(store, keyring):
    totp.check_code(store, keyring, "root", root_code(keyring), NOW, OWNER)  # OWNER is known now
    for i in range(totp.DAY_MAX):  # strangers spend the unknown addresses' day
        with pytest.raises(Unauthorized):
            totp.check_code(store, keyring, "root", wrong(root_code(keyring)), NOW + 1 + i, f"203.0.113.{i}")
    with pytest.raises(TooManyRequests):
        totp.check_code(store, keyring, "root", root_code(keyring, NOW + 40), NOW + 40, "192.0.2.1")
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 41), NOW + 41, OWNER)  # not the owner's
    # One OAuth client's failures at an address are not another's.
    for _ in range(totp.SHORT_MAX):
        with pytest.raises(Unauthorized):
            totp.check_code(store, keyring, "root", "000000", NOW + 70, OWNER, client_id="theirs")
    with pytest.raises(TooManyRequests):
        totp.check_code(store, keyring, "root", root_code(keyring, NOW + 70), NOW + 70, OWNER, client_id="theirs")
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 71), NOW + 71, OWNER, client_id="mine")
    assert totp.unlock(store, "root")
    totp.check_code(store, keyring, "root", root_code(keyring, NOW + 100), NOW + 100, "192.0.2.1")
    with pytest.raises(Unauthorized):  # single use survives the unlock
        totp.check_code(store, keyring, "root", root_code(keyring, NOW + 100), NOW + 101, "192.0.2.1")
