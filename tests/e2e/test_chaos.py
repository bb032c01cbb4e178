"""Faults, on real processes and services (eval/perf/crash.py runs each kill x5 and
prints the figures; here one of each): kill -9 of a serving worker mid-traffic and
of an ingest while it writes; Redis going away and coming back; a worker that
crashes in a loop; an e-mail as a user id kept out of the log."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from helpers.servers import ADMIN, FIXTURES, ApiServer, new_key, run_cli, server_env

from eval.perf import crash
from eval.perf.scale_out import Serve, prepare, scale_out_env
from eval.perf.services import Redis, ServiceMissing

pytestmark = pytest.mark.e2e


def test_a_worker_killed_mid_traffic_loses_no_acknowledged_turn(
    tmp_path, postgres, redis_server, chroma_server
):
    database = postgres.fresh_database("crash" + uuid.uuid4().hex[:8])
    env = scale_out_env(tmp_path / "home", database, redis_server.url, chroma_server.port)
    env["RECOCHAT_COLLECTION"] = "crash" + uuid.uuid4().hex[:8]
    key = prepare(env)
    server = Serve(env, tmp_path / "serve.log", 2)
    try:
        server.wait(300)
        round_ = crash.kill_a_worker(server, server.url, key, 0, sessions=4, turns=5)
        alive = server.process.poll() is None
    finally:
        server.stop()
    figures = round_.load.figures()
    print(round_.line())
    assert figures["acknowledged"] == 20 and figures["lost"] == 0, figures
    assert round_.restarted and alive, server.log()


def test_an_ingest_killed_while_writing_leaves_whole_rows_and_resumes(tmp_path):
    # killed within the first second of writing 6000 rows (about 7 s on a busy machine)
    [round_] = crash.ingest_crashes(1, 6000, server=False, within=1.0)
    assert round_.written_at_kill < 6000
    assert round_.half_rows == 0 and round_.not_found_by_own_vector == 0
    assert round_.added == 6000 - round_.written_at_kill and round_.updated == 0
    assert round_.ids_exact and round_.second_embedded == 0


@pytest.fixture
def own_redis():
    try:
        server = Redis()
    except ServiceMissing as e:
        pytest.skip(str(e))
    holder = [server]
    yield holder
    holder[0].stop()


def test_redis_gone_is_a_503_and_the_next_turn_works_once_it_is_back(tmp_path, own_redis):
    env = server_env(tmp_path / "home", redis_url=own_redis[0].url, admin_key=ADMIN)
    run_cli(env, "ingest", str(FIXTURES / "shop_small.jsonl"))
    server = ApiServer(env, tmp_path / "serve.log")
    try:
        server.wait()
        key = new_key(env, "redis")
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"})
        sid = http.post("/v1/sessions", json={"user_id": "jane.doe@example.com"}).json()
        sid = sid["session_id"]
        assert http.post(f"/v1/sessions/{sid}/messages", json={"message": "a tent"}).is_success

        own_redis[0].stop()
        r = http.post(f"/v1/sessions/{sid}/messages", json={"message": "a cheaper one"})
        assert r.status_code == 503, r.text
        assert "unreachable" in r.json()["error"]["message"] and "Retry-After" in r.headers

        own_redis[0] = Redis(port=own_redis[0].port)
        r = http.post(f"/v1/sessions/{sid}/messages", json={"message": "a cheaper one"})
        assert r.status_code == 200 and r.json()["reply"], r.text
        admin = {"Authorization": f"Bearer {ADMIN}"}
        r = http.get("/v1/admin/users/jane.doe@example.com/export", headers=admin)
        assert r.status_code == 200 and r.json()["sessions"], r.text
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "jane.doe@example.com" not in log  # user ids are masked in logs like messages


def test_the_session_lock_outlives_a_long_turn_and_lapses_when_its_holder_dies(
    redis_server, monkeypatch
):
    import redis

    from chat.frontends.api import session_locks
    from chat.persist.sqlite import SqliteDatabase

    monkeypatch.setattr(session_locks, "LOCK_SECONDS", 1)
    monkeypatch.setattr(session_locks, "RENEW_SECONDS", 0.2)

    class NoDb(SqliteDatabase):
        def __init__(self):  # the Redis lock never touches the database
            pass

    a = session_locks.SessionLocks(NoDb(), redis_server.url)
    b = session_locks.SessionLocks(NoDb(), redis_server.url)
    order = []

    def other():
        with b.hold("long"):
            order.append("b")

    with a.hold("long"):
        t = threading.Thread(target=other)
        t.start()
        time.sleep(2.5)  # well past LOCK_SECONDS: renewed, so b still waits
        order.append("a")
    t.join(10)
    assert order == ["a", "b"]

    # a holder killed mid-turn renews nothing: its lock lapses after LOCK_SECONDS
    redis.Redis.from_url(redis_server.url).lock("recochat:session:dead", timeout=1).acquire()
    started = time.monotonic()
    with b.hold("dead"):
        waited = time.monotonic() - started
    assert 0.3 < waited < 3, waited


def test_the_supervisor_gives_up_on_a_worker_that_crashes_in_a_loop(monkeypatch):
    from chat import ChatError
    from chat.frontends.api import workers
    from eval.perf.services import free_port

    monkeypatch.setattr(workers, "RESTART_PAUSE_S", 0.0)
    with pytest.raises(ChatError, match="giving up"):
        workers.supervise("127.0.0.1", free_port(), 1, {"app": "no_such_module:app"})
