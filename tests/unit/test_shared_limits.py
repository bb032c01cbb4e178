"""Rate limits and session locks shared by workers through Redis: two limiters
(as two worker processes hold) count one window; an unreachable Redis is a clear
error at start, not a 500 per request."""

from __future__ import annotations

import pytest
from helpers.locks import order_through

from chat.errors import ChatError
from chat.frontends.api.errors import ApiError
from chat.frontends.api.limits import RateLimiter


def test_an_unreachable_redis_is_named_at_start():
    with pytest.raises(ChatError, match="Cannot reach Redis at RECOCHAT_REDIS_URL"):
        RateLimiter("5/minute", "redis://127.0.0.1:1/0")


@pytest.mark.e2e
def test_two_workers_limiters_count_one_window(redis_server):
    first, second = (
        RateLimiter("5/minute", redis_server.url),
        RateLimiter("5/minute", redis_server.url),
    )
    allowed = 0
    for n in range(10):
        try:
            (first if n % 2 else second).hit("key_shared")
            allowed += 1
        except ApiError as e:
            assert e.status == 429 and "Retry in" in str(e)
    assert allowed == 5
    first.hit("key_other")  # another key has its own window


@pytest.mark.e2e
def test_a_redis_session_lock_excludes_another_worker(redis_server):
    from chat.frontends.api.session_locks import SessionLocks
    from chat.persist.sqlite import SqliteDatabase

    class NoDb(SqliteDatabase):
        def __init__(self):  # the Redis lock never touches the database
            pass

    a, b = SessionLocks(NoDb(), redis_server.url), SessionLocks(NoDb(), redis_server.url)
    assert order_through(a.hold("s1"), b.hold("s1")) == ["first", "second"]
    assert a.where == "redis"
