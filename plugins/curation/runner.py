"""The curation runner: sharding, ordered steps, global corpus steps, accounting.

The configured steps are cut into *passes* at every corpus-global step (a deduper)::

    steps:  extract  pii  length  [exact_dedup]  gopher  [line_dedup]  quality
    pass 0: read -> extract -> pii -> length                       (shards in parallel)
            exact_dedup.observe over every document of every shard, finalize
    pass 1: exact_dedup.apply -> gopher                            (shards in parallel)
            line_dedup.observe over everything, finalize
    pass 2: line_dedup.apply -> quality -> kept/                   (shards in parallel)

so a corpus step always sees the whole corpus (never one shard) before it decides about
any document. Between passes documents live in intermediate shard files under
``_work/``; every shard of every pass leaves a ``.done.json`` holding its counts, which is
how a resumed run skips finished shards. The steps only return ``Document`` or ``Drop``:
this module writes ``kept/``, ``dropped/`` and ``funnel.json`` and checks that every input
record is either kept or dropped.

Corpus steps decide about records, not ids: input files may hold several records with one
id (two fetches of a page, a file concatenated twice), and a decision keyed by the id would
drop every copy. So every record gets a key unique in the corpus when it is read (its id,
its input file and its place there: ``record_key``), and the corpus steps see that key as
the document's id in ``observe``/``observe_sketch`` and ``apply``; the id is restored on
what they return.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from herd.core import atomic
from herd.core.errors import InputError, StageError
from herd.core.progress import track
from herd.core.protocols import Malformed
from herd.core.records import Document, Drop, DroppedRecord
from herd.plugins.curation.budget import TimeBoxedStep
from herd.plugins.curation.funnel import StepStats, count_tokens, merge_all
from herd.plugins.curation.inputs import InputFile, UnreadFile
from herd.plugins.curation.io import DroppedWriter, KeptWriter, ShardWriter, SketchWriter, read_shard, read_sketches
from herd.plugins.curation.steps import StepSpec

READ = "read"
WORK = "_work"
TOKENS_NOTE = (
    "tokens are whitespace-separated words of the record's text (of its HTML before "
    "extraction), not tokenizer tokens"
)


@dataclass(frozen=True)
class RunSettings:
    shard_size: int = 5000
    max_document_chars: int = 5_000_000
    max_records_per_input: int = 0  # 0 = read every record
    dropped_text_chars: int = 20_000
    on_step_error: str = "drop"
    keep_html: bool = False
    output_format: str = "jsonl"
    stage: str = "curate"
    extract_time_budget_s: float = 30.0  # per document, for every extractor step; 0 = none

    def __post_init__(self) -> None:
        if self.max_records_per_input < 0:
            raise InputError(f"curate.max_records_per_input must be 0 (all) or more, got {self.max_records_per_input}")
        if self.shard_size < 1:
            raise InputError(f"curate.shard_size must be at least 1, got {self.shard_size}")
        if self.on_step_error not in ("drop", "raise"):
            raise InputError(f"curate.on_step_error must be 'drop' or 'raise', got {self.on_step_error!r}")
        if self.output_format not in ("jsonl", "parquet"):
            raise InputError(f"curate.output_format must be 'jsonl' or 'parquet', got {self.output_format!r}")
        if self.extract_time_budget_s < 0:
            raise InputError(
                f"curate.extract_time_budget_s must be 0 (no budget) or more seconds, got {self.extract_time_budget_s}"
            )


@dataclass
class PassSpec:
    """One parallel pass: the corpus step whose ``apply`` opens it (none for pass 0),
    then the document steps up to the next corpus step."""

    index: int
    corpus_step: StepSpec | None
    doc_steps: list[StepSpec]
    final: bool
    root: str
    settings: RunSettings
    # the next corpus step, when it can summarise documents in parallel (``sketch``)
    sketch_step: StepSpec | None = None

    @property
    def step_names(self) -> list[str]:
        head = [self.corpus_step.name] if self.corpus_step else []
        return head + [s.name for s in self.doc_steps]


@dataclass(frozen=True)
class Task:
    """One shard of one pass: an input file (pass 0) or an intermediate shard."""

    pass_index: int
    unit: str
    path: str
    input: InputFile | None = None


@dataclass
class TaskResult:
    unit: str
    outputs: list[str]
    kept: int
    dropped: int
    stats: dict[str, StepStats] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stats": {k: v.to_dict() for k, v in self.stats.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TaskResult":
        stats = {k: StepStats.from_dict(v) for k, v in data["stats"].items()}
        return cls(data["unit"], list(data["outputs"]), data["kept"], data["dropped"], stats)


class PassWork:
    """What every task of a pass needs: the pass and the finalized corpus step. Document
    steps are built once per process (in the driver before a local pool forks, in each Ray
    worker after unpickling) and are never pickled themselves."""

    def __init__(self, spec: PassSpec, corpus_step: Any = None):
        self.spec = spec
        self.corpus_step = corpus_step
        self._built: list[tuple[str, Any]] | None = None
        self._sketcher: Any = None

    def steps(self) -> list[tuple[str, Any]]:
        if self._built is None:
            built = [(s.name, self._build(s)) for s in self.spec.doc_steps]
            if self.spec.corpus_step is not None:
                built.insert(0, (self.spec.corpus_step.name, self.corpus_step))
            if self.spec.sketch_step is not None:
                self._sketcher = self.spec.sketch_step.build()
            self._built = built
        return self._built

    def _build(self, spec: StepSpec) -> Any:
        step = spec.build()
        budget = self.spec.settings.extract_time_budget_s
        if spec.family == "extractors" and budget > 0:
            return TimeBoxedStep(spec.name, step, budget)
        return step

    def sketcher(self) -> Any:
        self.steps()
        return self._sketcher

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "corpus_step": self.corpus_step, "_built": None, "_sketcher": None}


# --- one task -------------------------------------------------------------------------


def run_task(task: Task, work: PassWork) -> TaskResult:
    """Process one shard through one pass; called in worker processes."""
    spec = work.spec
    root = Path(spec.root)
    steps = work.steps()
    names = ([READ] if task.input else []) + spec.step_names
    if spec.sketch_step is not None:
        names.append(sketch_key(spec.sketch_step.name))
    stats = {name: StepStats() for name in names}
    dropped = DroppedWriter(root / "dropped" / f"p{spec.index}-{task.unit}.jsonl.gz", spec.settings.dropped_text_chars)
    out = _Outputs(root, spec, task.unit, split=task.input is not None, sketcher=work.sketcher())
    keyed = spec.corpus_step is not None  # the first step sees record keys as ids
    try:
        for source_file, key, doc in _records(task, stats, dropped, spec.settings):
            kept = _apply_steps(doc, key if keyed else None, source_file, steps, stats, dropped, spec.settings)
            if kept is None:
                continue
            sketch = None
            if spec.sketch_step is not None:
                sketch = _sketch(kept, source_file, spec.sketch_step.name, work.sketcher(), stats, dropped, spec.settings)
                if sketch is _DROPPED:
                    continue
            out.write(kept, source_file, key, sketch)
        outputs = out.commit()
        dropped.commit()
    except BaseException:
        out.abort()
        dropped.abort()
        raise
    result = TaskResult(task.unit, outputs, out.total, dropped.count, stats)
    atomic.write_json(_done_path(root, spec.index, task.unit), result.to_dict())
    return result


def record_key(doc_id: str, unit: str, ordinal: int) -> str:
    """A record's key, unique in the corpus: its id, then (after `` @``, so that ids can
    hold anything) its input file's unit and its 1-based place among that file's records."""
    return f"{doc_id} @{unit}:{ordinal}"


def _with_id(doc: Document, new_id: str) -> Document:
    return dataclasses.replace(doc, id=new_id)


def _records(
    task: Task, stats: dict[str, StepStats], dropped: DroppedWriter, settings: RunSettings
) -> Iterator[tuple[str, str, Document]]:
    if task.input is None:
        yield from read_shard(Path(task.path))
        return
    read = stats[READ]
    source_file = task.input.path
    try:
        items = task.input.open_source().read(Path(source_file))
        for item in items:
            if settings.max_records_per_input and read.records_in >= settings.max_records_per_input:
                close = getattr(items, "close", None)  # a generator holding the file open
                if close is not None:
                    close()
                break
            read.records_in += 1
            if isinstance(item, Malformed):
                _drop_malformed(item, source_file, read, dropped, settings)
                continue
            size = max(len(item.text or ""), len(item.html or ""))
            read.tokens_in += count_tokens(item.text or item.html)
            if size > settings.max_document_chars:
                reason = Drop(f"{READ}.too_large", f"{size} characters > curate.max_document_chars = {settings.max_document_chars}")
                _drop(item, READ, reason, source_file, read, dropped, settings)
                continue
            read.records_out += 1
            read.tokens_out += count_tokens(item.text or item.html)
            yield source_file, record_key(item.id, task.unit, read.records_in), item
    except (StageError, InputError):
        raise
    except Exception as exc:  # a source's own bug: keep what was read, record the failure
        read.records_in += 1
        bad = Malformed(f"{source_file}: after record {read.records_in - 1}", f"{READ}.error", f"{type(exc).__name__}: {exc}")
        _drop_malformed(bad, source_file, read, dropped, settings)


def _drop_malformed(item: Malformed, source_file: str, read: StepStats, dropped: DroppedWriter, settings: RunSettings) -> None:
    read.drop(item.reason)
    dropped.write(
        DroppedRecord(
            id=item.id or item.where,
            stage=settings.stage,
            step=READ,
            reason=item.reason,
            detail=item.where,
            text=item.raw,
            source_file=source_file,
        )
    )


def _drop(doc: Document, step: str, drop: Drop, source_file: str, stats: StepStats, dropped: DroppedWriter, settings: RunSettings) -> None:
    stats.drop(drop.reason)
    dropped.write(
        DroppedRecord(
            id=doc.id,
            stage=settings.stage,
            step=step,
            reason=drop.reason,
            detail=drop.detail,
            text=doc.text or doc.html or "",
            source_file=source_file,
        )
    )


def _apply_steps(
    doc: Document,
    key: str | None,
    source_file: str,
    steps: list[tuple[str, Any]],
    stats: dict[str, StepStats],
    dropped: DroppedWriter,
    settings: RunSettings,
) -> Document | None:
    content = doc.text or doc.html
    tokens = count_tokens(content)
    for name, step in steps:
        st = stats[name]
        st.records_in += 1
        st.tokens_in += tokens
        started = time.perf_counter()
        try:
            if key is not None:  # a corpus step: it decides about this record, not its id
                result = step.apply(_with_id(doc, key))
                if isinstance(result, Document):
                    result = _with_id(result, doc.id)
                key = None
            else:
                result = step.apply(doc)
        except Exception as exc:
            if settings.on_step_error == "raise":
                raise StageError(
                    f"step '{name}' raised on record '{doc.id}' of {source_file}: "
                    f"{type(exc).__name__}: {exc} (set curate.on_step_error = \"drop\" to drop such records)"
                ) from exc
            result = Drop(f"{name}.error", f"{type(exc).__name__}: {exc}")
        st.seconds += time.perf_counter() - started
        if not isinstance(result, (Document, Drop)):
            result = Drop(f"{name}.error", f"the step returned {type(result).__name__}, not Document or Drop")
        if isinstance(result, Drop):
            _drop(doc, name, result, source_file, st, dropped, settings)
            return None
        doc = result
        now = doc.text or doc.html
        if now is not content:
            content = now
            tokens = count_tokens(content)
        st.records_out += 1
        st.tokens_out += tokens
    return doc


_DROPPED = object()


def _sketch(
    doc: Document, source_file: str, step: str, sketcher: Any, stats: dict[str, StepStats],
    dropped: DroppedWriter, settings: RunSettings,
) -> Any:
    """The next corpus step's sketch of ``doc``; a step that raises drops the document
    (as its ``apply`` would) and is accounted to the step that ran last in this pass."""
    st = stats[sketch_key(step)]
    started = time.perf_counter()
    try:
        return sketcher.sketch(doc)
    except Exception as exc:
        if settings.on_step_error == "raise":
            raise StageError(
                f"step '{step}' raised in sketch() on record '{doc.id}' of {source_file}: {type(exc).__name__}: {exc}"
            ) from exc
        st.drop(f"{step}.error")
        st.tokens_in += count_tokens(doc.text or doc.html)  # tokens of dropped records only
        dropped.write(DroppedRecord(doc.id, settings.stage, step, f"{step}.error",
                                    f"sketch(): {type(exc).__name__}: {exc}", doc.text or doc.html or "", source_file))
        return _DROPPED
    finally:
        st.records_in += 1
        st.seconds += time.perf_counter() - started


class _Outputs:
    """The task's output shards: intermediate files, or ``kept/`` after the last pass.
    A pass-0 task splits its input file into shards of ``shard_size`` documents."""

    def __init__(self, root: Path, spec: PassSpec, unit: str, split: bool, sketcher: Any):
        self.root = root
        self.spec = spec
        self.unit = unit
        self.split = split
        self.sketcher = sketcher
        self.writers: list[Any] = []
        self.sketches: list[SketchWriter] = []
        self.names: list[str] = []
        self.current: Any = None
        self.total = 0

    def write(self, doc: Document, source_file: str, key: str, sketch: Any = None) -> None:
        if self.current is None or (self.split and self.current.count >= self.spec.settings.shard_size):
            self._open()
        if not self.spec.settings.keep_html and doc.text:
            doc.html = None
        if self.spec.final:
            self.current.write(doc)
        else:
            self.current.write(doc, source_file, key)
        if self.sketcher is not None:
            self.sketches[-1].write(key, sketch)
        self.total += 1

    def _open(self) -> None:
        name = f"{self.unit}-{len(self.names):05d}" if self.split else self.unit
        if self.spec.final:
            writer = KeptWriter(self.root / "kept", name, self.spec.settings.output_format)
        else:
            writer = ShardWriter(_shard_path(self.root, self.spec.index, name))
        if self.sketcher is not None:
            self.sketches.append(SketchWriter(_sketch_path(self.root, self.spec.index, name)))
        self.writers.append(writer)
        self.names.append(name)
        self.current = writer

    def commit(self) -> list[str]:
        for writer in self.writers + self.sketches:
            writer.commit()
        return [] if self.spec.final else list(self.names)

    def abort(self) -> None:
        for writer in self.writers + self.sketches:
            writer.abort()


def _shard_path(root: Path, pass_index: int, name: str) -> Path:
    return root / WORK / f"pass{pass_index}" / f"{name}.jsonl"


def _sketch_path(root: Path, pass_index: int, name: str) -> Path:
    return root / WORK / f"pass{pass_index}" / f"{name}.sketch"


def sketch_key(step: str) -> str:
    """Stats key of a corpus step's parallel ``sketch`` work (not a step of its own)."""
    return f"{step}:sketch"


