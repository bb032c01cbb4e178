"""Pictures recochat serves itself: a catalog's `image` field may name a path such as
"/images/tent.svg" instead of a web address. They come from RECOCHAT_HOME/images
(a shop's own files) and then from the demo catalog's illustrations, shipped with
recochat. The API serves them at /images/NAME; the web chat inlines them."""

from __future__ import annotations

import base64
import re
from importlib.resources import files
from pathlib import Path

PREFIX = "/images/"
TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_INLINE_BYTES = 200_000  # larger pictures belong on a web server, not in every card


class Images:
    def __init__(self, home: Path):
        self.folders = [
            Path(home) / "images",
            Path(str(files("retrieval.items") / "data" / "images")),
        ]

    def find(self, name: str) -> tuple[Path, str] | None:
        """The file for a picture name and its media type, or None (unknown, or a name
        that tries to leave the folder)."""
        suffix = Path(name).suffix.lower()
        if not _NAME.match(name) or ".." in name or suffix not in TYPES:
            return None
        for folder in self.folders:
            path = folder / name
            if path.is_file():
                return path, TYPES[suffix]
        return None

    def inline(self, url: str) -> str | None:
        """A data: URL for "/images/NAME" (the web chat has no /images route)."""
        if not url.startswith(PREFIX):
            return None
        found = self.find(url[len(PREFIX) :])
        if found is None or found[0].stat().st_size > MAX_INLINE_BYTES:
            return None
        path, media = found
        return f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
