"""The ``posttrain`` stage: N rounds of reward model -> rejection sampling -> SFT -> DPO ->
weight averaging (RECIPE.md section 5), starting from the pretraining stage's model.

Layout of the stage's folder::

    round_0/model/                the starting model (pretraining's), HF format + tokenizer
    round_0/eval.json             its evaluation: the baseline of every later round
    round_<r>/data/*.jsonl        the round's SFT mix, preference pool, online DPO pairs, drops
    round_<r>/reward_model/       the averaged RM (transformers LlamaForSequenceClassification)
    round_<r>/model/              the round's averaged DPO model (what round r+1 samples from)
    round_<r>/summary.json        counts, losses, reward margins, evaluations (written last)
    final_model/                  the last round's model (what the ``evaluate`` stage reads)
    summary.json                  every round's evaluation against round 0
    rounds.json                   per round: metrics and SFT mix (what the ``report`` stage plots)

A round whose ``summary.json`` exists is complete: ``--resume`` skips it and continues
from its model.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from herd.core.errors import ConfigError, StageError
from herd.core.pipeline import StageContext, StageResult
from herd.core.protocols import SamplingParams
from herd.core.services import Services, generator_for_model
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
from herd.plugins.posttrain import tasks
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.data import (
    Loaded,
    check_lengths,
    load_preferences,
    load_sft,
    preference_to_dict,
    sft_to_dict,
    write_jsonl,
)
from herd.lib.posttraining.dpo import DPOSettings, train_dpo
from herd.lib.posttraining.models import (
    average_state_dicts,
    load_policy,
    load_tokenizer,
    quiet_transformers,
    save_policy,
)
from herd.lib.posttraining.reward import (
    RewardScorer,
    near_identical,
    pairwise_accuracy,
    reward_model_from_causal,
    reward_pairs,
    split_heldout,
    train_reward_model,
)
from herd.lib.posttraining.sft import train_sft

FINAL_MODEL = "final_model"
EVAL_SEED = 987_654  # built-in evaluation instances: a seed no synthesizer uses


# ----- finding the starting model ---------------------------------------------------------


def find_base_model(pretrain_dir: Path) -> tuple[Path, Path]:
    """The pretraining stage's final model and its tokenizer: ``final_model/`` or ``hf/``
    (HF format), tokenizer files in it or in ``tokenizer/``."""
    for name in (FINAL_MODEL, "hf"):
        model_dir = pretrain_dir / name
        if (model_dir / "config.json").is_file():
            break
    else:
        raise StageError(
            f"{pretrain_dir}: no Hugging Face-format model (final_model/ or hf/ with config.json); "
            "post-training starts from the pretrain stage's final model"
        )
    for tok_dir in (model_dir, pretrain_dir / "tokenizer"):
        if (tok_dir / "tokenizer.json").is_file():
            return model_dir, tok_dir
    raise StageError(f"{pretrain_dir}: no tokenizer.json in {model_dir} or tokenizer/")


def find_given_model(model_dir: Path) -> tuple[Path, Path]:
    """A user's local Hugging Face Llama checkpoint (``[posttrain] base_model``)."""
    if not (model_dir / "config.json").is_file():
        raise ConfigError(f"[posttrain] base_model {model_dir}: no config.json there (a local Hugging Face "
                          "checkpoint directory is expected; nothing is downloaded)")
    if not (model_dir / "tokenizer.json").is_file():
        raise ConfigError(f"[posttrain] base_model {model_dir}: no tokenizer.json there")
    return model_dir, model_dir


# ----- bookkeeping ------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every row dropped with its reason, and what each stage of a round used."""

    drops: list[dict[str, Any]] = field(default_factory=list)

    def drop(self, step: str, row_id: str, reason: str) -> None:
        self.drops.append({"step": step, "id": row_id, "reason": reason})

    def counts(self) -> dict[str, int]:
        return dict(Counter(f"{d['step']}.{d['reason'].split(':')[0]}" for d in self.drops))


