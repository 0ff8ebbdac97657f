"""The bridge: frames in, Claude's streamed answer out, memory in every call.

Transport-free and synchronous: `glyph bridge` runs it in a thread per message beside its
WebSocket server, and on AWS the route function runs `prepare` and the worker function `answer`.
Only the way frames are posted differs (`post(frame)`; it raises Gone when the client left).

Client frames: {"type":"message","session","id"?,"text","namespace"?} and {"type":"history","session"},
each at most MAX_FRAME_BYTES of UTF-8 JSON (a larger one gets an error frame, status 413).
Each frame is checked against the connection's grant (auth.Auth.check): a history needs `r`, a
message `rw` (it reads memories into the prompt and writes turns); a grant that ended (its key
revoked, its token expired) ends the connection (Closed: the door closes it with 1008).
Server frames: {"type":"delta","id","text"} (batched: every ~100 ms or ~200 characters),
{"type":"done","id","usage"}, {"type":"error","id","status","detail"},
{"type":"history","session","turns":[{"role","text","at"}]}.
"""

from __future__ import annotations

import json
import os
import time

from .. import names
from ..context import build_context, render_context
from ..errors import Forbidden, GlyphError, Unauthorized
from ..http.core import guarded
from ..model import utf8_size, validate_namespace
from .conversation import (
    MAX_FRAME_BYTES,
    Conversation,
    Refused,
    build_prompt,
    message_id,
    summary_request,
    window,
    with_recall,
)

DEFAULT_BUDGET = 8000
DEFAULT_TTL_S = 24 * 3600
FLUSH_S, FLUSH_CHARS = 0.1, 200


NEEDS = {"message": "rw", "history": "r"}  # the scope each client frame needs


class Gone(Exception):
    """The client's connection is closed: stop posting (the reply is still stored)."""


def parse_frame(raw: str | bytes | None) -> tuple[object, int]:
    """A client frame as received (text or bytes) -> (its JSON, None if it is none; its size in
    UTF-8 bytes). Both doors bound what they accept before this (the local bridge's transport
    cap, API Gateway's message quota), so parsing an oversize frame to answer its id is bounded."""
    if raw is None:
        return None, 0
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    try:
        return json.loads(raw), size
    except (ValueError, TypeError, RecursionError):
        return None, size


