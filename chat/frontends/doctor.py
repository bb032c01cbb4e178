"""`recochat doctor`: offline checks that each model is installed and verifies,
the embedder loads, and the store opens; prints versions and paths."""

from __future__ import annotations

import importlib.metadata
import platform

from chat import USER_ERRORS, DataDirInUse, Settings, load_settings
from chat.llm import ModelError, registry
from chat.llm.openvino_cache import EngineReport, cached_build, engine_report

PACKAGES = (
    "openvino-genai",
    "torch",
    "transformers",
    "sentence-transformers",
    "chromadb",
    "gradio",
    "fastapi",
)


class CheckLog:
    """Prints one `[ok  ] what: detail` line per check and counts the failures.
    `ok` None marks a check that did not apply (an optional model, say)."""

    def __init__(self) -> None:
        self.problems = 0

    def __call__(self, ok: bool | None, what: str, detail: str = "") -> None:
        mark = {True: "ok  ", False: "FAIL", None: "--  "}[ok]
        self.problems += ok is False
        print(f"[{mark}] {what}" + (f": {detail}" if detail else ""))


def run_doctor() -> int:
    line = CheckLog()
    settings = load_settings()
    print(
        f"python {platform.python_version()}  " + "  ".join(f"{p} {_version(p)}" for p in PACKAGES)
    )
    print(f"data directory: {settings.home}\ncache directory: {settings.cache_dir}")
    print(f"configured LLM: {settings.llm}   embedder: {settings.embedder}")

    report = engine_line(line, settings.llm_engine)
    configured_line(line, settings)
    model_lines(line, settings, report)
    embedder_line(line, settings)
    store_line(line, settings)
    print(
        "All checks passed."
        if not line.problems
        else f"{line.problems} problem(s) found; see FAIL lines above."
    )
    return 0 if not line.problems else 1


def engine_line(line: CheckLog, setting: str) -> EngineReport:
    """The local LLM engine: which one the setting picks, its version, the CPU features."""
    report = engine_report()
    if report.problem:
        ok = False if setting == "openvino" else None  # auto falls back to transformers
        line(ok, f"LLM engine {setting}", f"OpenVINO unavailable: {report.problem}")
        return report
    line(
        True,
        f"LLM engine {setting}",
        f"openvino-genai {report.version} on {report.cpu}; CPU features: "
        f"{', '.join(report.features)}",
    )
    return report


def configured_line(line: CheckLog, settings: Settings) -> None:
    """The configured model must resolve to something loadable (a packaged name, a
    local directory or .gguf, a Hugging Face id in the local cache)."""
    if settings.llm_backend != "local" or settings.llm.partition(":")[0] == "scripted":
        line(
            True, f"configured LLM {settings.llm}", f"served by the {settings.llm_backend} backend"
        )
        return
    if settings.llm in registry.MODELS:
        return  # a packaged model: its own line below says whether it is installed
    try:
        found = registry.resolve(settings.llm, settings.cache_dir / "models")
    except ModelError as e:
        line(False, f"configured LLM {settings.llm}", str(e))
        return
    line(True, f"configured LLM {settings.llm}", f"{found.kind}: {found.location}")


def model_lines(line: CheckLog, settings: Settings, report: EngineReport) -> None:
    """Each packaged model: installed, verified, and which engine builds are cached.
    Only the default, the fast and the configured model are required."""
    models = settings.cache_dir / "models"
    for name in registry.MODELS:
        c = registry.check(name, models)
        optional = (
            name not in (registry.DEFAULT_MODEL, registry.FAST_MODEL) and name != settings.llm
        )
        if not c.installed:
            line(None if optional else False, f"model {name}", c.problem)
            continue
        detail = f"{c.size:,} bytes, sha256 {'verified' if c.sha256_ok else 'MISMATCH'}"
        built = not report.problem and cached_build(name, models) is not None
        detail += (
            ", OpenVINO build cached" if built else ", no OpenVINO build yet (first load 15-60 s)"
        )
        detail += ", transformers copy cached" if c.cached else ""
        line(c.ok, f"model {name}", c.problem or detail)


def embedder_line(line: CheckLog, settings: Settings) -> None:
    try:
        from retrieval import make_embedder

        emb = make_embedder(settings.embedder)
        line(True, f"embedder {settings.embedder}", f"dimension {emb.dim}")
    except USER_ERRORS as e:
        line(False, f"embedder {settings.embedder}", str(e))


def store_line(line: CheckLog, settings: Settings) -> None:
    """The store opens (a running server holding the data directory is not a failure)."""
    from chat import App

    try:
        app = App.open(settings)
    except DataDirInUse as e:
        line(None, "store", str(e))
    except USER_ERRORS as e:
        line(False, "store", str(e))
    else:
        try:
            n = app.store.count()
            facets = ", ".join(sorted(app.store.facets())) or "none"
            hint = "" if n else " (empty: run 'recochat ingest --demo')"
            line(
                True,
                "store",
                f"{n} items{hint}; facets: {facets}; database {app.db.dialect} "
                f"schema v{app.db.schema_version}"
                + (f" at {app.db.url}" if app.db.dialect != "sqlite" else ""),
            )
        finally:
            app.close()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "missing"
