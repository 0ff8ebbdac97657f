"""errors.retried: the one retry rule of the CLI's API client and the AWS client."""

from __future__ import annotations

import math
import time

import pytest

from glyphmemory.errors import retried


class Flaky:
    """Fails with the given errors in turn, then answers "ok"; counts its calls."""

    def __init__(self, *errors: Exception):
        self.errors, self.calls = list(errors), 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_a_retryable_error_is_tried_again_until_it_answers():
    call = Flaky(TimeoutError(), TimeoutError())
    assert retried(call, retryable=lambda e: True, attempts=3, deadline_s=5, base_delay_s=0.01) == "ok"
    assert call.calls == 3


def test_what_is_not_retryable_or_past_the_attempts_is_raised_at_once():
    call = Flaky(KeyError("x"))
    with pytest.raises(KeyError):
        retried(call, retryable=lambda e: isinstance(e, TimeoutError), attempts=5, deadline_s=5, base_delay_s=0.01)
    assert call.calls == 1
    call = Flaky(TimeoutError(), TimeoutError(), TimeoutError())
    with pytest.raises(TimeoutError):
        retried(call, retryable=lambda e: True, attempts=2, deadline_s=5, base_delay_s=0.01)
    assert call.calls == 2


def test_retry_after_is_waited_for_and_a_wait_past_the_deadline_is_not():
    call = Flaky(TimeoutError())
    started = time.monotonic()
    assert retried(call, retryable=lambda e: True, attempts=2, deadline_s=5, base_delay_s=0, retry_after=lambda e: 0.3)
    assert 0.3 <= time.monotonic() - started < 2 and call.calls == 2
    call = Flaky(TimeoutError())
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # asked to wait 60 s with 1 s left: the error, at once
        retried(call, retryable=lambda e: True, attempts=2, deadline_s=1, base_delay_s=0, retry_after=lambda e: 60)
    assert time.monotonic() - started < 0.5 and call.calls == 1


def test_max_delay_caps_the_growing_wait(monkeypatch):
    """Twelve tries with base 0.1 s would wait up to 204.8 s before the last; capped, each wait is
    at most max_delay_s."""
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    call = Flaky(*[TimeoutError()] * 11)
    assert retried(call, retryable=lambda e: True, attempts=12, deadline_s=60, base_delay_s=0.1, max_delay_s=0.25)
    assert len(waits) == 11 and max(waits) <= 0.25 and call.calls == 12


def test_exact_retry_after_waits_what_the_server_said_capped(monkeypatch):
    """The Messages API's rule (bridge.claude): its retry-after exactly (0 is no wait at all, not
    a jittered one), capped at max_delay_s; the jitter only when it said nothing."""
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    said = iter([0.0, 7.0, 60.0, None])
    call = Flaky(*[TimeoutError()] * 4)
    assert retried(
        call,
        retryable=lambda e: True,
        attempts=5,
        deadline_s=math.inf,
        base_delay_s=100,
        retry_after=lambda e: next(said),
        max_delay_s=20,
        exact_retry_after=True,
    )
    assert waits[:3] == [0.0, 7.0, 20] and 0 <= waits[3] <= 20 and call.calls == 5
