"""Small real steps for testing the runner before (and independently of) the real ones:
registered through an in-process plugin object, as datasette's tests do."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from herd.core.hookspecs import hookimpl
from herd.core.protocols import MixPlan
from herd.core.records import Document, Drop


class TagStripper:
    def __init__(self, config=None):
        pass

    def extract(self, html: str, url: str | None = None) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@dataclass
class MinWordsConfig:
    min_words: int = 3


class MinWords:
    name = "min_words"

    def __init__(self, config: MinWordsConfig):
        self.min_words = config.min_words

    def apply(self, doc: Document) -> Document | Drop:
        words = len(doc.text.split())
        if words < self.min_words:
            return Drop("min_words.too_short", f"{words} words < {self.min_words}")
        doc.scores["min_words.words"] = float(words)
        return doc


class Explodes:
    """Raises on documents containing BOOM (a buggy step)."""

    name = "explodes"

    def __init__(self, config=None):
        pass

    def apply(self, doc: Document) -> Document | Drop:
        if "BOOM" in doc.text:
            raise ValueError("cannot handle BOOM")
        return doc


@dataclass
class TraceConfig:
    log_dir: str = ""
    fail_marker: str = ""


class Trace:
    """Appends every id it sees to a per-process file; raises while ``fail_marker``
    exists and the document says FAIL (to interrupt a run and resume it)."""

    name = "trace"

    def __init__(self, config: TraceConfig):
        self.config = config

    def apply(self, doc: Document) -> Document | Drop:
        if self.config.fail_marker and Path(self.config.fail_marker).exists() and "FAIL" in doc.text:
            raise RuntimeError("interrupted on purpose")
        if self.config.log_dir:
            with open(Path(self.config.log_dir) / f"{os.getpid()}.log", "a") as handle:
                handle.write(doc.id + "\n")
        return doc


class ExactDedup:
    """Global exact dedup: the smallest id of each text survives (order independent)."""

    name = "exact"

    def __init__(self, config=None):
        self.first: dict[str, str] = {}
        self.state: Path | None = None

    def _key(self, doc: Document) -> str:
        return hashlib.sha1(doc.text.encode()).hexdigest()

    def observe(self, doc: Document) -> None:
        key = self._key(doc)
        if key not in self.first or doc.id < self.first[key]:
            self.first[key] = doc.id

    def finalize(self, workdir: Path) -> None:
        self.state = workdir / "survivors.json"
        self.state.write_text(json.dumps(self.first))
        (workdir / "keep").mkdir()  # what outlives the run's work folder
        (workdir / "keep" / "summary.json").write_text(json.dumps({"texts": len(self.first)}))

    def apply(self, doc: Document) -> Document | Drop:
        survivor = self.first[self._key(doc)]
        if survivor != doc.id:
            return Drop("exact.duplicate", f"same text as {survivor}")
        return doc


class SketchExactDedup(ExactDedup):
    """The same rule as ``exact``, observed through parallel sketches: the driver never
    sees the documents, only ``(id, hash)`` pairs computed in the workers."""

    name = "sketch_exact"

    def observe(self, doc: Document) -> None:
        raise AssertionError("the runner must call observe_sketch for a step that sketches")

    def sketch(self, doc: Document) -> str:
        if "SKETCHFAIL" in doc.text:
            raise ValueError("cannot sketch this")
        return self._key(doc)

    def observe_sketch(self, record_id: str, key: str) -> None:
        if key not in self.first or record_id < self.first[key]:
            self.first[key] = record_id

    def apply(self, doc: Document) -> Document | Drop:
        result = super().apply(doc)
        return Drop("sketch_exact.duplicate", result.detail) if isinstance(result, Drop) else result


@dataclass
class LineDedupConfig:
    max_repeats: int = 2


class LineDedup:
    """Removes lines seen more than ``max_repeats`` times in the whole corpus."""

    name = "lines"

    def __init__(self, config: LineDedupConfig):
        self.max_repeats = config.max_repeats
        self.counts: dict[str, int] = {}

    def observe(self, doc: Document) -> None:
        for line in set(doc.text.splitlines()):
            self.counts[line] = self.counts.get(line, 0) + 1

    def finalize(self, workdir: Path) -> None:
        self.common = {line for line, n in self.counts.items() if n > self.max_repeats}

    def apply(self, doc: Document) -> Document | Drop:
        lines = [line for line in doc.text.splitlines() if line not in self.common]
        if not lines:
            return Drop("lines.empty", "every line is common boilerplate")
        doc.text = "\n".join(lines)
        return doc


class HalfMixer:
    """Keeps documents of source 'a' twice and drops every other source."""

    def __init__(self, config=None):
        pass

    def plan(self, docs):
        repeats = {d.id: (2 if d.source == "a" else 0) for d in docs}
        return MixPlan(repeats, target={"a": 1.0}, achieved={"a": 1.0})


class TestStepsPlugin:
    @hookimpl
    def herd_register_extractors(self, register):
        register("strip_tags", TagStripper, description="regex tag stripper")

    @hookimpl
    def herd_register_filters(self, register):
        register("min_words", MinWords, config=MinWordsConfig)
        register("explodes", Explodes)
        register("trace", Trace, config=TraceConfig)

    @hookimpl
    def herd_register_dedupers(self, register):
        register("exact", ExactDedup)
        register("sketch_exact", SketchExactDedup)
        register("lines", LineDedup, config=LineDedupConfig)

    @hookimpl
    def herd_register_mixers(self, register):
        register("half", HalfMixer)


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


@pytest.fixture
def jsonl():
    """``jsonl(path, records)`` writes records (dicts, or raw strings for broken lines)."""
    return write_jsonl


@pytest.fixture
def make_app():
    """``make_app(inputs, steps, *overrides, plugins={name: plugin})``: an App with the test
    steps (and ``plugins``) registered."""
    from herd.core.app import App

    def make(inputs: list[Path], steps: list[str], *extra: str, plugins: dict | None = None) -> App:
        overrides = [
            f"curate.inputs={json.dumps([str(p) for p in inputs])}",
            f"curate.steps={json.dumps(steps)}",
            "curate.progress=false",
            *extra,
        ]
        return App.create(extra_plugins={"t": TestStepsPlugin(), **(plugins or {})}, overrides=overrides)

    return make


@pytest.fixture
def run_curation():
    """``run_curation(app, out, resuming=False, **curate_changes) -> funnel``."""
    import dataclasses

    from herd.plugins.curation.build import build_runner

    def run(app, out: Path, resuming: bool = False, **changes) -> dict:
        cfg = dataclasses.replace(app.config.section("curate"), **changes)
        return build_runner(app.registry, app.config, cfg, out, log=app.log, resuming=resuming).run()

    return run
