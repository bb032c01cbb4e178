"""Giving back the memory of a weights file the engine has copied.

OpenVINO maps the model's .bin file and, on the first inference, repacks the
weights into its own layout in anonymous memory. The mapped pages stay resident
after that, though nothing reads most of them again: about 450 MB of the
default model's 1.4 GB. `release` tells the kernel to drop them
(madvise MADV_DONTNEED on a read-only file mapping: a page read later comes
back from the file, so nothing can go wrong but a page fault). Measured with the
default model: resident memory 1,360 → 887 MB, 19 MB read back by the next
turn, the same speed.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

MADV_DONTNEED = 4


def release(path: Path | str) -> int:
    """Drop the resident pages of every mapping of `path` in this process; return
    the bytes of mappings advised (0 where the platform cannot)."""
    if not sys.platform.startswith("linux"):
        return 0
    target = str(Path(path).resolve())
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/maps") as maps:
            spans = [_span(line) for line in maps if line.rstrip().endswith(target)]
    except OSError as e:  # no /proc or no libc: the memory is merely not given back
        log.debug("cannot release %s: %s", target, e)
        return 0
    advised = 0
    for start, end in spans:
        if libc.madvise(start, end - start, MADV_DONTNEED) == 0:
            advised += end - start
    return advised


def _span(line: str) -> tuple[int, int]:
    start, end = line.split()[0].split("-")
    return int(start, 16), int(end, 16)
