"""TOTP for people (RFC 6238: SHA-1, 30 s, 6 digits, one step of drift), single use, throttled.

All state of one key lives in one auth record, changed only by compare-and-set:
`last_step` (the newest time step accepted: that code and every older one are refused) and
two failure windows. An attempt is *reserved* in the record before a code is evaluated, so
concurrent guesses cannot evaluate more codes than the window allows.
"""

from __future__ import annotations

import hmac
import math
import re

from . import names
from .errors import InvalidInput, TooManyRequests, Unauthorized, Unavailable
from .keys import Keyring

STEP_S = 30
DRIFT_STEPS = 1
SHORT_WINDOW_S, SHORT_MAX = 15 * 60, 10  # 10 failures in 15 minutes lock one source out...
DAY_WINDOW_S, DAY_MAX = 24 * 3600, 30  # ...and 30 in a day, from anywhere, lock the key for the day
MAX_SOURCES = 32  # short-window buckets kept per key (the oldest goes first)
GROUP = "totp"
UNKNOWN_KIDS = "~unknown"  # every unknown kid shares this one record: no row per guessed kid
_CAS_TRIES = 16
_CODE_RE = re.compile(names.CODE_PATTERN)
_KID_RE = re.compile(names.KID_PATTERN)
_REFUSED = "the code is wrong, expired or already used"


def match_step(secret_b32: str, code: str, at: float, *, after: int = -1) -> int | None:
    """The time step whose code equals `code` (within the drift), if newer than `after`.

    Works for any number of digits, so the RFC 6238 test vectors (8 digits) run through it.
    """
    import pyotp  # only paid where a code is checked

    totp = pyotp.TOTP(secret_b32, digits=len(code), interval=STEP_S)
    now_step = int(at // STEP_S)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):  # compare all: no early exit
        candidate = totp.at(at, counter_offset=offset)
        if hmac.compare_digest(candidate.encode(), code.encode()) and now_step + offset > after:
            found = now_step + offset
    return found


def _reserve(state: dict, source: str, now: float) -> tuple[dict | None, int]:
    """Count one more attempt from `source`, or say how long it (or the key) stays locked.

    The short window is per source, so a stranger's burst of wrong codes does not lock the owner
    out for a quarter of an hour; the daily cap is per key, from all sources together, which is
    what bounds guessing (at most DAY_MAX evaluated codes a day)."""
    s = dict(state)
    sources = {k: v for k, v in s.get("sources", {}).items() if now - v[0] < SHORT_WINDOW_S}
    start, count = sources.get(source, (now, 0))
    if now - s.get("day_start", 0) >= DAY_WINDOW_S:
        s["day_start"], s["day_count"] = now, 0
    if count >= SHORT_MAX:
        return None, math.ceil(start + SHORT_WINDOW_S - now)
    if s["day_count"] >= DAY_MAX:
        return None, math.ceil(s["day_start"] + DAY_WINDOW_S - now)
    sources[source] = [start, count + 1]
    s["sources"] = dict(sorted(sources.items(), key=lambda kv: kv[1][0])[-MAX_SOURCES:])
    s["day_count"] += 1
    return s, 0


def _give_back(state: dict, source: str) -> dict:
    """The state with the attempt `source` just reserved returned."""
    s = dict(state)
    bucket = s.get("sources", {}).get(source)
    if bucket:
        s["sources"] = {**s["sources"], source: [bucket[0], max(bucket[1] - 1, 0)]}
    s["day_count"] = max(s.get("day_count", 1) - 1, 0)
    return s


def _update(store, kid: str, change) -> dict:
    """Apply change(state) -> new state (None: leave it) by compare-and-set, retrying races."""
    for attempt in range(_CAS_TRIES):
        if attempt:  # racing writers: a few ms of jitter lets them pass one at a time
            import random
            import time

            time.sleep(random.uniform(0, 0.002 * attempt))
        state, version = store.auth_get(GROUP, kid)
        new = change(state or {})
        if new is None:
            return state or {}
        expires = int(new.get("day_start", 0) + DAY_WINDOW_S)
        # Records of keys that were never used successfully may go when their windows close.
        ttl = None if "last_step" in new else expires
        if store.auth_put(GROUP, kid, new, expected_version=version, expires_at=ttl):
            return new
    raise Unavailable("too many logins at once for this key; retry in a moment")


def check_code(store, keyring: Keyring, kid: str, code: object, now: float, source: str = "") -> None:
    """Accept a person's TOTP code for `kid` once, or raise (400, 401 or 429). `source` is the
    client's address as the door sees it (short-window buckets)."""
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise InvalidInput("code must be the 6 digits your authenticator app shows")
    if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
        raise InvalidInput("kid must be a key id such as root")
    # Unknown kids are throttled and refused like known ones (one shared record for them all).
    secret = keyring.secret_b32_for(kid)
    record = kid if secret else UNKNOWN_KIDS

    locked: list[int] = []

    def reserve(state: dict) -> dict | None:
        new, retry_after = _reserve(state, source, now)
        if new is None:
            locked.append(retry_after)
        return new

    state = _update(store, record, reserve)
    if locked:
        raise TooManyRequests(
            "too many wrong codes for this key: wait before trying again",
            headers={"Retry-After": str(max(locked[-1], 1))},
        )
    step = match_step(secret, code, now) if secret else None
    if step is not None and step <= state.get("last_step", -1):
        # A code already accepted (a chat fetching its /r?code= link again) is no guess: it is
        # refused, and its attempt given back, so it never spends the owner's budget.
        _update(store, record, lambda s: _give_back(s, source))
        raise Unauthorized(_REFUSED)
    if step is None:
        raise Unauthorized(_REFUSED)

    won: list[bool] = []

    def accept(state: dict) -> dict | None:
        if state.get("last_step", -1) >= step:  # a racing request used this code first
            won.append(False)
            return None
        won.append(True)
        return dict(_give_back(state, source), last_step=step)  # a success is no failure

    _update(store, kid, accept)
    if not won[-1]:
        raise Unauthorized(_REFUSED)