def _mix(rows: list[SFTRow]) -> dict[str, dict[str, int]]:
    by_cap = Counter(r.capability for r in rows)
    by_cat = Counter(f"{r.capability}/{r.category}" for r in rows)
    return {"by_capability": dict(by_cap), "by_category": dict(by_cat)}


# ----- generation -------------------------------------------------------------------------


def policy_generator(ctx: StageContext, name: str, model_dir: Path):
    """The generator ``name`` pointed at ``model_dir`` (backends with a ``model_path``)."""
    return generator_for_model(ctx, name, model_dir)


def expert_generator(ctx: StageContext, name: str):
    """An expert generator registered with ``model_stage="<stage>"`` (the code expert) is
    pointed at that stage's ``final_model/`` when this run has it; others use their config."""
    stage = ctx.registry.get("generators", name).options.get("model_stage")
    if stage and stage in ctx.inputs:
        return policy_generator(ctx, name, ctx.inputs[stage] / FINAL_MODEL)
    return ctx.build("generators", name)


def _generate(generator, prompts: list[str], params: SamplingParams) -> tuple[list[list[str]], dict[int, str]]:
    """Completions per prompt and, for prompts that got none, why."""
    outputs = generator.generate(prompts, params)
    if len(outputs) != len(prompts):
        raise StageError(f"generator returned {len(outputs)} results for {len(prompts)} prompts")
    failures = {f.index: f.reason for f in getattr(generator, "last_failures", [])}
    for i, out in enumerate(outputs):
        if not out and i not in failures:
            failures[i] = "generator returned no completion"
    return outputs, failures


# ----- judging samples --------------------------------------------------------------------


class Verifiers:
    """The capability verifiers (judges of kind ``verifier``). A sample passes when every
    verifier that applies to it (a score that is not ``None``) gives a positive value."""

    def __init__(self, ctx: StageContext, names: list[str], services: Any):
        registry = ctx.registry
        wanted = names or [n for n in registry.names("judges") if registry.get("judges", n).options.get("kind") == "verifier"]
        for n in wanted:
            kind = registry.get("judges", n).options.get("kind")
            if kind != "verifier":
                raise StageError(f"[posttrain] verifiers names judge '{n}' of kind {kind!r}, not 'verifier'")
        self.names = wanted
        self.judges = [ctx.build("judges", n, services) for n in wanted]

    def verdicts(self, rows: list[SFTRow]) -> list[bool | None]:
        """``True``/``False`` per row, ``None`` where no verifier applies."""
        verdicts: list[bool | None] = [None] * len(rows)
        for judge in self.judges:
            for i, scores in enumerate(judge.score(rows)):
                for s in scores:
                    rows[i].scores[f"{s.judge}.{s.signal}"] = s.value if s.value is not None else float("nan")
                    if s.value is None:
                        continue
                    ok = s.value > 0
                    verdicts[i] = ok if verdicts[i] is None else (verdicts[i] and ok)
        return verdicts


@dataclass
class Prompt:
    """A prompt to sample for: its messages, where it came from, and its reference metadata."""

    id: str
    messages: list[ChatMessage]
    capability: str
    category: str
    metadata: dict[str, Any]


def prompts_from_sft(rows: list[SFTRow]) -> list[Prompt]:
    out = []
    for row in rows:
        last = max(i for i, m in enumerate(row.messages) if m.role == "assistant")
        out.append(Prompt(row.id, row.messages[:last], row.capability, row.category, dict(row.metadata)))
    return out


@dataclass
class Judged:
    prompt: Prompt
    samples: list[str]
    rewards: list[float]
    verdicts: list[bool | None]

    def ranked(self) -> list[int]:
        """Sample indices best first: verified before unverified before failed, then by reward."""
        key = {True: 2, None: 1, False: 0}
        return sorted(range(len(self.samples)), key=lambda i: (key[self.verdicts[i]], self.rewards[i]), reverse=True)


