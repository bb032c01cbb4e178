"""chat/llm/pages.py: the resident pages of a mapped file are given back, and the
file still reads the same afterwards."""

from __future__ import annotations

import mmap
import sys

import pytest

from chat.llm import pages


def _resident_kb(path) -> int:
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if "-" in fields[0] and ":" not in fields[0]:
            inside = line.rstrip().endswith(str(path))
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc are Linux's")
def test_the_pages_of_a_mapped_file_are_released_and_read_back(tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(bytes(range(256)) * 16_384)  # 4 MB
    with open(weights, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
        checksum = sum(view[i] for i in range(0, len(view), 4096))  # touch every page
        assert _resident_kb(weights) >= 4_000
        assert pages.release(weights) == 4 * 2**20
        assert _resident_kb(weights) < 100
        assert sum(view[i] for i in range(0, len(view), 4096)) == checksum


def test_a_file_that_is_not_mapped_releases_nothing(tmp_path):
    assert pages.release(tmp_path / "nothing.bin") == 0
