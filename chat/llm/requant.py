"""A GGUF that OpenVINO's reader accepts, made once from one it rejects.

OpenVINO GenAI reads GGUF files itself, but not every tensor type: the packaged
Qwen2.5-Coder file holds Q5_0 tensors and loading it fails with
"gguf_tensor_to_f16 failed". Re-quantising just those tensors to Q8_0 (finer
than Q5_0, so nothing is lost beyond the original rounding) with the pinned
`gguf` package fixes that; every metadata key, the chat template included, is
copied unchanged, and every other tensor is copied byte for byte.

The result lives in the model cache beside the transformers conversion, written
to a temp file, fsynced and renamed, with a stamp naming its source and its own
size and mtime; a copy truncated or rewritten since fails that check and is rebuilt.
It is only read when the OpenVINO model directory is (re)built, never on a start
that finds a current one, so a cheap check is enough.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import ModelError
from .packaged import STAMP_FORMAT, read_json, write_json_atomic

log = logging.getLogger(__name__)

# Tensor types OpenVINO GenAI 2026.4's GGUF reader loads; anything else becomes Q8_0.
ACCEPTED = frozenset({"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "Q8_0"})
TARGET = "Q8_0"
REQUANT_VERSION = 1  # bump when the conversion changes; older copies are then rebuilt


def rejected_tensors(path: Path) -> list[str]:
    """Names of the tensors in `path` that OpenVINO's reader would refuse."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    return [t.name for t in reader.tensors if t.tensor_type.name not in ACCEPTED]


def _copy_fields(reader: Any, writer: Any) -> None:
    import gguf

    for field in reader.fields.values():
        # The writer emits the architecture and the GGUF.* header fields itself.
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)


def _converted(tensor: Any) -> tuple[Any, Any]:
    """(data, type) to write for one tensor: unchanged, or re-quantised to Q8_0."""
    import gguf
    from gguf.quants import dequantize, quantize

    if tensor.tensor_type.name in ACCEPTED:
        return tensor.data, tensor.tensor_type
    target = gguf.GGMLQuantizationType[TARGET]
    floats = dequantize(tensor.data, tensor.tensor_type)
    return quantize(floats, target), target


def write_requantised(source: Path, target: Path) -> int:
    """Write `source` to `target` with rejected tensors as Q8_0; returns how many."""
    import gguf

    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(target, arch, endianess=reader.endianess)
    _copy_fields(reader, writer)
    changed = 0
    converted = []
    for tensor in reader.tensors:
        data, kind = _converted(tensor)
        changed += kind != tensor.tensor_type
        converted.append((tensor.name, data, kind))
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in converted:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()
    return changed


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def cached_copy(target: Path, source_digest: str) -> Path | None:
    """`target` if a complete conversion of the source with `source_digest` is there:
    the stamp, written after the rename, names that source and the copy's size and
    mtime as they were then."""
    stamp = read_json(_stamp(target))
    if not stamp or stamp.get("format") != STAMP_FORMAT or stamp.get("version") != REQUANT_VERSION:
        return None
    try:
        st = target.stat()
    except OSError:
        return None
    same = stamp.get("size") == st.st_size and stamp.get("mtime_ns") == st.st_mtime_ns
    return target if same and stamp.get("source") == source_digest else None


def ensure_openvino_gguf(source: Path, source_digest: str, cache_dir: Path, name: str) -> Path:
    """A GGUF OpenVINO can read: `source` itself when it can, else a cached copy."""
    if not rejected_tensors(source):
        return source
    target = Path(cache_dir) / f"{name}.ov.gguf"
    if cached_copy(target, source_digest) is not None:
        return target
    log.warning("re-quantising %s for OpenVINO once (about 15 s); cached as %s", source, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)
    try:
        write_requantised(source, Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if rejected_tensors(Path(tmp)):  # the converter itself must have worked
            raise ModelError(f"Re-quantising {source} left tensors OpenVINO cannot read.")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    st = target.stat()
    stamp = {
        "format": STAMP_FORMAT,
        "version": REQUANT_VERSION,
        "source": source_digest,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }
    write_json_atomic(_stamp(target), stamp)
    return target