def sample_and_judge(
    prompts: list[Prompt],
    generators: dict[str, Any],
    default_generator: Any,
    chat: ChatFormat,
    scorer: RewardScorer,
    verifiers: Verifiers,
    cfg: PosttrainConfig,
    ledger: Ledger,
    step: str,
    seed: int,
) -> list[Judged]:
    """K samples per prompt (from the capability's expert generator if it names one),
    scored by the reward model and the verifiers. Prompts without usable samples are
    dropped into the ledger."""
    params = SamplingParams(
        temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens,
        n=cfg.samples_per_prompt, seed=seed,
    )
    by_gen: dict[int, list[int]] = {}
    gens: dict[int, Any] = {}
    for i, p in enumerate(prompts):
        gen = generators.get(p.capability, default_generator)
        by_gen.setdefault(id(gen), []).append(i)
        gens[id(gen)] = gen
    samples: list[list[str]] = [[] for _ in prompts]
    for key, idx in by_gen.items():
        texts = [chat.prompt_text(_steered(prompts[i], cfg)) for i in idx]
        outputs, failures = _generate(gens[key], texts, params)
        for j, i in enumerate(idx):
            if j in failures:
                ledger.drop(step, prompts[i].id, f"generation_failed: {failures[j]}")
                continue
            kept = [s for s in outputs[j] if s.strip()]
            if len(kept) < len(outputs[j]):
                for _ in range(len(outputs[j]) - len(kept)):
                    ledger.drop(step, prompts[i].id, "empty_sample")
            samples[i] = kept
    judged = []
    for p, texts in zip(prompts, samples):
        if not texts:
            continue
        rows = [
            SFTRow(id=p.id, messages=p.messages + [ChatMessage("assistant", t)], capability=p.capability,
                   category=p.category, metadata=p.metadata)
            for t in texts
        ]
        judged.append(Judged(p, texts, scorer.score(p.messages, [text_response(t) for t in texts]),
                             verifiers.verdicts(rows)))
    return judged


def _steered(prompt: Prompt, cfg: PosttrainConfig) -> list[ChatMessage]:
    """The per-capability system prompt (RECIPE.md section 5: it may steer tone, style or
    format) is added for sampling only; the SFT row keeps the original prompt."""
    system = cfg.system_prompts.get(prompt.capability)
    if not system or (prompt.messages and prompt.messages[0].role == "system"):
        return prompt.messages
    return [ChatMessage("system", system)] + prompt.messages


def rejection_sample(judged: list[Judged], ledger: Ledger, round_no: int) -> list[SFTRow]:
    """The best sample of each prompt; prompts where a verifier applies and no sample
    passes are dropped (never trained on a wrong answer)."""
    rows = []
    for j in judged:
        best = j.ranked()[0]
        if j.verdicts[best] is False:
            ledger.drop("rejection_sampling", j.prompt.id, "no_sample_passed_verifiers")
            continue
        rows.append(
            SFTRow(
                id=f"{j.prompt.id}-rs{round_no}",
                messages=j.prompt.messages + [ChatMessage("assistant", j.samples[best])],
                capability=j.prompt.capability,
                category=j.prompt.category,
                source="rejection_sampling",
                scores={"reward": j.rewards[best]},
                metadata={**j.prompt.metadata, "round": round_no, "verified": j.verdicts[best]},
            )
        )
    return rows


