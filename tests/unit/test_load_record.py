"""eval/perf/scale_out.Load: client threads record turns while another thread waits
for a number of acknowledged turns (crash.kill_a_worker's killer) and reads whole
figures, with no retry loop around a dict that changes under it."""

from __future__ import annotations

import threading

import pytest

from eval.perf.scale_out import Load


def test_a_waiter_wakes_at_the_count_and_reads_whole_figures():
    load = Load()
    for sid in ("s0", "s1", "s2", "s3"):
        load.sessions[sid], load.acknowledged[sid] = [], []
    seen: list[tuple[str, set[str], int]] = []

    def waiter():
        latest, workers = load.wait_acknowledged(150, timeout=60)
        seen.append((latest, workers, sum(map(len, load.acknowledged.values()))))

    def client(sid: str):
        for t in range(100):
            load.turn(sid, f"turn {t}", 0.01, f"worker-{sid}-{t % 3}", ok=t % 2 == 0)

    threads = [threading.Thread(target=waiter)]
    threads += [threading.Thread(target=client, args=(sid,)) for sid in load.sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    load.finish()
    [(latest, workers, acked_then)] = seen
    assert acked_then >= 150 and latest in workers and len(workers) <= 12
    f = load.figures()
    assert f["turns"] == 400 and f["acknowledged"] == 200 and len(load.latencies) == 400
    assert sum(load.workers.values()) == 400


def test_a_waiter_is_told_when_the_traffic_ends_short_of_the_count():
    load = Load()
    load.sessions["s"], load.acknowledged["s"] = [], []
    load.turn("s", "hello", 0.01, "w1", ok=True)
    threading.Timer(0.2, load.finish).start()
    with pytest.raises(RuntimeError, match="not acknowledged before the traffic ended"):
        load.wait_acknowledged(5, timeout=60)
