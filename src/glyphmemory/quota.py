"""Fixed-window counters in the store's auth records, for what anyone may call without a
credential (client registration): `take` counts one use in each of several buckets, or says how
long to wait. One record per bucket and window (`NAME@WINDOW_START`), changed by compare-and-set
and expiring with its window, so counting costs two store calls a bucket and leaves nothing behind.
"""

from __future__ import annotations

_CAS_TRIES = 8


def take(store, group: str, buckets: list[tuple[str, int]], window_s: int, now: float) -> int:
    """Count one use in every (bucket, limit) of the current window; 0 when all had room, else
    the whole seconds until the window ends (the first full bucket stops the count: the
    buckets before it keep theirs, so a source refused by the total still spends its own)."""
    start = int(now) // window_s * window_s
    retry_after = max(1, start + window_s - int(now))
    for bucket, limit in buckets:
        name = f"{bucket}@{start}"
        for _ in range(_CAS_TRIES):
            data, version = store.records_get(group, name)
            count = (data or {}).get("count", 0)
            if count >= limit:
                return retry_after
            if store.records_put_if(
                group, name, {"count": count + 1}, expected_version=version, expires_at=start + window_s
            ):
                break
        else:  # as busy as that, the bucket is as good as full
            return retry_after
    return 0
