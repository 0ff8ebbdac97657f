"""A bridge session's state in the store, and the prompt built from it.

Records (the store's small compare-and-set documents, each with its expiry, filtered on read):
- `bridge-session` / NAME: the key that owns it, where its window starts, what was summarised;
  it lives 24 h (by default) after the newest turn: writing a turn renews it;
- `bridge-turns:KID:NAME` / EPOCH+role: one per turn (never one growing item);
- `bridge-msgs:KID:NAME` / MESSAGE-ID: a message in flight, or answered with its reply and usage,
  so a resend is replayed without a second Claude call. A message sent without an id gets one
  derived from its text (`~h:` + SHA-256), which only catches a retry of that text while it is
  still being answered, for RETRY_S: once answered the record goes, so a second "yes" is a new message.
Turns and message records take the owner record's expiry, so none outlives the record that guards
it, and they are keyed by the owning key too: a key that claims a name after it lapsed starts
with nothing of the previous owner's.

The prompt: the GlyphMemory context block in `system`, then the session's turns from the window's
start. The window moves only when the turns outgrow their share of the budget, and then by half of
it at once, so consecutive calls share a byte-identical prefix — system and the older turns, each
ending on a cache breakpoint — that the Messages API serves from its prompt cache. Turns left
behind are summarised into one memory.
"""

from __future__ import annotations

import hashlib
import re
import time

SESSIONS = "bridge-session"
SESSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
# One limit, in one unit: a client frame (its JSON, as UTF-8 bytes received) is at most this.
# Below API Gateway's WebSocket message quota (128 KB), so the AWS route sees an oversize frame
# and answers it with an error frame as the local bridge does.
MAX_FRAME_BYTES = 96 * 1024
IN_FLIGHT_S = 300  # a message claimed this long ago and never answered may be sent again
RETRY_S = 30  # a message without an id: the same text within this, still unanswered, is a retry
DERIVED = "~h:"  # prefix of ids derived from a text (clients' ids cannot hold "~")
CACHE = {"type": "ephemeral"}


class Refused(Exception):
    """A frame the bridge will not act on: status and sentence for the error frame."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def message_id(session: str, frame_id: object, text: str) -> str:
    """The client's id, or one derived from the SHA-256 of session and text when it sent none."""
    if frame_id is None:
        return DERIVED + hashlib.sha256(f"{session}\n{text}".encode()).hexdigest()[:40]
    if not isinstance(frame_id, str) or not MESSAGE_ID_RE.match(frame_id):
        raise Refused(400, "id must be 1 to 64 letters, digits or . _ : -")
    return frame_id


class Conversation:
    """One session of one key, over a store."""

    def __init__(self, store, session: str, kid: str, *, ttl_s: int, now=time.time):
        if not isinstance(session, str) or not SESSION_RE.match(session):
            raise Refused(400, "session must be 1 to 64 letters, digits or . _ - (starting with a letter or digit)")
        self.store, self.session, self.kid, self.ttl_s, self.now = store, session, kid, ttl_s, now
        self.turns_group, self.msgs_group = f"bridge-turns:{kid}:{session}", f"bridge-msgs:{kid}:{session}"
        self._read: tuple[dict, int] | None = None  # the owner record as last read or written

    # --- ownership ------------------------------------------------------------------------------

    def state(self, *, create: bool) -> tuple[dict, int]:
        """The session record, checked to belong to this key (claimed when new and `create`)."""
        for _ in range(5):
            data, version = self.store.records_get(SESSIONS, self.session)
            live = data is not None and data.get("expires_at", 0) > self.now()
            if live:
                if data["kid"] != self.kid:
                    raise Refused(403, "this session belongs to another key: choose another name")
                self._read = (data, version)
                return data, version
            if not create:
                raise Refused(404, "no such session (sessions end 24 h after their last turn)")
            fresh = {
                "kid": self.kid,
                "window_from": "",
                "summarised_to": "",
                "expires_at": int(self.now()) + self.ttl_s,
            }
            if self.store.records_put_if(
                SESSIONS, self.session, fresh, expected_version=version, expires_at=fresh["expires_at"]
            ):
                self._read = (fresh, version + 1)
                return fresh, version + 1
        raise Refused(409, "the session is busy: try again")

    def lease(self) -> int:
        """The owner record's expiry, which every turn and message record written under it takes
        as its own. Renewed to now + ttl when less than ttl - ttl/24 is left (at 24 h: at most
        hourly, not a write per turn), so the record lives as long as its newest turn."""
        for _ in range(10):
            data, version = self._read or self.state(create=True)
            self._read = None
            now = self.now()
            if data["expires_at"] - now > self.ttl_s - self.ttl_s // 24:
                self._read = (data, version)
                return data["expires_at"]
            data = {**data, "expires_at": int(now) + self.ttl_s}
            if self.store.records_put_if(
                SESSIONS, self.session, data, expected_version=version, expires_at=data["expires_at"]
            ):
                self._read = (data, version + 1)
                return data["expires_at"]
        raise Refused(409, "the session is busy: try again")

    def update_state(self, change) -> dict:
        """Apply change(record) by compare-and-set, retried on a race."""
        for _ in range(10):
            data, version = self.state(create=True)
            change(data)
            data["expires_at"] = max(data["expires_at"], int(self.now()) + self.ttl_s)
            if self.store.records_put_if(
                SESSIONS, self.session, data, expected_version=version, expires_at=data["expires_at"]
            ):
                self._read = (data, version + 1)
                return data
        raise Refused(409, "the session is busy: try again")

    # --- messages: dedup before paying --------------------------------------------------------

    def claim(self, msg_id: str) -> dict | None:
        """Claim a message for answering; None if claimed now, else its record ("done" with the
        reply to replay, or "in_flight"). An id derived from the text holds only while that text
        is in flight, for RETRY_S: an answered or older one is a new message."""
        in_flight_s = RETRY_S if msg_id.startswith(DERIVED) else IN_FLIGHT_S
        for _ in range(3):
            record, version = self.store.records_get(self.msgs_group, msg_id)
            now = self.now()
            live = record is not None and record.get("expires_at", 0) > now
            if live and (record["state"] == "done" or now - record.get("claimed_at", 0) < in_flight_s):
                return record
            claim = {"state": "in_flight", "claimed_at": now, "expires_at": self.lease()}
            if self.store.records_put_if(
                self.msgs_group, msg_id, claim, expected_version=version, expires_at=claim["expires_at"]
            ):
                return None
        return {"state": "in_flight"}

    def release(self, msg_id: str) -> None:
        """Give a claim back (the call failed): the message may be sent again."""
        self.store.records_delete(self.msgs_group, msg_id)

    def answered(self, msg_id: str, reply: str, usage: dict, turn: str) -> None:
        """Keep the reply for a resend of the client's id; a derived id's claim just ends."""
        if msg_id.startswith(DERIVED):
            self.release(msg_id)
            return
        record = {"state": "done", "reply": reply, "usage": usage, "turn": turn, "expires_at": self.lease()}
        for _ in range(3):
            _, version = self.store.records_get(self.msgs_group, msg_id)
            if self.store.records_put_if(
                self.msgs_group, msg_id, record, expected_version=version, expires_at=record["expires_at"]
            ):
                return

    # --- turns ----------------------------------------------------------------------------------

    def add_turn(self, role: str, text: str, msg_id: str) -> str:
        """Store a turn as its own record; its name sorts in time order."""
        expires_at = self.lease()
        for _ in range(5):
            name = f"{int(self.now() * 1_000_000):020d}{role[0]}"
            turn = {"role": role, "text": text, "msg": msg_id, "at": int(self.now()), "expires_at": expires_at}
            if self.store.records_put_if(
                self.turns_group, name, turn, expected_version=0, expires_at=turn["expires_at"]
            ):
                return name
        raise Refused(409, "the session is busy: try again")

    def drop_turn(self, name: str) -> None:
        self.store.records_delete(self.turns_group, name)

    def turns(self) -> list[tuple[str, dict]]:
        """The live turns, oldest first."""
        now = self.now()
        return sorted((n, t) for n, t in self.store.records_list(self.turns_group) if t.get("expires_at", 0) > now)