class Closed(Exception):
    """The connection's credential ended (key revoked, token expired): the door closes it with
    1008 (policy violation) after the error frame was posted."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class Prepared:
    """A message accepted and claimed, its user turn stored: ready to be answered."""

    def __init__(self, conversation: Conversation, msg_id: str, frame_id, text: str, namespace: str, turn: str):
        self.conversation, self.msg_id, self.frame_id = conversation, msg_id, frame_id
        self.text, self.namespace, self.turn = text, namespace, turn

    def to_json(self) -> dict:
        """What the route hands the worker (the event of its asynchronous invocation)."""
        c = self.conversation
        return {
            "session": c.session,
            "kid": c.kid,
            "msg": self.msg_id,
            "id": self.frame_id,
            "text": self.text,
            "namespace": self.namespace,
            "turn": self.turn,
        }

    @classmethod
    def from_json(cls, bridge, data: dict) -> Prepared:
        conversation = bridge.conversation(data["session"], data["kid"])
        return cls(conversation, data["msg"], data["id"], data["text"], data["namespace"], data["turn"])


class Bridge:
    def __init__(
        self,
        memories,
        claude,
        auth,
        *,
        budget: int | None = None,
        ttl_s: int | None = None,
        log=None,
        cache: bool = True,
    ):
        self.memories = memories
        self.auth = auth
        self.cache = cache
        self.claude = claude
        self.budget = budget or DEFAULT_BUDGET  # GLYPH_BRIDGE_BUDGET, through the settings
        self.ttl_s = ttl_s or DEFAULT_TTL_S  # GLYPH_BRIDGE_TTL_S, likewise
        self.log = log or (lambda *a, **k: None)

    def conversation(self, session: object, kid: str) -> Conversation:
        return Conversation(self.memories.store, session, kid, ttl_s=self.ttl_s)

    # --- one frame, whole (the local server) ----------------------------------------------------

    def handle(self, grant, raw: str | bytes, post) -> None:
        """Answer one frame whole; Closed when the connection's grant ended."""
        try:
            prepared = self.prepare(grant, raw, post)
        except Gone:
            return
        if prepared is not None:
            self.answer(prepared, post)

    # --- the route's part: check, deduplicate, store the user's turn ----------------------------

    def prepare(self, grant, raw: str | bytes | None, post) -> Prepared | None:
        """Returns what is left to answer from a frame as received, or None when it was answered
        already (an error, a history, or a replay of a message answered before). Raises Closed,
        after posting the error frame, when `grant` (the connection's) is no longer alive; a bug
        is an error frame of status 500 and one log line (core.guarded)."""
        frame, size = parse_frame(raw)
        frame_id = frame.get("id") if isinstance(frame, dict) else None

        def refuse(error) -> None:
            post({"type": "error", "id": frame_id, "status": error.status, "detail": error.detail})

        return guarded(
            lambda: self._prepare(grant, frame, size, frame_id, post),
            refuse,
            request_id=os.urandom(8).hex(),
            where=lambda: "bridge prepare",
            expected=(Refused,),
            passes=(Closed, Gone),
        )

    def _prepare(self, grant, frame, size: int, frame_id, post) -> Prepared | None:
        kind = frame.get("type") if isinstance(frame, dict) else None
        kind = kind if isinstance(kind, str) and kind in NEEDS else None
        self._allowed(grant, NEEDS.get(kind), frame_id, post)  # any frame first: is the grant alive?
        if size > MAX_FRAME_BYTES:
            raise Refused(413, f"the frame is {size} bytes; a message's frame is at most {MAX_FRAME_BYTES} bytes")
        if kind is None:
            raise Refused(400, 'send a JSON object with "type": "message" or "history"')
        conversation = self.conversation(frame.get("session"), grant.kid)
        if frame["type"] == "history":
            conversation.state(create=False)
            turns = [{"role": t["role"], "text": t["text"], "at": t["at"]} for _, t in conversation.turns()]
            post({"type": "history", "session": conversation.session, "turns": turns})
            return None
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused(400, "text must be a non-empty string")
        try:
            utf8_size(text, "text")  # what has no UTF-8 form can be neither sent to Claude nor stored
            namespace = validate_namespace(frame.get("namespace") or names.DEFAULT_NAMESPACE)
        except GlyphError as error:
            raise Refused(400, error.detail) from None
        msg_id = message_id(conversation.session, frame_id, text)
        conversation.state(create=True)
        previous = conversation.claim(msg_id)
        if previous is not None:
            if previous["state"] == "done":  # answered before: replay it, no second call
                self._replay(frame_id, previous, post)
                return None
            raise Refused(409, "this message is being answered already; its reply will be in the history")
        try:
            turn = conversation.add_turn("user", text, msg_id)
        except Exception:
            conversation.release(msg_id)
            raise
        return Prepared(conversation, msg_id, frame_id, text, namespace, turn)

    def _allowed(self, grant, needed: str | None, frame_id, post) -> None:
        """The connection's grant is alive (else Closed, after an error frame) and allows
        `needed` (else a 403 error frame)."""
        try:
            self.auth.check(grant, needed)
        except Forbidden as error:
            raise Refused(403, error.detail) from None
        except Unauthorized as error:
            self.log("bridge_closed", status=401)
            post({"type": "error", "id": frame_id, "status": 401, "detail": error.detail})
            raise Closed(error.detail) from None

    def _replay(self, frame_id, record: dict, post) -> None:
        reply = record["reply"]
        for start in range(0, len(reply), 4 * FLUSH_CHARS):
            post({"type": "delta", "id": frame_id, "text": reply[start : start + 4 * FLUSH_CHARS]})
        post({"type": "done", "id": frame_id, "usage": record["usage"], "replayed": True})

    # --- the worker's part: ask Claude, stream, store -------------------------------------------

    def answer(self, prepared: Prepared, post) -> None:
        from .claude import ClaudeError

        conversation, frame_id = prepared.conversation, prepared.frame_id
        connected = [True]

        def send(frame: dict) -> None:
            if connected[0]:
                try:
                    post(frame)
                except Gone:
                    connected[0] = False  # the client left: keep going, the reply is stored

        pending: list[str] = []
        last = 0.0  # the first text goes out at once (time to first token); then batches
        reply: list[str] = []

        def ask() -> tuple:
            nonlocal last
            state = conversation.state(create=True)[0]
            start, turns = window(conversation.turns(), state.get("window_from", ""), self._turn_budget())
            block = build_context(self.memories, prepared.namespace, self._block_budget(), "md")
            system, messages = build_prompt(render_context(block, "md"), turns, cache=self.cache)
            # The memories relevant to this message go after the last cache breakpoint: the cached
            # prefix (the block, the older turns) stays byte-identical from call to call.
            with_recall(messages, self._recall(messages, prepared.namespace, {m.id for m, _ in block.entries}))

            def on_text(text: str) -> None:
                nonlocal last
                pending.append(text)
                if sum(map(len, pending)) >= FLUSH_CHARS or time.monotonic() - last >= FLUSH_S:
                    send({"type": "delta", "id": frame_id, "text": "".join(pending)})
                    pending.clear()
                    last = time.monotonic()

            return state, start, self.claude.stream(system, messages, lambda t: (reply.append(t), on_text(t)))

        def fail(error) -> None:
            if pending:  # what streamed before the failure, then the error
                send({"type": "delta", "id": frame_id, "text": "".join(pending)})
            conversation.drop_turn(prepared.turn)  # an error is never a turn, nor its question
            conversation.release(prepared.msg_id)
            send({"type": "error", "id": frame_id, "status": error.status, "detail": error.detail})
            self.log("bridge_error", session=conversation.session, status=error.status)

        asked = guarded(
            ask,
            fail,
            request_id=os.urandom(8).hex(),
            where=lambda: "bridge answer",
            expected=(ClaudeError, Refused),
        )
        if asked is None:
            return
        state, start, usage = asked
        if pending:
            send({"type": "delta", "id": frame_id, "text": "".join(pending)})
        text = "".join(reply)
        usage = {k: v for k, v in usage.items() if k != "stop_reason"}
        turn = conversation.add_turn("assistant", text, prepared.msg_id)
        conversation.answered(prepared.msg_id, text, usage, turn)
        send({"type": "done", "id": frame_id, "usage": usage})
        if start != state.get("window_from", ""):
            self._slide(conversation, start, prepared.namespace)

    def _turn_budget(self) -> int:
        return max(1000, self.budget - self._block_budget())

    def _block_budget(self) -> int:
        return max(names.MIN_CONTEXT_BUDGET, self.budget // 2)

    def _recall(self, messages: list[dict], namespace: str, known: set[str]) -> str:
        """glyphmemory.recall for the newest user message: the project's namespace and the default
        one, leaving out what the block shows; "" when nothing matches well. A namespace whose
        search the store cannot answer now (Unavailable: throttled, down) is left out, as the
        prompt hook leaves out what it cannot get in time: the message is answered without it."""
        from .. import recall
        from ..errors import InvalidInput, Unavailable
        from ..search import search_hits

        if not messages or messages[-1]["role"] != "user":
            return ""
        query = recall.query_of(" ".join(part["text"] for part in messages[-1]["content"]))
        if not recall.Prompt(query).terms:
            return ""
        hits = []
        for ns in dict.fromkeys((namespace, names.DEFAULT_NAMESPACE)):
            try:
                found = search_hits(self.memories, query, namespace=ns, limit=recall.RECALL_HITS)
            except InvalidInput:
                continue
            except Unavailable as error:  # as the prompt hook: the message goes on without them
                self.log("bridge_recall_skipped", namespace=ns, status=error.status)
                continue
            hits += [{**m.to_json(), "score": score, "matched": matched} for m, score, matched in found]
        return recall.render(recall.pick(hits, query, known))

    def _slide(self, conversation: Conversation, start: str, namespace: str) -> None:
        """The window moved on: summarise what left it (once) into a memory tagged bridge."""
        from .claude import ClaudeError

        state = conversation.state(create=True)[0]
        done_to = state.get("summarised_to", "")
        left = [(n, t) for n, t in conversation.turns() if done_to < n < start]
        conversation.update_state(lambda s: s.update(window_from=start))
        if not left:
            return
        try:
            summary = self.claude.complete(*summary_request(conversation.session, left)).strip()
        except ClaudeError as error:
            self.log("bridge_summary_failed", session=conversation.session, status=error.status)
            return  # tried again when the window next moves: summarised_to did not advance
        if summary:  # similar=False: a summary is kept whatever it resembles, so no similar search
            self.memories.write(
                text=summary,
                tags=["bridge"],
                source="bridge",
                session=conversation.session,
                namespace=namespace,
                similar=False,
            )
        conversation.update_state(lambda s: s.update(summarised_to=left[-1][0]))
