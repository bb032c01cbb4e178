"""Importing a library without the optional heavy libraries it would load only to
offer features recochat never uses.

Presidio (and the spaCy it brings) import torch and transformers when installed, for
GPU detection and model-based recognizers; LightGBM imports scikit-learn and pandas
for its scikit-learn wrappers and DataFrame input. Each of those imports is guarded
in the library (`except ImportError`), so refusing them only leaves those features
out. Measured in one process: the masker without torch and transformers, +335 MB
RSS and +18 s less at start; LightGBM without scikit-learn and pandas, 6 MB instead
of 70 MB once SciPy is loaded.

Only imports made by the named packages are refused, so another thread importing
one of those libraries meanwhile is not affected; once the library is loaded anyway
(the transformers LLM engine loads torch), they simply share it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from collections.abc import Collection
from types import FrameType, ModuleType
from typing import Any


class _Refuse(importlib.abc.MetaPathFinder):
    def __init__(self, refused: Collection[str], importers: Collection[str], why: str):
        self.refused, self.importers, self.why = set(refused), set(importers), why

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.refused and _importer() in self.importers:
            raise ModuleNotFoundError(f"{name}: {self.why}", name=name)
        return None


def _importer() -> str:
    """The top package of the module whose `import` statement is being run (the import
    machinery and this module skipped)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("importlib") and module != __name__:
            return module.partition(".")[0]
        frame = frame.f_back
    return ""


def import_lean(
    names: Collection[str], *, refused: Collection[str], by: Collection[str], why: str
) -> list[ModuleType]:
    """Import `names` while the packages `by` may not import `refused`."""
    guard = _Refuse(refused, by, why)
    sys.meta_path.insert(0, guard)
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.meta_path.remove(guard)