def window(turns: list[tuple[str, dict]], start: str, budget: int) -> tuple[str, list[tuple[str, dict]]]:
    """The turns to send, from `start` on: when they outgrow `budget` characters, the start moves
    to where they fill about half of it (so that it moves seldom and the cached prefix holds), and
    never onto an assistant turn. The newest turn (the user's message) is always sent."""
    kept = [(n, t) for n, t in turns if n >= start]
    if sum(len(t["text"]) for _, t in kept) > budget:
        total, cut = 0, len(kept) - 1
        for i in range(len(kept) - 1, -1, -1):
            total += len(kept[i][1]["text"])
            if total > budget // 2 and i < len(kept) - 1:
                break
            cut = i
        kept = kept[cut:]
    while len(kept) > 1 and kept[0][1]["role"] != "user":
        kept = kept[1:]
    return (kept[0][0] if kept else start), kept


def build_prompt(block: str, turns: list[tuple[str, dict]], *, cache: bool = True) -> tuple[list[dict], list[dict]]:
    """`system` and `messages` with cache breakpoints on the stable prefix: the memory block, and
    the last turn before the new message (the older history). cache=False leaves them out (the
    benchmark's baseline)."""
    system = [{"type": "text", "text": block, **({"cache_control": CACHE} if cache else {})}]
    messages = []
    for _, turn in turns:
        if messages and messages[-1]["role"] == turn["role"]:  # two user turns in a row: one message
            messages[-1]["content"].append({"type": "text", "text": turn["text"]})
        else:
            messages.append({"role": turn["role"], "content": [{"type": "text", "text": turn["text"]}]})
    if cache and len(messages) > 1:
        messages[-2]["content"][-1]["cache_control"] = CACHE
    return system, messages


def with_recall(messages: list[dict], text: str) -> None:
    """Add the memories relevant to the new message (glyphmemory.recall's text) to its end: after
    the last cache breakpoint, so the cached prefix is the same whether any are added or not."""
    if text and messages and messages[-1]["role"] == "user":
        messages[-1]["content"].append({"type": "text", "text": text})


SUMMARY_SYSTEM = (
    "You write one memory for the user's long-term memory from part of a conversation. "
    "Keep what is worth knowing later: decisions, facts, preferences, open questions. "
    "At most 120 words, plain sentences, no preamble."
)


def summary_request(session: str, turns: list[tuple[str, dict]]) -> tuple[list[dict], list[dict]]:
    transcript = "\n\n".join(f"{t['role'].upper()}: {t['text']}" for _, t in turns)
    ask = f"Conversation '{session}', the part leaving the window:\n\n{transcript}\n\nWrite the memory."
    return [{"type": "text", "text": SUMMARY_SYSTEM}], [{"role": "user", "content": [{"type": "text", "text": ask}]}]
