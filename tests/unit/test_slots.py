"""Admission to the engine (chat/llm/slots.py): first come first served, a bounded
wait, and a busy model costs a turn its LLM copy, never the turn."""

from __future__ import annotations

import threading
import time

import pytest

from chat.llm import ModelBusy
from chat.llm.slots import Slots


def test_callers_get_the_free_slots_at_once():
    slots = Slots("m", 2, wait_s=0.05)
    with slots.slot(), slots.slot():
        with pytest.raises(ModelBusy, match="2 generation slots stayed taken for 0.05 s"):
            with slots.slot():
                pass
    with slots.slot():  # both were given back
        pass


def test_waiters_are_served_in_the_order_they_came():
    slots = Slots("m", 1, wait_s=5)
    order: list[int] = []
    hold = slots.slot()
    hold.__enter__()

    def wait_in_line(n: int) -> None:
        with slots.slot():
            order.append(n)

    threads = []
    for n in range(5):
        t = threading.Thread(target=wait_in_line, args=(n,))
        t.start()
        threads.append(t)
        while slots.waiting < n + 1:  # each one is in line before the next arrives
            time.sleep(0.001)
    hold.__exit__(None, None, None)
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]


def test_one_who_gave_up_does_not_hold_up_the_line():
    slots = Slots("m", 1, wait_s=0.05)
    hold = slots.slot()
    hold.__enter__()
    with pytest.raises(ModelBusy):
        with slots.slot():
            pass
    assert slots.waiting == 0
    hold.__exit__(None, None, None)
    with slots.slot():
        pass


def test_without_a_limit_a_caller_waits_for_the_slot():
    slots = Slots("m", 1)
    got = threading.Event()
    hold = slots.slot()
    hold.__enter__()

    def wait() -> None:
        with slots.slot():
            got.set()

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.1)
    assert not got.is_set()
    hold.__exit__(None, None, None)
    t.join(5)
    assert got.is_set()


def test_a_caller_may_wait_less_than_the_default_but_not_more():
    slots = Slots("m", 1, wait_s=0.2)
    with slots.slot():
        started = time.perf_counter()
        with pytest.raises(ModelBusy, match="for 0.01 s"):
            with slots.slot(0.01):
                pass
        with pytest.raises(ModelBusy, match="for 0.2 s"):
            with slots.slot(60):
                pass
        assert time.perf_counter() - started < 5