def online_pairs(judged: list[Judged], ledger: Ledger, round_no: int, similarity: float) -> list[PreferenceRow]:
    """Best versus worst sample of each prompt, labelled by verifiers then the RM."""
    pairs = []
    for j in judged:
        order = j.ranked()
        best, worst = order[0], order[-1]
        same_verdict = j.verdicts[best] == j.verdicts[worst]
        if best == worst or (same_verdict and j.rewards[best] <= j.rewards[worst]):
            ledger.drop("dpo_pairs", j.prompt.id, "no_preference_among_samples")
            continue
        if near_identical(j.samples[best], j.samples[worst], similarity):
            ledger.drop("dpo_pairs", j.prompt.id, "near_identical_samples")
            continue
        gap = j.rewards[best] - j.rewards[worst]
        margin = 3 if not same_verdict else min(3, int(gap))  # the 4-level scale from the RM gap
        pairs.append(
            PreferenceRow(
                id=f"{j.prompt.id}-dpo{round_no}",
                prompt=j.prompt.messages,
                responses=[text_response(j.samples[best]), text_response(j.samples[worst])],
                margin=margin,
                capability=j.prompt.capability,
                round=round_no,
                metadata={"reward_gap": gap, "verdicts": [j.verdicts[best], j.verdicts[worst]]},
            )
        )
    return pairs


# ----- evaluation -------------------------------------------------------------------------


def evaluate_builtin(generator, chat: ChatFormat, count: int) -> dict[str, float]:
    """Greedy exact-match accuracy on held-out instances of the built-in tasks."""
    insts = tasks.instances(count, EVAL_SEED)
    prompts = [chat.prompt_text([ChatMessage("user", i.prompt)]) for i in insts]
    outputs = generator.generate(prompts, SamplingParams(temperature=0.0, max_tokens=8, n=1))
    per_task: dict[str, list[float]] = {}
    for inst, out in zip(insts, outputs):
        ok = bool(out) and tasks.is_correct(out[0], inst.answer)
        per_task.setdefault(inst.task, []).append(float(ok))
    scores = {f"general.{t}": sum(v) / len(v) for t, v in per_task.items()}
    scores["general.accuracy"] = sum(sum(v) for v in per_task.values()) / len(insts)
    return scores


def evaluate_round(ctx: StageContext, cfg: PosttrainConfig, model_dir: Path, chat: ChatFormat, out_dir: Path) -> dict[str, Any]:
    generator = policy_generator(ctx, "local", model_dir)
    result: dict[str, Any] = {"builtin": evaluate_builtin(generator, chat, cfg.eval_prompts), "evaluators": {}}
    if not cfg.run_evaluators:
        return result
    names = cfg.evaluators or ctx.registry.names("evaluators")
    services = Services(generator=generator, ctx=ctx)
    for name in names:
        work = out_dir / "evaluators" / name
        work.mkdir(parents=True, exist_ok=True)
        evaluator = ctx.build("evaluators", name, services)
        result["evaluators"][name] = {k: float(v) for k, v in evaluator.evaluate(model_dir, work).items()}
    return result


# ----- data -------------------------------------------------------------------------------


def synthesize(ctx: StageContext, cfg: PosttrainConfig, services: Services, round_no: int, out_dir: Path):
    names = cfg.synthesizers or [n for n in ctx.registry.names("synthesizers")
                                 if ctx.registry.get("synthesizers", n).options.get("default", True)]
    sft: list[SFTRow] = []
    prefs: list[PreferenceRow] = []
    for name in names:
        capability = ctx.registry.get("synthesizers", name).options.get("capability", "general")
        synth = ctx.build("synthesizers", name, services)
        work = out_dir / "synth" / name
        work.mkdir(parents=True, exist_ok=True)
        for row in synth.synthesize(cfg.synth_budget, work):
            if isinstance(row, SFTRow):
                row.capability = row.capability or capability
                row.metadata.setdefault("synthesizer", name)
                sft.append(row)
            elif isinstance(row, PreferenceRow):
                row.round = row.round or round_no
                prefs.append(row)
            else:
                raise StageError(f"synthesizer '{name}' yielded {type(row).__name__}, not SFTRow or PreferenceRow")
    return sft, prefs


def _checked(rows: list, chat: ChatFormat, max_len: int, ledger: Ledger, step: str) -> list:
    loaded = check_lengths(Loaded(rows=list(rows)), chat, max_len, step)
    for rej in loaded.rejected:
        ledger.drop(step, str(rej.row), f"prompt_too_long: {rej.reason}")
    return loaded.rows


