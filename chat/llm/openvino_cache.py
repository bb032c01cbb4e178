"""The packaged GGUF as an OpenVINO model directory, built once and cached.

OpenVINO GenAI reads a GGUF itself, but rebuilding the model from it takes
7-10 s and 2 GB on every start. Built once with `enable_save_ov_model`, the
same model saved as OpenVINO IR (model, tokenizer and detokenizer) loads in
about 2 s. The directory `<cache>/<name>-ov/` is built in a temp dir and
renamed into place, with a stamp naming the source GGUF, the OpenVINO version
and every file's size: a half-built copy never looks complete, and a truncated
or replaced file, an upgraded OpenVINO or a new source all trigger a rebuild.
A GGUF with tensor types OpenVINO cannot read is first re-quantised
(chat/llm/requant.py).

One change is made to the saved model (`IR_REVISION` in the stamp names it):
OpenVINO writes a zero point per group of 32 weights even where a tensor's
zero points are all one value (every Q8_0 tensor: 128), and the CPU plugin
holds each as a float32 tensor. Such a tensor becomes one scalar: the
default model's resident memory falls by about 74 MB, and its greedy replies
are unchanged.

Nothing here imports torch or transformers.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import registry, requant
from .errors import ModelError
from .packaged import STAMP_FORMAT, publish_dir, read_json, write_json_atomic

log = logging.getLogger(__name__)

STAMP = "recochat-openvino.json"
IR_REVISION = 2  # bump when the saved model is changed differently: old builds rebuild
IR_FILES = (
    "openvino_model.xml",
    "openvino_model.bin",
    "openvino_tokenizer.xml",
    "openvino_tokenizer.bin",
    "openvino_detokenizer.xml",
    "openvino_detokenizer.bin",
)


def openvino_version() -> str:
    import openvino_genai

    return openvino_genai.__version__


@dataclass(frozen=True)
class EngineReport:
    version: str = ""
    cpu: str = ""
    features: tuple[str, ...] = ()  # what the CPU plugin can use: FP32, BF16, INT8 ...
    problem: str = ""


def engine_report() -> EngineReport:
    """For `recochat doctor`: can OpenVINO run here, and with what."""
    try:
        import openvino
        import openvino_genai
    except ImportError as e:
        return EngineReport(problem=f"{e}; install openvino-genai (it installs with recochat)")
    try:
        core = openvino.Core()
        features = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        cpu = core.get_property("CPU", "FULL_DEVICE_NAME")
    except RuntimeError as e:
        return EngineReport(openvino_genai.__version__, problem=str(e).splitlines()[0])
    return EngineReport(openvino_genai.__version__, str(cpu), tuple(features))


def openvino_dir(name: str, cache_dir: Path | str) -> Path:
    return Path(cache_dir) / f"{name}-ov"


def read_stamp(directory: Path) -> dict | None:
    """The stamp if `directory` is a complete build whose files are unchanged."""
    stamp = read_json(directory / STAMP)
    if not stamp or stamp.get("format") != STAMP_FORMAT:
        return None
    for file, size in (stamp.get("files") or {}).items():
        try:
            if (directory / file).stat().st_size != size:
                return None
        except OSError:
            return None
    return stamp if set(stamp.get("files") or ()) >= set(IR_FILES) else None


def _current(model: str, cache_dir: Path | str) -> tuple[Path, dict] | None:
    """The directory and stamp of a build of `model` (a registry name or .gguf path)
    from the current source by this OpenVINO version. Cheap: it never hashes the
    GGUF nor loads anything."""
    source = registry.source_check(model)
    if source is None:
        return None
    name, current = source
    directory = openvino_dir(name, cache_dir)
    stamp = read_stamp(directory)
    if (
        stamp
        and current(stamp.get("source", ""))
        and stamp.get("openvino") == openvino_version()
        and stamp.get("ir") == IR_REVISION
    ):
        return directory, stamp
    return None


def cached_build(model: str, cache_dir: Path | str) -> Path | None:
    """The model directory for `model` if a current build is there (see `_current`)."""
    found = _current(model, cache_dir)
    return found[0] if found else None


def context_length(gguf_path: Path) -> int | None:
    """The context window a GGUF declares (`<arch>.context_length`)."""
    from gguf import GGUFReader

    fields = GGUFReader(gguf_path).fields
    arch = fields["general.architecture"].contents()
    field = fields.get(f"{arch}.context_length")
    return int(field.contents()) if field is not None else None


def _save_ir(gguf_path: Path, directory: Path) -> None:
    """Let OpenVINO GenAI build the model from the GGUF and save it as IR. It writes
    beside the file it reads, so it reads a link placed in `directory`."""
    import openvino_genai

    link = directory / "model.gguf"
    link.symlink_to(gguf_path.resolve())
    try:
        pipe = openvino_genai.LLMPipeline(str(link), "CPU", enable_save_ov_model=True)
        del pipe
    except RuntimeError as e:
        raise ModelError(
            f"OpenVINO cannot read {gguf_path}: {str(e).splitlines()[0]}. "
            "Set RECOCHAT_LLM_ENGINE=transformers to use the transformers engine."
        ) from e
    finally:
        link.unlink()
    missing = [f for f in IR_FILES if not (directory / f).is_file()]
    if missing:
        raise ModelError(
            f"OpenVINO did not save {', '.join(missing)} for {gguf_path}. "
            "Set RECOCHAT_LLM_ENGINE=transformers to use the transformers engine."
        )


def _scalar_zero_points(directory: Path) -> int:
    """Rewrite the saved model so that each weight tensor whose zero points are all
    one value subtracts a scalar instead (see the module's docstring); returns how
    many were rewritten."""
    import numpy as np
    import openvino
    from openvino import opset13

    xml = directory / "openvino_model.xml"
    model = openvino.Core().read_model(xml)
    rewritten = 0
    for subtract in model.get_ordered_ops():
        if subtract.get_type_name() != "Subtract":
            continue
        convert = subtract.input_value(1).get_node()
        points = convert.input_value(0).get_node() if convert.get_type_name() == "Convert" else None
        if points is None or points.get_type_name() != "Constant":
            continue
        values = points.get_data()
        if values.size <= 1 or (values != values.flat[0]).any():
            continue
        scalar = np.full([1] * values.ndim, values.flat[0], dtype=values.dtype)
        constant = opset13.constant(scalar, points.get_output_element_type(0))
        convert.input(0).replace_source_output(constant.output(0))
        rewritten += 1
    if rewritten:
        new = directory / "rewritten.xml"
        openvino.save_model(model, new, compress_to_fp16=False)
        del model  # it maps the old .bin
        new.with_suffix(".bin").replace(xml.with_suffix(".bin"))
        new.replace(xml)
    return rewritten


def build(resolved: registry.ResolvedModel, cache_dir: Path | str) -> tuple[Path, dict]:
    """Build `<cache>/<name>-ov/` from a resolved GGUF model; returns it and its stamp."""
    if not resolved.gguf_file:
        raise ModelError(
            f"The OpenVINO engine reads GGUF files; {resolved.location} is not one. "
            "Set RECOCHAT_LLM_ENGINE=transformers (or auto) for transformers models."
        )
    cache_dir = Path(cache_dir)
    started = time.perf_counter()
    source = Path(resolved.location) / resolved.gguf_file
    try:
        readable = requant.ensure_openvino_gguf(
            source, resolved.fingerprint, cache_dir, resolved.name
        )
    except ModelError:
        raise
    except Exception as e:  # the gguf reader raises ValueError, KeyError, OSError ...
        raise ModelError(
            f"Cannot read {source} as a GGUF file ({type(e).__name__}: {e}). Pass an intact "
            f".gguf file, or one of the packaged models: {', '.join(registry.MODELS)}."
        ) from e
    final = openvino_dir(resolved.name, cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        _save_ir(readable, tmp)
        _scalar_zero_points(tmp)
        stamp = {
            "format": STAMP_FORMAT,
            "name": resolved.name,
            "source": resolved.fingerprint,
            "openvino": openvino_version(),
            "ir": IR_REVISION,
            "context_length": context_length(readable),
            "files": {f: (tmp / f).stat().st_size for f in IR_FILES},
        }
        write_json_atomic(tmp / STAMP, stamp)
        publish_dir(tmp, final)  # replaces a stale or damaged build
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("built %s in %.0f s", final, time.perf_counter() - started)
    return final, stamp


@dataclass(frozen=True)
class Build:
    directory: Path
    stamp: dict
    built: bool  # made just now (False: a current build was in the cache)


def ensure(model: str, cache_dir: Path | str, *, rebuild: bool = False) -> Build:
    """The OpenVINO model directory for a registry name or .gguf path, and its stamp.
    A current cached build is used as it is; otherwise the GGUF is resolved (and
    sha256-checked) and the directory built."""
    found = None if rebuild else _current(model, cache_dir)
    if found is not None:
        return Build(*found, built=False)
    return Build(*build(registry.resolve(model, cache_dir), cache_dir), built=True)
