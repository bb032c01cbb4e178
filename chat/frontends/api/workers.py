"""`recochat serve --workers N`: N worker processes, each with its own listening
socket on the same port (SO_REUSEPORT), so the kernel spreads new connections
evenly over them. (One socket shared by all, as uvicorn's own --workers does,
lets whichever worker wakes first take nearly every connection on a busy machine:
500 of 500 turns went to one of two workers when measured.)

Each worker builds its own App from the settings in the environment; a worker
that dies is started again, unless it died MAX_RESTARTS times within
RESTART_WINDOW_S (a crash loop: a bad setting, a broken model), when the
supervisor stops them all and says so; SIGTERM or Ctrl+C stops them all (each
finishes its running turns first).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from collections import deque
from typing import Any

from chat import ChatError

RESTART_PAUSE_S = 1.0
MAX_RESTARTS = 5  # restarts of one worker within RESTART_WINDOW_S before giving up
RESTART_WINDOW_S = 60.0
M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind before uvicorn starts, so a busy port is a clear error, not a log line.
    With `reuse_port` several workers each bind their own socket to the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise ChatError(
            f"Cannot serve on {host}:{port}: the port is in use or not allowed here. "
            "Pass --port with another number (or set RECOCHAT_SERVE_PORT)."
        ) from None
    sock.set_inheritable(True)
    return sock


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Fewer glibc malloc arenas for a server's many threads (turns, the engine's, the
    event loop): by default each busy thread may get its own arena, whose freed memory
    stays with it. Two hold the resident size down under load (`MALLOC_ARENA_MAX`
    as a call: it must come before the threads start). Elsewhere than glibc, nothing."""
    import ctypes
    import ctypes.util

    if os.environ.get("MALLOC_ARENA_MAX"):  # the operator's choice wins
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(M_ARENA_MAX, arenas)
    except OSError:
        pass


def _worker(sock: socket.socket, config: dict[str, Any]) -> None:
    import uvicorn

    limit_malloc_arenas()

    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


def supervise(host: str, port: int, workers: int, config: dict[str, Any]) -> None:
    """Run `workers` processes of uvicorn.Config(**config) until SIGTERM / SIGINT."""
    spawn = multiprocessing.get_context("spawn")
    sockets = [bind(host, port, reuse_port=True) for _ in range(workers)]
    for sock in sockets:
        sock.listen(2048)
    stopping = False

    def start(sock: socket.socket) -> Any:
        process = spawn.Process(target=_worker, args=(sock, config), daemon=False)
        process.start()
        return process

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    processes = [start(sock) for sock in sockets]
    restarts: list[deque[float]] = [deque(maxlen=MAX_RESTARTS) for _ in sockets]
    try:
        while not stopping:
            time.sleep(0.2)
            for n, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                now = time.monotonic()
                if len(restarts[n]) == MAX_RESTARTS and now - restarts[n][0] < RESTART_WINDOW_S:
                    raise ChatError(
                        f"worker {process.pid} exited ({process.exitcode}), the "
                        f"{MAX_RESTARTS + 1}th exit of that worker within "
                        f"{RESTART_WINDOW_S:.0f} s: giving up (a crash loop; its errors "
                        "are above). Stopping all workers."
                    )
                restarts[n].append(now)
                print(
                    f"worker {process.pid} exited ({process.exitcode}); starting another",
                    flush=True,
                )
                time.sleep(RESTART_PAUSE_S)
                processes[n] = start(sockets[n])
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
        for sock in sockets:
            sock.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