def human_data(cfg: PosttrainConfig, chat: ChatFormat, ledger: Ledger) -> tuple[list[SFTRow], list[PreferenceRow]]:
    sft: list[SFTRow] = []
    prefs: list[PreferenceRow] = []
    for path, loader, out in [(p, load_sft, sft) for p in cfg.sft_data] + [(p, load_preferences, prefs) for p in cfg.preference_data]:
        loaded = check_lengths(loader(Path(path)), chat, cfg.max_len, str(path))
        for rej in loaded.rejected:
            ledger.drop("human_data", f"{rej.source}:{rej.row}", f"invalid_row: {rej.reason}")
        out.extend(loaded.rows)
    return sft, prefs


# ----- the stage --------------------------------------------------------------------------


def run_posttrain(ctx: StageContext) -> StageResult:
    quiet_transformers()
    cfg: PosttrainConfig = ctx.config.section("posttrain")
    threads = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        return _run(ctx, cfg)
    finally:
        torch.set_num_threads(threads)


def _check_config(cfg: PosttrainConfig) -> None:
    for key in ("rm_seeds", "sft_seeds", "sft_lr_scales", "dpo_seeds"):
        if not getattr(cfg, key):
            raise ConfigError(f"[posttrain] {key} is empty; give at least one variant to train")
    for key in ("rounds", "samples_per_prompt", "max_len", "max_new_tokens"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"[posttrain] {key} must be at least 1, got {getattr(cfg, key)}")


def _run(ctx: StageContext, cfg: PosttrainConfig) -> StageResult:
    _check_config(cfg)
    if cfg.base_model:
        base_dir, tok_dir = find_given_model(Path(cfg.base_model))
    elif "pretrain" in ctx.inputs:
        base_dir, tok_dir = find_base_model(ctx.inputs["pretrain"])
    else:
        raise StageError("posttrain starts from the pretrain stage's final model, which is missing; run the "
                         "pretrain stage or set [posttrain] base_model to a local Hugging Face Llama checkpoint")
    tokenizer = load_tokenizer(tok_dir)
    chat = ChatFormat.from_tokenizer(tokenizer)
    pad_id = tokenizer.special.pad
    work = ctx.workdir
    round0 = work / "round_0"
    current = round0 / "model"
    if not (round0 / "eval.json").is_file():
        save_policy(load_policy(base_dir), tok_dir, current)
        baseline = evaluate_round(ctx, cfg, current, chat, round0)
        _write_json(round0 / "eval.json", baseline)
    baseline = json.loads((round0 / "eval.json").read_text())

    run_ledger = Ledger()
    human_sft, human_prefs = human_data(cfg, chat, run_ledger)
    pool: list[PreferenceRow] = list(human_prefs)  # all rounds' preference data, for the RM
    summaries = []
    for r in range(1, cfg.rounds + 1):
        rdir = work / f"round_{r}"
        if (rdir / "summary.json").is_file():  # completed before an interruption
            ctx.log.info("round %d already complete; continuing from its model", r)
            summary = json.loads((rdir / "summary.json").read_text())
            pool.extend(load_preferences(rdir / "data" / "online_pairs.jsonl").rows)
            pool.extend(load_preferences(rdir / "data" / "synthetic_preferences.jsonl").rows)
            summaries.append(summary)
            current = rdir / "model"
            continue
        if rdir.exists():
            shutil.rmtree(rdir)  # a partial round is redone from its start
        summary = run_round(ctx, cfg, r, current, tok_dir, chat, pad_id, pool, human_sft, rdir, run_ledger if r == 1 else Ledger())
        summary["baseline"] = baseline
        _write_json(rdir / "summary.json", summary)
        summaries.append(summary)
        current = rdir / "model"

    final = work / FINAL_MODEL
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(current, final)
    overview = {
        "rounds": cfg.rounds,
        "baseline": baseline["builtin"],
        "per_round": [{"round": s["round"], "builtin": s["eval"]["builtin"], "evaluators": s["eval"]["evaluators"]} for s in summaries],
    }
    _write_json(work / "summary.json", overview)
    _write_json(work / "rounds.json", _rounds_table(summaries, baseline))
    return _result(summaries, baseline)


