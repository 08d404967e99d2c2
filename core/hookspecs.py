"""The contract between herd's core and its plugins: every hook, nothing else.

Most hooks are *register-callback* hooks (as in simonw/llm's ``register_models``): the
core calls ``herd_register_<family>(register)`` once per plugin at start-up, and the plugin
calls ``register(name, factory, ...)`` for each thing it contributes. All plugins
contribute; the core validates every registration (unique names, known config types) and
raises an error naming the plugin at fault. The returned factories are called lazily, so
registering is cheap and a plugin's heavy imports happen only when its component is used.

``register`` always accepts::

    register(name: str, factory: Callable[..., T], *, description: str = "",
             config: type | None = None, **options)

where ``T`` is the family's protocol in ``herd.core.protocols`` and ``config`` an optional
dataclass for the component's own settings (it becomes the config section
``[<family>.<name>]`` unless the family says otherwise). Family-specific ``options`` are
listed on each hook.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("herd")
hookimpl = pluggy.HookimplMarker("herd")


@hookspec
def herd_register_config_sections(register):
    """Declare the plugin's config sections.

    Called once at start-up, before the config file is read, so that unknown sections and
    keys can be reported. Call ``register(section: str, schema: type)`` where ``schema`` is
    a dataclass whose field defaults are the ``default`` profile's values; a class
    attribute ``PROFILES: dict[str, dict]`` may override fields for the ``quick`` and
    ``full`` profiles. Two plugins declaring one section is an error.
    """


@hookspec
def herd_register_sources(register):
    """Register readers of raw input (JSONL, Parquet, WARC, HF datasets on disk...).

    ``factory(config) -> herd.core.protocols.Source``. Options: ``suffixes``: the file name
    endings it reads (``(".jsonl", ".jsonl.gz")``); the curation runner picks the reader
    whose suffix matches the input path, longest suffix first.
    """


@hookspec
def herd_register_extractors(register):
    """Register HTML-to-text extractors. ``factory(config) -> protocols.Extractor``."""


@hookspec
def herd_register_filters(register):
    """Register per-document curation steps: filters, annotators and redactors.

    ``factory(config) -> protocols.DocumentStep``: ``step.apply(doc)`` returns the (possibly
    changed) ``Document`` to keep it or a ``Drop`` with a reason. Steps see one document at
    a time and hold no cross-document state, so any executor may shard them.
    Options: ``default: bool`` — add the step to the curation pipeline whenever its
    plugin is active, even if the config's step list does not name it; ``after: str`` —
    where such a default goes: right after that step when it runs, else at the end.
    """


@hookspec
def herd_register_dedupers(register):
    """Register corpus-global steps (URL, exact, MinHash and line-level de-duplication, and
    any step that needs statistics of the whole corpus, such as the token-distribution
    KL filter). ``factory(config) -> protocols.CorpusStep``.
    """


@hookspec
def herd_register_mixers(register):
    """Register samplers and mixers that turn curated documents into a training mix with
    target proportions. ``factory(config) -> protocols.Mixer``."""


@hookspec
def herd_register_judges(register):
    """Register judges of post-training data and model outputs.

    ``factory(config, services) -> protocols.Judge``. Option ``kind``: one of
    ``"reward"``, ``"quality"``, ``"difficulty"``, ``"topic"``, ``"language"``, ``"verifier"``, ``"rule"``.
    Every score a judge gives is stored on the row under ``"<judge name>.<signal>"``.
    """


@hookspec
def herd_register_synthesizers(register):
    """Register capability data generators (code execution feedback, translation,
    multilingual prompts...). ``factory(config, services) -> protocols.Synthesizer``.
    Option ``capability``: the capability the data belongs to (``"code"``...). Option
    ``default`` (true unless given): whether a run uses it when the config names no
    synthesizers; ones that need user data (a source file...) register ``default=False``."""


@hookspec
def herd_register_environments(register):
    """Register rollout environments (``protocols.Environment``): what answers a model's
    turn in post-training rollouts (sandboxed code, tool calls, step checks).
    ``factory(config, services) -> protocols.Environment``. Option ``capability``: the
    capability whose prompts it serves (for listings; ``applies(prompt)`` decides).

    Post-training builds every registered environment (or those ``[posttrain]
    environments`` names) once per round with the round's services. A rollout samples a
    model turn, calls ``respond(conversation)`` on the environments whose
    ``applies(prompt)`` is true, in name order, and appends the first answer that is not
    ``None``; it ends when no environment answers the model's turn, or after
    ``[posttrain] rollout_max_steps`` model turns (``Trajectory.finish == "step_cap"``).
    Rejection sampling keeps the best whole trajectory and online DPO pairs trajectories;
    only the model's turns are trained on."""


