"""What each plugin family's factories return.

These are ``typing.Protocol`` classes: a plugin's objects need only have the methods, not
inherit from anything. The dataclasses here are the typed boundaries between families.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol, runtime_checkable

from herd.core.records import ChatMessage, Document, Drop, PreferenceRow, SFTRow


@dataclass(frozen=True)
class Malformed:
    """A raw input record a source could not turn into a ``Document``. The runner drops it
    with ``reason`` and keeps going; ``where`` names the file and line or offset."""

    where: str
    reason: str
    raw: str = ""
    id: str | None = None


@runtime_checkable
class Source(Protocol):
    def read(self, path: Path) -> Iterator[Document | Malformed]:
        """Yield every record of ``path`` in order; never raise on one bad record."""


@runtime_checkable
class Extractor(Protocol):
    def extract(self, html: str, url: str | None = None) -> str:
        """Return the main text of an HTML page (code and math kept)."""


@runtime_checkable
class DocumentStep(Protocol):
    name: str

    def apply(self, doc: Document) -> Document | Drop:
        """Keep (return the document, maybe changed) or drop (return ``Drop``)."""


@runtime_checkable
class CorpusStep(Protocol):
    """A step that must see the whole corpus before deciding about any document.

    The runner calls ``observe`` on every surviving document (all shards, in any order),
    then ``finalize(workdir)`` once, then ``apply`` on every document again. State lives
    on disk under ``workdir`` when it can grow with the corpus. ``workdir`` is removed at
    the end of the run, except ``workdir/keep/``, which the runner copies to the curation
    output's ``steps/<name>/`` (a classifier's held-out evaluation, a cut-off's statistics).

    Optional, for a parallel observe: a step whose class also defines ``sketch(doc) ->
    picklable`` (a pure function of one document, e.g. a MinHash signature or a hash) and
    ``observe_sketch(doc_id, sketch)`` gets ``sketch`` called in the worker processes and
    ``observe_sketch`` in the driver *instead of* ``observe``, so the expensive per-document
    work runs on every core.
    """

    name: str

    def observe(self, doc: Document) -> None: ...

    def finalize(self, workdir: Path) -> None: ...

    def apply(self, doc: Document) -> Document | Drop: ...


@dataclass
class MixPlan:
    """A mixer's output: how many times each document is repeated in the training mix
    (0 drops it, 2 up-samples it), and the achieved versus target token proportions."""

    repeats: dict[str, int]
    target: dict[str, float]
    achieved: dict[str, float]


@runtime_checkable
class Mixer(Protocol):
    def plan(self, docs: Iterable[Document]) -> MixPlan: ...


@dataclass
class Score:
    """One judge's verdict on one row: ``value`` is ``None`` when the judge's answer could
    not be parsed, and ``reason`` then says why."""

    judge: str
    signal: str
    value: float | None
    reason: str = ""
    raw: str = ""


@runtime_checkable
class Judge(Protocol):
    def score(self, rows: list[SFTRow]) -> list[list[Score]]: ...


@runtime_checkable
class Synthesizer(Protocol):
    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow | PreferenceRow]: ...


@dataclass
class ParallelSizes:
    """Backend-neutral parallel layout (docs/recipe.md section 3), innermost first:
    tensor, context, pipeline, data."""

    tp: int = 1
    cp: int = 1
    pp: int = 1
    dp: int = 1

    @property
    def world_size(self) -> int:
        return self.tp * self.cp * self.pp * self.dp


@dataclass
class TrainStage:
    """One stage of the pretraining schedule in backend-neutral terms."""

    name: str
    kind: str  # "initial", "long_context", "anneal", "continued"
    tokens: int
    seq_len: int
    lr_peak: float
    lr_final: float
    data: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Tokens per optimizer step, and the ramp: ``(after_tokens, batch_tokens, seq_len)``
    # steps taken once the stage has consumed ``after_tokens`` (docs/recipe.md 4.1).
    batch_tokens: int = 0
    batch_ramp: list[tuple[int, int, int]] = field(default_factory=list)
    warmup_steps: int = 0


@dataclass
class TrainJob:
    """``model``: ``{"size": name, **field overrides}``; ``data_dir``: tokenised training
    data; ``eval_dir``: held-out tokens for short-context evaluation; ``init_from``: a
    model checkpoint to start from (continued pretraining); ``loggers``: ``[run] loggers``
    (metric loggers besides ``metrics.jsonl``, core/metrics.py)."""

    model: dict[str, Any]
    stages: list[TrainStage]
    parallel: ParallelSizes
    output_dir: Path
    data_dir: Path
    seed: int = 0
    resume: bool = False
    eval_dir: Path | None = None
    init_from: Path | None = None
    tokenizer: Path | None = None
    loggers: list[str] = field(default_factory=list)


@dataclass
class TrainResult:
    checkpoint: Path
    metrics: dict[str, float]


POST_TRAIN_KINDS = ("sft", "dpo", "reward_model")
DTYPES = ("float32", "bfloat16")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class PostTrainSettings:
    """How one post-training job trains (docs/recipe.md section 5). ``batch_size`` counts packed
    sequences (SFT), preference pairs (DPO) or preference rows (reward model) per optimizer
    step, over all data-parallel ranks together. ``beta``, ``nll_coef`` and ``mask_special``
    are DPO's; ``similarity`` and ``heldout_fraction`` the reward model's (pairs at least
    that similar are dropped; that share of rows, by a stable hash of their id, is held out
    to measure pairwise accuracy)."""

    lr: float = 1e-5
    epochs: int = 1
    batch_size: int = 4
    max_len: int = 512
    seed: int = 0
    beta: float = 0.1
    nll_coef: float = 0.2
    mask_special: bool = True
    similarity: float = 0.9
    heldout_fraction: float = 0.0


@dataclass
class PostTrainJob:
    """One reward-model, SFT or DPO training run, backend-neutral.

    ``model_dir``: the starting policy, a Hugging Face-format Llama directory with its
    tokenizer files (DPO's frozen reference too, unless ``reference_dir`` names another).
    ``data``: a JSONL file of rows as ``herd.lib.posttraining.rows`` writes them (SFT rows
    for ``sft``; preference rows, responses best first, for ``dpo`` and ``reward_model``).
    ``output_dir`` receives the trained model (HF format, tokenizer files included; a
    ``LlamaForSequenceClassification`` for the reward model), its step metrics
    (``metrics.jsonl``, core/metrics.py) and, from a torchrun launch, ``result.json``.
    ``loggers``: ``[run] loggers``."""

    kind: str
    model_dir: Path
    data: Path
    output_dir: Path
    settings: PostTrainSettings = field(default_factory=PostTrainSettings)
    parallel: ParallelSizes = field(default_factory=ParallelSizes)
    dtype: str = "float32"
    device: str = "auto"
    reference_dir: Path | None = None
    loggers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for key, value, allowed in (("kind", self.kind, POST_TRAIN_KINDS), ("dtype", self.dtype, DTYPES),
                                    ("device", self.device, DEVICES)):
            if value not in allowed:
                raise ValueError(f"PostTrainJob {key}={value!r}; one of {', '.join(allowed)}")


@dataclass
class PostTrainResult:
    """What a post-training job reports. ``losses``: the loss of every optimizer step.
    SFT adds ``rows``, ``packed_sequences`` and ``target_tokens``; DPO ``pairs`` and per step
    ``nll``, ``margins`` (mean beta-scaled reward margin) and ``accuracy``; the reward model
    ``pairs``, ``accuracy`` and ``margin`` on its training pairs after training, the held-out
    pairwise accuracy before (untrained head) and after training, and the rows or pairs it
    ``dropped`` by reason."""

    kind: str
    model_dir: Path
    losses: list[float] = field(default_factory=list)
    rows: int = 0
    packed_sequences: int = 0
    target_tokens: int = 0
    pairs: int = 0
    nll: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    train_accuracy: float | None = None
    train_margin: float | None = None
    heldout_pairs: int = 0
    heldout_accuracy: float | None = None
    heldout_accuracy_untrained: float | None = None
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelShape:
    """The dimensions a parallel layout must divide (a Llama's)."""

    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    vocab_size: int
    tie_embeddings: bool = False


@dataclass
class TrainingLayout:
    """One stage's request to a training backend: what ``herd run --check`` validates
    before any stage runs. ``purpose`` is ``"pretrain"`` or ``"posttrain"``; ``model`` is
    ``None`` when the shape is known only at run time (a model another stage writes)."""

    stage: str
    section: str
    trainer: str
    parallel: ParallelSizes
    purpose: str = "pretrain"
    model: ModelShape | None = None
    device: str = "auto"


@runtime_checkable
class LayoutSection(Protocol):
    """A config section that asks a trainer for a parallel layout (``[pretrain]``,
    ``[posttrain]``): the layout check finds them among a stage's config sections."""

    def training_layout(self, stage: str, section: str) -> TrainingLayout: ...


@runtime_checkable
class Trainer(Protocol):
    def train(self, job: TrainJob) -> TrainResult: ...

    def post_train(self, job: PostTrainJob) -> PostTrainResult:
        """Run one reward-model, SFT or DPO job. Under torchrun every rank calls it; the
        model and the result are complete on rank 0."""

    def check(self, layout: TrainingLayout) -> list[str]:
        """The problems that make this backend refuse ``layout`` (empty: it runs), each
        naming the config key at fault and a fix."""


@dataclass
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 256
    n: int = 1
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class ChatReply:
    """One model turn: the assistant ``message`` (its ``tool_calls`` parsed where the
    backend's format says so, else left to the caller) and why it ended: ``"end_of_turn"``
    (``<|eot_id|>``), ``"end_of_message"`` (``<|eom_id|>``: the model waits for a tool's
    result), ``"length"`` (``max_tokens`` reached) or ``"stop"`` (one of
    ``SamplingParams.stop`` cut it)."""

    message: ChatMessage
    finish: str = "end_of_turn"


@runtime_checkable
class Generator(Protocol):
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        """Return ``params.n`` completions for each prompt, in order.

        A prompt the backend cannot answer (longer than the model's context, or refused by
        a server) gets an empty list instead of raising, so one bad prompt never sinks a
        batch; callers count such prompts as dropped with a reason."""

    def chat(self, conversations: list[list[ChatMessage]], params: SamplingParams) -> list[list[ChatReply]]:
        """Return ``params.n`` assistant turns for each conversation, in order, rendered
        with the one Llama 3.1 chat format (``herd.lib.chat``) or the server's own template.

        Each turn is a typed ``ChatReply`` (tool calls parsed where the format says so) with
        its finish reason. A conversation the backend cannot answer gets an empty list, as
        in ``generate``. A backend that only completes text inherits
        ``herd.lib.chat.text_backend.TextChatMixin`` to get this method."""


@runtime_checkable
class Environment(Protocol):
    """Answers a model's turn during a rollout (run the code in the sandbox, call a tool,
    check a reasoning step), so rejection sampling and DPO work on whole trajectories.

    ``applies(prompt)`` says whether this environment takes part in rollouts of a prompt
    (its capability, its metadata...). ``respond(conversation)`` is called after each
    model turn with the whole conversation so far: it returns the messages to append
    (``ipython`` results) and the rollout goes on, or ``None`` when the model's last turn
    needs no answer (the rollout ends there)."""

    def applies(self, prompt: SFTRow) -> bool: ...

    def respond(self, conversation: list[ChatMessage]) -> list[ChatMessage] | None: ...


@runtime_checkable
class PromptEnvironment(Protocol):
    """An environment whose answers depend on the prompt (the files uploaded with it, the
    functions it offers): ``start(prompt)`` gives the environment for that prompt's
    rollouts. Rollouts call it when an environment has it; others serve every prompt alike."""

    def start(self, prompt: SFTRow) -> Environment: ...


@runtime_checkable
class Evaluator(Protocol):
    def evaluate(self, model_dir: Path, workdir: Path) -> dict[str, float]: ...


@dataclass
class ExecutionResult:
    """The outcome of one program in a sandbox. ``status`` is ``"ok"``, ``"error"`` (non-zero
    exit), ``"timeout"``, ``"oom"``, ``"output_limit"`` or ``"sandbox_error"``."""

    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Program:
    """One program for ``Sandbox.run_many``: ``files`` (relative name -> text) are written
    to a fresh work directory, then ``command`` runs there (``["python3", "main.py"]``)."""

    files: dict[str, str]
    command: list[str]
    timeout_s: float | None = None


@runtime_checkable
class Sandbox(Protocol):
    def run(self, files: dict[str, str], command: list[str], timeout_s: float | None = None) -> ExecutionResult:
        """Run one program; ``timeout_s`` ``None`` means the sandbox's configured limit."""

    def run_many(self, programs: list[Program]) -> list[ExecutionResult]:
        """Run several programs (in parallel where the backend can); results in order.
        Safe to call from several threads."""

    def close(self) -> None: ...
