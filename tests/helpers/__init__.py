"""Shared test helpers (servers, trackers, learning data); `tests` is on sys.path."""