def _rounds_table(summaries: list[dict[str, Any]], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """``rounds.json``, what the report stage plots: per round (0 = before post-training) its
    evaluation metrics and its SFT mix by capability."""

    def metrics(evaluation: dict[str, Any]) -> dict[str, float]:
        flat = dict(evaluation["builtin"])
        for name, values in evaluation.get("evaluators", {}).items():
            flat.update({f"{name}.{k}": v for k, v in values.items()})
        return flat

    def with_reward(flat: dict[str, float], value: float | None) -> dict[str, float]:
        # RM accuracy on held-out preference pairs; at round 0 the untrained head's.
        return {**flat, "reward_model.heldout_accuracy": value} if value is not None else flat

    first_rm = summaries[0]["reward_model"] if summaries else {}
    rows = [{"round": 0, "metrics": with_reward(metrics(baseline), first_rm.get("heldout_accuracy_untrained")),
             "sft_mix": {}}]
    for s in summaries:
        rows.append({
            "round": s["round"],
            "metrics": with_reward(metrics(s["eval"]), s["reward_model"].get("heldout_accuracy")),
            "sft_mix": s["sft_mix"]["by_capability"],
            "counts": s["counts"],
            "reward_margin": s["dpo"]["reward_margin"],
        })
    return rows


def run_round(
    ctx: StageContext,
    cfg: PosttrainConfig,
    r: int,
    current: Path,
    tok_dir: Path,
    chat: ChatFormat,
    pad_id: int,
    pool: list[PreferenceRow],
    human_sft: list[SFTRow],
    rdir: Path,
    ledger: Ledger,
) -> dict[str, Any]:
    seed = cfg.seed + 1000 * r
    ctx.log.info("round %d/%d: starting from %s", r, cfg.rounds, current)
    generator = policy_generator(ctx, cfg.generator, current)
    services = Services(generator=generator, ctx=ctx)
    experts = {cap: expert_generator(ctx, name) for cap, name in cfg.expert_generators.items()}
    verifiers = Verifiers(ctx, cfg.verifiers, services)

    synth_sft, synth_prefs = synthesize(ctx, cfg, services, r, rdir)
    synth_sft = _checked(synth_sft, chat, cfg.max_len, ledger, "synthetic_sft")
    synth_prefs = _checked(synth_prefs, chat, cfg.max_len, ledger, "synthetic_preferences")
    pool.extend(synth_prefs)

    # 1. Reward model on all rounds' preference data.
    ctx.log.info("round %d: reward model", r)
    rm_data = reward_pairs(pool, cfg.rm_similarity)
    for reason, n in rm_data.dropped.items():
        for _ in range(n):
            ledger.drop("reward_model", "-", reason)
    rm_train, rm_heldout = split_heldout(rm_data, cfg.rm_heldout_fraction)
    rm_states, rm_stats = [], []
    rm_before = None
    for s in cfg.rm_seeds:
        rm = reward_model_from_causal(current, seed=seed + s)
        if rm_before is None:  # the untrained head: what "round 0" means for the RM
            rm_before = pairwise_accuracy(rm, chat, rm_heldout, cfg.max_len)
        rm_stats.append(train_reward_model(rm, chat, rm_train, lr=cfg.rm_lr, epochs=cfg.rm_epochs,
                                           batch_rows=cfg.rm_batch_rows, max_len=cfg.max_len, seed=seed + s))
        rm_states.append(rm.state_dict())
    rm.load_state_dict(average_state_dicts(rm_states))
    rm_accuracy = pairwise_accuracy(rm, chat, rm_heldout, cfg.max_len)
    rm.save_pretrained(str(rdir / "reward_model"))
    scorer = RewardScorer(rm, chat, cfg.max_len)

    # 2. Rejection sampling from the latest policy.
    ctx.log.info("round %d: rejection sampling", r)
    rng = random.Random(seed)
    candidates = prompts_from_sft(synth_sft + human_sft)
    rng.shuffle(candidates)
    judged = sample_and_judge(candidates[: cfg.rs_prompts], experts, generator, chat, scorer, verifiers, cfg,
                              ledger, "rejection_sampling", seed)
    rs_rows = rejection_sample(judged, ledger, r)

    # 3. SFT on rejection-sampled + synthetic + human data, variants averaged.
    ctx.log.info("round %d: SFT", r)
    sft_rows, funnel_counts = sft_funnel(ctx, services, rs_rows + synth_sft + human_sft, ledger)
    base = load_policy(current)
    sft_states, sft_stats = [], []
    for s in cfg.sft_seeds:
        for scale in cfg.sft_lr_scales:
            model = copy.deepcopy(base)
            sft_stats.append(train_sft(model, chat, sft_rows, lr=cfg.sft_lr * scale, epochs=cfg.sft_epochs,
                                       batch_sequences=cfg.sft_batch_sequences, max_len=cfg.max_len,
                                       pad_id=pad_id, seed=seed + s))
            sft_states.append(model.state_dict())
    sft_model = copy.deepcopy(base)
    sft_model.load_state_dict(average_state_dicts(sft_states))
    sft_dir = save_policy(sft_model, tok_dir, rdir / "sft_model")

    # 4. Online DPO: pairs from the newest (SFT) policy's samples, frozen SFT reference.
    ctx.log.info("round %d: DPO", r)
    sft_generator = policy_generator(ctx, cfg.generator, sft_dir)
    dpo_prompts = candidates[cfg.rs_prompts : cfg.rs_prompts + cfg.dpo_prompts] or candidates[: cfg.dpo_prompts]
    judged_dpo = sample_and_judge(dpo_prompts, experts, sft_generator, chat, scorer, verifiers, cfg, ledger,
                                  "dpo_sampling", seed + 1)
    pairs = online_pairs(judged_dpo, ledger, r, cfg.rm_similarity)
    dpo_states, dpo_stats = [], []
    for s in cfg.dpo_seeds:
        policy = copy.deepcopy(sft_model)
        settings = DPOSettings(beta=cfg.dpo_beta, nll_coef=cfg.dpo_nll_coef, mask_special=cfg.dpo_mask_special,
                               lr=cfg.dpo_lr, epochs=cfg.dpo_epochs, batch_pairs=cfg.dpo_batch_pairs,
                               max_len=cfg.max_len, seed=seed + s)
        dpo_stats.append(train_dpo(policy, sft_model, chat, pairs, settings, pad_id))
        dpo_states.append(policy.state_dict())
    round_model = copy.deepcopy(sft_model)
    round_model.load_state_dict(average_state_dicts(dpo_states))
    model_dir = save_policy(round_model, tok_dir, rdir / "model")
    pool.extend(pairs)

    # 5. Record.
    ctx.log.info("round %d: evaluation", r)
    data = rdir / "data"
    write_jsonl(data / "sft_mix.jsonl", [sft_to_dict(x) for x in sft_rows])
    write_jsonl(data / "synthetic_preferences.jsonl", [preference_to_dict(x) for x in synth_prefs])
    write_jsonl(data / "online_pairs.jsonl", [preference_to_dict(x) for x in pairs])
    write_jsonl(data / "drops.jsonl", ledger.drops)
    evaluation = evaluate_round(ctx, cfg, model_dir, chat, rdir)
    verified = [j.verdicts[j.ranked()[0]] for j in judged]
    return {
        "round": r,
        "counts": {
            "synthetic_sft": len(synth_sft),
            "human_sft": len(human_sft),
            "rejection_sampled": len(rs_rows),
            "rs_prompts": len(candidates[: cfg.rs_prompts]),
            "rs_best_verified": sum(1 for v in verified if v is True),
            "sft_rows": len(sft_rows),
            "preference_pool": len(pool) - len(pairs),
            "rm_pairs": sum(len(p) for p in rm_data.pairs),
            "dpo_pairs": len(pairs),
            "dropped": len(ledger.drops),
        },
        "drops": ledger.counts(),
        "sft_mix": _mix(sft_rows),
        "sft_funnel": funnel_counts,
        "reward_model": {
            "variants": len(rm_stats),
            "loss_first": rm_stats[0].loss[0] if rm_stats[0].loss else None,
            "loss_last": [s.loss[-1] for s in rm_stats if s.loss],
            "accuracy": [s.accuracy for s in rm_stats],
            "heldout_pairs": sum(len(p) for p in rm_heldout.pairs),
            "heldout_accuracy": rm_accuracy,
            "heldout_accuracy_untrained": rm_before,
            "margin": [s.margin for s in rm_stats],
        },
        "sft": {
            "variants": len(sft_stats),
            "loss_first": [s.loss[0] for s in sft_stats if s.loss],
            "loss_last": [s.loss[-1] for s in sft_stats if s.loss],
            "packed_sequences": sft_stats[0].packed_sequences,
            "target_tokens": sft_stats[0].target_tokens,
        },
        "dpo": {
            "variants": len(dpo_stats),
            "pairs": len(pairs),
            "loss": [_mean(s.loss) for s in dpo_stats],
            "nll": [_mean(s.nll) for s in dpo_stats],
            "reward_margin": [_mean(s.margins) for s in dpo_stats],
            "reward_accuracy": [_mean(s.accuracy) for s in dpo_stats],
        },
        "eval": evaluation,
    }


def sft_funnel(ctx: StageContext, services: Services, rows: list[SFTRow], ledger: Ledger) -> tuple[list[SFTRow], dict[str, int]]:
    """The judges' SFT funnel (``[sft_funnel]``: rule cleaning, quality, difficulty, topic,
    semantic dedup) over the round's SFT data; every dropped row goes to the ledger with
    the judge's reason. Without the judges plugin the rows pass unchanged."""
    if not ctx.config.has_section("sft_funnel"):
        return rows, {}
    from herd.lib.sft_funnel.funnel import build_funnel, run_funnel

    judges, cfg, embed = build_funnel(ctx, services)
    result = run_funnel(rows, judges, cfg, embed)
    for dropped in result.dropped:
        ledger.drop("sft_funnel", dropped.row.id, f"{dropped.reason}: {dropped.detail}")
    return result.kept, result.counts


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _write_json(path: Path, data: Any) -> None:
    from herd.core import atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, data)