def _done_path(root: Path, pass_index: int, unit: str) -> Path:
    return root / WORK / f"pass{pass_index}" / f"{unit}.done.json"


# --- the driver -----------------------------------------------------------------------


def plan_passes(
    steps: list[StepSpec], root: Path, settings: RunSettings, sketchable: Callable[[StepSpec], bool] = lambda s: False
) -> list[PassSpec]:
    passes: list[PassSpec] = []
    corpus: StepSpec | None = None
    segment: list[StepSpec] = []
    for step in steps:
        if step.is_corpus_step:
            passes.append(PassSpec(len(passes), corpus, segment, False, str(root), settings))
            corpus, segment = step, []
        else:
            segment.append(step)
    passes.append(PassSpec(len(passes), corpus, segment, True, str(root), settings))
    for before, after in zip(passes, passes[1:]):
        if after.corpus_step is not None and sketchable(after.corpus_step):
            before.sketch_step = after.corpus_step
    return passes


def can_sketch(step: Any) -> bool:
    """Whether a corpus step object offers the optional parallel observe: ``sketch(doc)``
    (a pure function of one document, run in the workers) and ``observe_sketch(id,
    sketch)`` (run in the driver instead of ``observe``)."""
    return callable(getattr(step, "sketch", None)) and callable(getattr(step, "observe_sketch", None))


