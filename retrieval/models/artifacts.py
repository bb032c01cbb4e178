"""Learned artifacts on disk, versioned and checked.

One artifact is a folder `<name>/` holding `arrays.npz` and `manifest.json`
(format version, kind, the item ids it was trained on, training figures, and the
sha256 of the arrays). Saving writes to a temporary folder and renames it, so a
crash never leaves half an artifact under the real name. Loading checks the
format version and the checksum; any mismatch raises ArtifactError, and the
caller decides to go on without it (the server warns and uses the channels that
do exist).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import RetrievalError

ARTIFACT_FORMAT = 1


class ArtifactError(RetrievalError):
    """An artifact is missing, corrupt or from another format version."""


@dataclass
class Artifact:
    name: str
    kind: str
    item_ids: list[str]
    arrays: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)  # training figures, parameters
    created_at: float = 0.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_artifact(folder: Path, artifact: Artifact) -> Path:
    folder = Path(folder)
    target = folder / artifact.name
    staging = folder / f".{artifact.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # numpy's stub reads a **mapping as possibly its allow_pickle flag; these are arrays
    np.savez(staging / "arrays.npz", **artifact.arrays)  # type: ignore[arg-type]
    manifest = {
        "format": ARTIFACT_FORMAT,
        "kind": artifact.kind,
        "name": artifact.name,
        "created_at": artifact.created_at or time.time(),
        "item_ids": artifact.item_ids,
        "info": artifact.info,
        "sha256": _sha256(staging / "arrays.npz"),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    old = folder / f".{artifact.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def load_artifact(folder: Path, name: str, kind: str | None = None) -> Artifact:
    path = Path(folder) / name
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise ArtifactError(f"No '{name}' artifact in {folder}; run 'recochat train' to build it.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ArtifactError(
            f"The '{name}' artifact is corrupt ({e}); run 'recochat train' again."
        ) from None
    if manifest.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(
            f"The '{name}' artifact has format {manifest.get('format')}, this recochat reads "
            f"format {ARTIFACT_FORMAT}; run 'recochat train' to rebuild it."
        )
    if kind is not None and manifest.get("kind") != kind:
        raise ArtifactError(f"The '{name}' artifact is a {manifest.get('kind')}, not a {kind}.")
    arrays_path = path / "arrays.npz"
    if not arrays_path.is_file() or _sha256(arrays_path) != manifest.get("sha256"):
        raise ArtifactError(
            f"The '{name}' artifact's arrays do not match its checksum (corrupt or edited); "
            "run 'recochat train' again."
        )
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ArtifactError(f"The '{name}' artifact cannot be read ({e}).") from None
    return Artifact(
        name=manifest.get("name", name),
        kind=manifest["kind"],
        item_ids=list(manifest.get("item_ids", [])),
        arrays=arrays,
        info=manifest.get("info", {}),
        created_at=manifest.get("created_at", 0.0),
    )