@hookspec
def herd_register_trainers(register):
    """Register training backends (``torch``, ``nemo``...).
    ``factory(config) -> protocols.Trainer``: one object that runs a backend-neutral
    ``protocols.TrainJob`` (model size, parallel sizes tp/pp/cp/dp, stage schedule)."""


@hookspec
def herd_register_generators(register):
    """Register generation backends (local model, Hugging Face, OpenAI-compatible HTTP).
    ``factory(config) -> protocols.Generator``."""


@hookspec
def herd_register_evaluators(register):
    """Register evaluators run by the ``evaluate`` stage and by post-training rounds.
    ``factory(config, services) -> protocols.Evaluator``. Option ``capability``."""


@hookspec
def herd_register_tools(register):
    """Register tools a model may call in tool-use rollouts, synthesis and evaluation (when
    the ``tools`` plugin is active). ``factory(config, services) -> herd.lib.tool.Tool`` or
    a list of them: the tool's ``FunctionDef`` (name, description, JSON Schema of its
    arguments) and its executor; the toolbox checks the schema when it adds the tool and
    the arguments before each call."""


@hookspec
def herd_register_sandboxes(register):
    """Register backends that execute untrusted programs (Docker, bubblewrap...).
    ``factory(config) -> protocols.Sandbox``. Option ``isolated: bool`` — the core refuses
    a non-isolated backend unless the user explicitly allows unisolated execution."""


@hookspec
def herd_register_stages(register):
    """Implement stages of the pipeline graph: the recipe's stages
    (``herd.core.pipeline.STAGES``) or new ones, which run right after the last stage they
    read (``herd.core.pipeline.stage_order``).

    ``register(name, run, *, description="", reads=(), optional_reads=(), provides=(),
    config_sections=())``: ``run`` is
    ``Callable[[herd.core.pipeline.StageContext], herd.core.pipeline.StageResult]``;
    ``reads`` names the earlier stages whose artifacts it needs (the stage is skipped when
    one has not completed); ``optional_reads`` those it uses when present (``"*"``: every
    earlier stage, as the report reads whatever ran); both feed its cache key and decide
    where a plugin's stage runs. ``provides`` declares what the stage's output is, in
    words other stages read by (``("expert_model",)``: a ``final_model/`` a capability's
    expert generator samples from); an entry ``"provides:<what>"`` in ``reads`` or
    ``optional_reads`` stands for every registered stage that provides ``<what>`` (none
    when no active plugin does), so a consumer never names another plugin's stage: the
    posttrain stage reads ``"provides:expert_model"``, and each such stage's folder is in
    its ``ctx.inputs`` under the stage's name. ``config_sections`` the config sections
    whose values decide its output (they make its cache key). One stage has one
    implementation: two plugins implementing it is an error naming both.
    """


@hookspec
def herd_register_commands(register):
    """Add CLI sub-commands (``curate``, ``train``, ``export-hf``, ``serve``...).

    ``register(name, add_arguments, run, *, help="")``: ``add_arguments(parser)`` declares
    its arguments on an ``argparse`` sub-parser, ``run(args, app) -> int`` runs it with a
    ``herd.core.app.App`` (plugins, config) and returns the exit code.
    """