def _result(summaries: list[dict[str, Any]], baseline: dict[str, Any]) -> StageResult:
    counts: dict[str, int] = {"rounds": len(summaries)}
    metrics: dict[str, float] = {"round_0.general.accuracy": baseline["builtin"]["general.accuracy"]}
    for s in summaries:
        r = s["round"]
        for k in ("sft_rows", "dpo_pairs", "rejection_sampled", "dropped"):
            counts[f"round_{r}.{k}"] = int(s["counts"][k])
        for k, v in s["eval"]["builtin"].items():
            metrics[f"round_{r}.{k}"] = float(v)
        for name, vals in s["eval"]["evaluators"].items():
            for k, v in vals.items():
                metrics[f"round_{r}.{name}.{k}"] = float(v)
        if s["reward_model"].get("heldout_accuracy") is not None:
            metrics[f"round_{r}.reward_model.heldout_accuracy"] = float(s["reward_model"]["heldout_accuracy"])
    notes = []
    if summaries:
        last = summaries[-1]["eval"]["builtin"]["general.accuracy"]
        notes.append(
            f"built-in general tasks: accuracy {baseline['builtin']['general.accuracy']:.3f} at round 0 -> "
            f"{last:.3f} after round {summaries[-1]['round']}"
        )
    return StageResult(counts=counts, metrics=metrics, notes=notes)
