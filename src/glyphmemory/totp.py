"""TOTP for people (RFC 6238: SHA-1, 30 s, 6 digits, one step of drift), single use, throttled.

All state of one key lives in one auth record, changed only by compare-and-set:
`last_step` (the newest time step accepted: that code and every older one are refused), the
failure windows below, and the addresses that signed in with the key. An attempt is *reserved*
in the record before a code is evaluated, so concurrent guesses cannot evaluate more codes than
the windows allow.

Throttling (issue 21 §4), so that guessing stays hopeless and a stranger cannot deny the owner:
- per bucket: SHORT_MAX wrong codes in SHORT_WINDOW_S, then that bucket waits out the window. A
  bucket is the client's address (the door's `Request.client`: the socket peer, or the nearest
  X-Forwarded-For entry where GLYPH_TRUST_FORWARDED=1), plus the OAuth client at /authorize, so
  one client's failures do not hold up another's even behind one tunnel address;
- per key and day: DAY_MAX wrong codes from all *unknown* addresses together, then unknown
  addresses wait for the day's window to close. An address where the key signed in within
  KNOWN_S (at most KNOWN_MAX of them) is *known*: it has a DAY_MAX of its own instead, so the
  owner at home is not locked out by strangers elsewhere;
- the owner resets all of it with the key file: `glyph keys unlock [KID]` (DELETE
  /v1/keys/{kid}/lockout, admin scope), which keeps `last_step` (codes stay single-use).

The arithmetic: a guess is right with p = 3/10^6 (the code of the step or of either neighbour).
A stranger away from the owner's addresses gets at most DAY_MAX = 30 evaluated guesses a day per
key: 9·10^-5 a day, under 3.3% in a year, 30 years expected; each device key is a budget of its own.
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
SHORT_WINDOW_S, SHORT_MAX = 15 * 60, 10  # 10 failures in 15 minutes hold one bucket back...
DAY_WINDOW_S, DAY_MAX = 24 * 3600, 30  # ...and 30 a day from unknown addresses hold those back
KNOWN_S, KNOWN_MAX = 30 * 24 * 3600, 8  # addresses that signed in lately: a daily budget each
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


def _reserve(state: dict, address: str, bucket: str, now: float) -> tuple[dict | None, int]:
    """Count one more attempt from `bucket` (at `address`), or say how long it stays held back.

    The short window is per bucket; the day's budget is the address's own if it is known (a
    sign-in from there lately), else the one all unknown addresses share: what bounds guessing."""
    s = dict(state)
    sources = {k: v for k, v in s.get("sources", {}).items() if now - v[0] < SHORT_WINDOW_S}
    known = {k: list(v) for k, v in s.get("known", {}).items() if now - v[0] < KNOWN_S}
    start, count = sources.get(bucket, (now, 0))
    if count >= SHORT_MAX:
        return None, math.ceil(start + SHORT_WINDOW_S - now)
    if address in known:  # [last sign-in, its day's start, its day's failures]
        day = known[address]
        if now - day[1] >= DAY_WINDOW_S:
            day[1], day[2] = now, 0
        if day[2] >= DAY_MAX:
            return None, math.ceil(day[1] + DAY_WINDOW_S - now)
        day[2] += 1
    else:
        if now - s.get("day_start", 0) >= DAY_WINDOW_S:
            s["day_start"], s["day_count"] = now, 0
        if s["day_count"] >= DAY_MAX:
            return None, math.ceil(s["day_start"] + DAY_WINDOW_S - now)
        s["day_count"] += 1
    sources[bucket] = [start, count + 1]
    s["sources"] = dict(sorted(sources.items(), key=lambda kv: kv[1][0])[-MAX_SOURCES:])
    s["known"] = known
    return s, 0


def _give_back(state: dict, address: str, bucket: str) -> dict:
    """The state with the attempt `bucket` just reserved returned."""
    s = dict(state)
    count = s.get("sources", {}).get(bucket)
    if count:
        s["sources"] = {**s["sources"], bucket: [count[0], max(count[1] - 1, 0)]}
    day = s.get("known", {}).get(address)
    if day:
        s["known"] = {**s["known"], address: [day[0], day[1], max(day[2] - 1, 0)]}
    else:
        s["day_count"] = max(s.get("day_count", 1) - 1, 0)
    return s


def _signed_in(state: dict, address: str, now: float) -> dict:
    """`address` is known from now on (the newest KNOWN_MAX kept)."""
    known = dict(state.get("known", {}))
    day = known.get(address, [now, now, 0])
    known[address] = [now, day[1], day[2]]
    return dict(state, known=dict(sorted(known.items(), key=lambda kv: kv[1][0])[-KNOWN_MAX:]))


def unlock(store, kid: str) -> bool:
    """The owner's reset: every failure window of `kid` closed at once; the newest accepted step
    (single use) and the known addresses stay. False if there was nothing to reset."""
    changed: list[bool] = []

    def reset(state: dict) -> dict | None:
        kept = {k: state[k] for k in ("last_step", "known") if k in state}
        changed.append(kept != state)
        return kept if kept != state else None

    _update(store, kid, reset)
    return changed[-1]


def _update(store, kid: str, change) -> dict:
    """Apply change(state) -> new state (None: leave it) by compare-and-set, retrying races."""
    for attempt in range(_CAS_TRIES):
        if attempt:  # racing writers: a few ms of jitter lets them pass one at a time
            import random
            import time

            time.sleep(random.uniform(0, 0.002 * attempt))
        state, version = store.records_get(GROUP, kid)
        new = change(state or {})
        if new is None:
            return state or {}
        # Records of keys that were never used successfully may go when their windows close.
        ttl = None if "last_step" in new else int(new.get("day_start", 0) + DAY_WINDOW_S)
        if store.records_put_if(GROUP, kid, new, expected_version=version, expires_at=ttl):
            return new
    raise Unavailable("too many logins at once for this key; retry in a moment")


def check_code(
    store, keyring: Keyring, kid: str, code: object, now: float, source: str = "", client_id: str | None = None
) -> None:
    """Accept a person's TOTP code for `kid` once, or raise (400, 401 or 429). `source` is the
    client's address as the door sees it; `client_id` the OAuth client signing in at /authorize
    (a bucket of its own at that address)."""
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise InvalidInput("code must be the 6 digits your authenticator app shows")
    if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
        raise InvalidInput("kid must be a key id such as root")
    # Unknown kids are throttled and refused like known ones (one shared record for them all).
    secret = keyring.secret_b32_for(kid)
    record = kid if secret else UNKNOWN_KIDS

    bucket = source if client_id is None else f"{source} {str(client_id)[:64]}"
    locked: list[int] = []

    def reserve(state: dict) -> dict | None:
        new, retry_after = _reserve(state, source, bucket, now)
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
        _update(store, record, lambda s: _give_back(s, source, bucket))
        raise Unauthorized(_REFUSED)
    if step is None:
        raise Unauthorized(_REFUSED)

    won: list[bool] = []

    def accept(state: dict) -> dict | None:
        if state.get("last_step", -1) >= step:  # a racing request used this code first
            won.append(False)
            return None
        won.append(True)
        # A success is no failure, and its address is known from now on.
        return dict(_signed_in(_give_back(state, source, bucket), source, now), last_step=step)

    _update(store, kid, accept)
    if not won[-1]:
        raise Unauthorized(_REFUSED)