class CurationRunner:
    """Runs ``steps`` over ``inputs`` into ``workdir`` with an executor (local or Ray)."""

    def __init__(
        self,
        inputs: list[InputFile],
        steps: list[StepSpec],
        settings: RunSettings,
        workdir: Path,
        executor: Any,
        log: logging.Logger | None = None,
        resuming: bool = False,
        progress: bool | None = None,
        keep_work: bool = False,
        unread: list[UnreadFile] | tuple[UnreadFile, ...] = (),
    ):
        self.inputs = inputs
        self.unread = list(unread)
        self.steps = steps
        self.settings = settings
        self.root = Path(workdir)
        self.executor = executor
        self.log = log or logging.getLogger("herd.curate")
        self.resuming = resuming
        self.progress = progress
        self.keep_work = keep_work
        self._corpus_steps: dict[str, Any] = {}  # built once: probed for sketch(), then observed

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        self._prepare()
        for item in self.unread:
            self.log.warning("input %s is not read: %s", item.path, item.reason)
        passes = plan_passes(self.steps, self.root, self.settings, lambda s: can_sketch(self._corpus_step(s)))
        results: list[TaskResult] = []
        corpus_seconds: dict[str, dict[str, float]] = {}
        pass_seconds: list[float] = []
        shards: list[str] = []
        for spec in passes:
            clock = time.perf_counter()
            tasks = self._tasks(spec, shards)
            finished = self._finished(spec, tasks)
            corpus_obj = None
            pending = [t for t in tasks if t.unit not in finished]
            if spec.corpus_step is not None and pending:
                corpus_obj, corpus_seconds[spec.corpus_step.name] = self._observe(spec, shards)
            if finished:
                self.log.info("pass %d: %d of %d shards already done (resuming)", spec.index, len(finished), len(tasks))
            done = list(finished.values()) + list(self._execute(spec, pending, corpus_obj))
            results.extend(done)
            kept = sum(r.kept for r in done)  # only the last pass's value is used
            shards = sorted(name for r in done for name in r.outputs)
            pass_seconds.append(time.perf_counter() - clock)
        funnel = self._funnel(passes, results, kept, corpus_seconds, pass_seconds, time.perf_counter() - started)
        atomic.write_json(self.root / "funnel.json", funnel)
        if not funnel["conserved"]:
            raise StageError(
                f"curation lost records: {funnel['records_in']} read, {funnel['kept']['records']} kept, "
                f"{funnel['dropped']['records']} dropped (see {self.root / 'funnel.json'}); this is a bug"
            )
        if not self.keep_work:
            shutil.rmtree(self.root / WORK, ignore_errors=True)
        return funnel

    # -- set-up and resume

    def _fingerprint(self) -> dict[str, Any]:
        return {
            "inputs": [[i.path, i.source] for i in self.inputs],
            "steps": [[s.family, s.name, repr(s.config)] for s in self.steps],
            "settings": asdict(self.settings),
        }

    def _prepare(self) -> None:
        plan_file = self.root / WORK / "plan.json"
        fingerprint = self._fingerprint()
        if self.resuming and plan_file.exists():
            previous = json.loads(plan_file.read_text(encoding="utf-8"))
            if previous != json.loads(json.dumps(fingerprint, default=str)):
                raise InputError(
                    f"cannot resume in {self.root}: it holds an attempt with other inputs, steps or "
                    "settings; run without resuming to start again"
                )
            for leftover in self.root.rglob(".*.tmp"):  # files a killed task was writing
                leftover.unlink(missing_ok=True)
            return
        for name in (WORK, "kept", "dropped", "steps"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        (self.root / "funnel.json").unlink(missing_ok=True)
        atomic.write_json(plan_file, fingerprint)

    def _tasks(self, spec: PassSpec, shards: list[str]) -> list[Task]:
        if spec.index == 0:
            return [Task(0, f"{i:05d}", item.path, item) for i, item in enumerate(self.inputs)]
        return [Task(spec.index, name, str(_shard_path(self.root, spec.index - 1, name))) for name in shards]

    def _finished(self, spec: PassSpec, tasks: list[Task]) -> dict[str, TaskResult]:
        if not self.resuming:
            return {}
        finished = {}
        for task in tasks:
            path = _done_path(self.root, spec.index, task.unit)
            if path.exists():
                finished[task.unit] = TaskResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        return finished

    # -- corpus steps: observe everything in the driver, then finalize

    def _corpus_step(self, spec: StepSpec) -> Any:
        if spec.name not in self._corpus_steps:
            self._corpus_steps[spec.name] = spec.build()
        return self._corpus_steps[spec.name]

    def _observe(self, spec: PassSpec, shards: list[str]) -> tuple[Any, dict[str, float]]:
        step_spec = spec.corpus_step
        assert step_spec is not None
        step = self._corpus_step(step_spec)
        state_dir = self.root / WORK / "corpus" / step_spec.name
        shutil.rmtree(state_dir, ignore_errors=True)
        state_dir.mkdir(parents=True)
        clock = time.perf_counter()
        sketched = can_sketch(step)
        paths = [(_sketch_path if sketched else _shard_path)(self.root, spec.index - 1, name) for name in shards]
        for path in track(paths, f"{step_spec.name}: observe", total=len(paths), enabled=self.progress):
            records = read_sketches(path) if sketched else ((key, _with_id(doc, key)) for _, key, doc in read_shard(path))
            for record_id, item in records:
                try:
                    step.observe_sketch(record_id, item) if sketched else step.observe(item)
                except Exception as exc:
                    method = "observe_sketch()" if sketched else "observe()"
                    raise StageError(
                        f"corpus step '{step_spec.name}' raised in {method} on record '{record_id}' "
                        f"of shard {path.name}: {type(exc).__name__}: {exc}"
                    ) from exc
        observed = time.perf_counter() - clock
        clock = time.perf_counter()
        step.finalize(state_dir)
        # What a step writes under <workdir>/keep/ (a classifier's held-out evaluation...)
        # outlives the work folder: it is copied to <output>/steps/<step>/.
        if (state_dir / "keep").is_dir():
            shutil.copytree(state_dir / "keep", self.root / "steps" / step_spec.name, dirs_exist_ok=True)
        return step, {"observe_seconds": observed, "finalize_seconds": time.perf_counter() - clock}

    def _execute(self, spec: PassSpec, tasks: list[Task], corpus_obj: Any) -> Iterator[TaskResult]:
        if not tasks:
            return iter(())
        work = PassWork(spec, corpus_obj)
        results = self.executor.map(run_task, tasks, work)
        label = f"pass {spec.index}: {', '.join(spec.step_names) or 'read'}"
        return track(results, label, total=len(tasks), enabled=self.progress)

    # -- funnel.json

    def _funnel(
        self,
        passes: list[PassSpec],
        results: list[TaskResult],
        kept: int,
        corpus_seconds: dict[str, dict[str, float]],
        pass_seconds: list[float],
        seconds: float,
    ) -> dict[str, Any]:
        merged = merge_all([r.stats for r in results])
        read = merged.get(READ, StepStats())
        steps = [{"name": READ, "family": "sources", **read.to_dict()}]
        for step in self.steps:
            entry = {"name": step.name, "family": step.family, **merged.get(step.name, StepStats()).to_dict()}
            if step.is_corpus_step:
                entry.update({k: round(v, 4) for k, v in corpus_seconds.get(step.name, {}).items()})
                sketch = merged.get(sketch_key(step.name))
                if sketch is not None:
                    # records dropped in sketch() count as this step's input and drops
                    entry["sketch_seconds"] = round(sketch.seconds, 4)
                    combined = StepStats.from_dict(entry)
                    combined.merge(StepStats(records_in=sum(sketch.drops.values()), tokens_in=sketch.tokens_in, drops=sketch.drops))
                    entry.update(combined.to_dict())
            steps.append(entry)
        last = steps[-1]
        by_reason: dict[str, int] = {}
        for stats in merged.values():
            for reason, n in stats.drops.items():
                by_reason[reason] = by_reason.get(reason, 0) + n
        dropped = sum(by_reason.values())
        return {
            "tokens": TOKENS_NOTE,
            "inputs": [{"path": i.path, "source": i.source} for i in self.inputs],
            "unread_inputs": [{"path": u.path, "reason": u.reason} for u in self.unread],
            "executor": getattr(self.executor, "name", type(self.executor).__name__),
            "workers": getattr(self.executor, "workers", None),
            "records_in": read.records_in,
            "max_records_per_input": self.settings.max_records_per_input,
            "tokens_in": read.tokens_in,
            "kept": {"records": kept, "tokens": last["tokens_out"]},
            "dropped": {"records": dropped, "by_reason": dict(sorted(by_reason.items()))},
            "conserved": read.records_in == kept + dropped,
            "steps": steps,
            "passes": [
                {"index": p.index, "steps": p.step_names, "seconds": round(s, 4)}
                for p, s in zip(passes, pass_seconds)
            ],
            "seconds": round(seconds, 4),
        }
