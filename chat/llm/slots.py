"""Admission to the engine: at most `slots` generations at once, first come first
served, and a bounded wait.

On two cores a few generations share each forward pass well; twenty do not, and
every turn in the queue would wait for all the ones before it. A caller that
cannot start within `wait_s` gets `ModelBusy` at once, so a turn under load
still answers in bounded time (its cards and a template reply) instead of
waiting minutes for the model.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ModelBusy


class Slots:
    def __init__(self, name: str, slots: int, wait_s: float | None = None):
        self.name = name
        self.slots = max(1, slots)
        self.wait_s = wait_s  # None: wait as long as it takes (CLI, evaluations)
        self._free = self.slots
        self._line: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, wait_s: float | None = None) -> Iterator[None]:
        """Hold one slot for the block; wait in line for it, at most `wait_s` (or
        the default's, whichever is shorter)."""
        if wait_s is None or (self.wait_s is not None and self.wait_s < wait_s):
            wait_s = self.wait_s
        ticket = object()
        with self._changed:
            self._line.append(ticket)
            deadline = None if wait_s is None else time.monotonic() + wait_s
            while not (self._free and self._line[0] is ticket):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._line.remove(ticket)
                    self._changed.notify_all()  # the one behind may be first now
                    raise ModelBusy.waited(self.name, self.slots, wait_s or 0)
                self._changed.wait(left)
            self._line.popleft()
            self._free -= 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()

    @property
    def waiting(self) -> int:
        return len(self._line)
