"""Whether one worker's lock keeps another out, for the session-lock tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager


def order_through(
    first: AbstractContextManager,
    second: AbstractContextManager,
    while_held: Callable[[], None] = lambda: None,
    pause: float = 0.3,
) -> list[str]:
    """Enter `first`; meanwhile another thread tries `second`; leave `first` after
    `pause` s (and `while_held`). The order the two got through: ["first", "second"]
    when the second lock waited for the first."""
    order = []

    def other() -> None:
        with second:
            order.append("second")

    with first:
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(pause)
        while_held()
        order.append("first")
    thread.join(10)
    return order
