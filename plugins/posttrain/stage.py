"""The ``posttrain`` stage: N rounds of reward model -> rejection sampling -> SFT -> DPO ->
weight averaging (docs/recipe.md section 5), starting from the pretraining stage's model.

Layout of the stage's folder::

    round_0/model/                the starting model (pretraining's), HF format + tokenizer
    round_0/eval.json             its evaluation: the baseline of every later round
    round_<r>/data/*.jsonl        the round's SFT mix, preference pool, online DPO pairs, drops
    round_<r>/reward_model/       the averaged RM (transformers LlamaForSequenceClassification)
    round_<r>/sft_model/          the averaged SFT model (DPO's reference, online DPO samples it)
    round_<r>/model/              the round's averaged DPO model (what round r+1 samples from)
    round_<r>/sft_data.json       the SFT funnel by judge, the rows' labels, the SFT mix achieved vs target
    round_<r>/summary.json        counts, losses, reward margins, evaluations (written last)
    final_model/                  the last round's model (what the ``evaluate`` stage reads)
    summary.json                  every round's evaluation against round 0
    samples.json                  round 0's and each round's answers to the same prompts
                                  (``herd.core.samples``; round_<r>/samples.json per round)
    rounds.json                   per round: metrics and SFT mix (what the ``report`` stage plots)

A round whose ``summary.json`` exists is complete: ``--resume`` skips it and continues
from its model. Every step's randomness is a function of (run seed, round, step)
(``round_state.step_seed``), so a resumed run matches an uninterrupted one.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import torch

from herd.core.errors import ConfigError, StageError
from herd.core.pipeline import StageContext, StageResult
from herd.core.posttrain_summary import (
    Evaluation,
    RoundCounts,
    RoundSummary,
    read_evaluation,
    read_round_summary,
)
from herd.core.records import PreferenceRow
from herd.core.services import Services
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.data import load_preferences
from herd.plugins.posttrain.dpo_step import dpo_step, online_pairs
from herd.plugins.posttrain.evaluation import evaluate_model
from herd.core.services import FINAL_MODEL, generator_for_model
from herd.plugins.posttrain.generators import expert_generator
from herd.plugins.posttrain.judging import Verifiers
from herd.plugins.posttrain.lengths import length_policy, model_context
from herd.lib.posttraining.models import load_policy, load_tokenizer, quiet_transformers, save_policy
from herd.plugins.posttrain.rejection_sampling import rejection_sampling_step, split_prompts
from herd.plugins.posttrain.reward_step import reward_step
from herd.plugins.posttrain.rollouts import Environments
from herd.plugins.posttrain.round_data import checked, human_data, synthesize
from herd.plugins.posttrain.round_state import Ledger, RoundState, RunInputs
from herd.plugins.posttrain.sampling import Sampler, sample_and_judge
from herd.lib.sft_funnel.report import FILE as SFT_DATA_FILE, write_sft_data_report
from herd.plugins.posttrain.sft_step import sft_funnel, sft_step
from herd.plugins.posttrain.summary import sft_mix, stage_result, write_json, write_round_data, write_stage_files


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


def starting_model(ctx: StageContext, cfg: PosttrainConfig) -> tuple[Path, Path]:
    if cfg.base_model:
        return find_given_model(Path(cfg.base_model))
    if "pretrain" in ctx.inputs:
        return find_base_model(ctx.inputs["pretrain"])
    raise StageError("posttrain starts from the pretrain stage's final model, which is missing; run the "
                     "pretrain stage or set [posttrain] base_model to a local Hugging Face Llama checkpoint")


def check_config(cfg: PosttrainConfig) -> None:
    for key, values in (("rm_seeds", cfg.rm_seeds), ("sft_seeds", cfg.sft_seeds),
                        ("sft_lr_scales", cfg.sft_lr_scales), ("dpo_seeds", cfg.dpo_seeds)):
        if not values:
            raise ConfigError(f"[posttrain] {key} is empty; give at least one variant to train")
    for key, value in (("rounds", cfg.rounds), ("samples_per_prompt", cfg.samples_per_prompt),
                       ("max_len", cfg.max_len), ("max_new_tokens", cfg.max_new_tokens),
                       ("rollout_max_steps", cfg.rollout_max_steps)):
        if value < 1:
            raise ConfigError(f"[posttrain] {key} must be at least 1, got {value}")


# ----- the stage --------------------------------------------------------------------------


def run_posttrain(ctx: StageContext) -> StageResult:
    quiet_transformers()
    cfg: PosttrainConfig = ctx.config.section("posttrain")
    threads = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        return run_stage(ctx, cfg)
    finally:
        torch.set_num_threads(threads)


def run_stage(ctx: StageContext, cfg: PosttrainConfig) -> StageResult:
    check_config(cfg)
    base_dir, tok_dir = starting_model(ctx, cfg)
    tokenizer = load_tokenizer(tok_dir)
    chat = ChatFormat.from_tokenizer(tokenizer)
    lengths = length_policy(cfg.max_len, cfg.max_len_by_capability, ctx.registry, model_context(base_dir))
    run = RunInputs(ctx=ctx, cfg=cfg, chat=chat, tokenizer_dir=tok_dir, pad_id=tokenizer.special.pad,
                    lengths=lengths, run_seed=ctx.config.run.seed)
    baseline = round_zero(run, base_dir)

    run_ledger = Ledger()
    run.human_sft, human_prefs = human_data(cfg, chat, lengths, run_ledger)
    pool: list[PreferenceRow] = list(human_prefs)  # all rounds' preference data, for the RM
    current = ctx.workdir / "round_0" / "model"
    summaries = []
    for r in range(1, cfg.rounds + 1):
        rdir = ctx.workdir / f"round_{r}"
        if (rdir / "summary.json").is_file():  # completed before an interruption
            ctx.log.info("round %d already complete; continuing from its model", r)
            summaries.append(read_round_summary(rdir / "summary.json"))
            # The pool grows as in the round itself: its synthetic preferences, then its pairs.
            pool.extend(load_preferences(rdir / "data" / "synthetic_preferences.jsonl").rows)
            pool.extend(load_preferences(rdir / "data" / "online_pairs.jsonl").rows)
            current = rdir / "model"
            continue
        if rdir.exists():
            shutil.rmtree(rdir)  # a partial round is redone from its start
        state = RoundState(r, rdir, current, pool, run_ledger if r == 1 else Ledger())
        summary = run_round(run, state, baseline)
        write_json(rdir / "summary.json", asdict(summary))
        summaries.append(summary)
        current = rdir / "model"

    final = ctx.workdir / FINAL_MODEL
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(current, final)
    write_stage_files(ctx.workdir, summaries, baseline)
    return stage_result(summaries, baseline)


def round_zero(run: RunInputs, base_dir: Path) -> Evaluation:
    """The starting model, saved as round 0's, and its evaluation (the baseline)."""
    round0 = run.ctx.workdir / "round_0"
    if not (round0 / "eval.json").is_file():
        current = save_policy(load_policy(base_dir), run.tokenizer_dir, round0 / "model")
        run.seeded_step(0, "evaluation")
        write_json(round0 / "eval.json", asdict(evaluate_model(run.ctx, run.cfg, current, run.chat, round0, 0)))
    return read_evaluation(round0 / "eval.json")


def run_round(run: RunInputs, state: RoundState, baseline: Evaluation) -> RoundSummary:
    """The round's steps in the recipe's order; each step starts from its own seed."""
    ctx, cfg, chat, r, ledger = run.ctx, run.cfg, run.chat, state.round_no, state.ledger
    ctx.log.info("round %d/%d: starting from %s", r, cfg.rounds, state.model_dir)
    policy = generator_for_model(ctx, cfg.generator, state.model_dir)
    services = Services(ctx, generator=policy, generator_dir=state.model_dir, backend=cfg.generator)

    run.seeded_step(r, "synthesis")
    synth_sft, synth_prefs = synthesize(ctx, cfg, services, r, state.round_dir)
    synth_sft = checked(synth_sft, chat, run.lengths, ledger, "synthetic_sft")
    synth_prefs = checked(synth_prefs, chat, run.lengths, ledger, "synthetic_preferences")
    state.pool.extend(synth_prefs)

    ctx.log.info("round %d: reward model", r)
    run.seeded_step(r, "reward_model")
    reward = reward_step(run, state)

    ctx.log.info("round %d: rejection sampling", r)
    seed = run.seeded_step(r, "rejection_sampling")
    prompts = split_prompts(synth_sft + run.human_sft, cfg.rs_prompts, cfg.dpo_prompts, seed)
    experts = {cap: expert_generator(ctx, name) for cap, name in cfg.expert_generators.items()}
    environments = Environments(ctx, cfg.environments, services)
    verifiers = Verifiers(ctx, cfg.verifiers, services)
    rs = rejection_sampling_step(prompts.rejection_sampling, Sampler(policy, experts, environments, cfg),
                                 reward.scorer, verifiers, ledger, r, seed)
    rs_rows = checked(rs.rows, chat, run.lengths, ledger, "rejection_sampling")

    ctx.log.info("round %d: SFT", r)
    seed = run.seeded_step(r, "sft")
    funnel = sft_funnel(ctx, services, rs_rows + synth_sft + run.human_sft, ledger, round_no=r, seed=seed,
                        scorer=reward.scorer)
    sft_rows, funnel_counts = funnel.rows, funnel.counts
    if funnel.report is not None:
        write_sft_data_report(state.round_dir / SFT_DATA_FILE, funnel.report)
    sft = sft_step(run, state, sft_rows)

    ctx.log.info("round %d: DPO", r)
    seed = run.seeded_step(r, "dpo_sampling")
    sft_sampler = Sampler(generator_for_model(ctx, cfg.generator, sft.model_dir), experts, environments, cfg)
    judged = sample_and_judge(prompts.dpo, sft_sampler, reward.scorer, verifiers, ledger, "dpo_sampling", seed)
    pairs = checked(online_pairs(judged, ledger, r, cfg.rm_similarity), chat, run.lengths, ledger, "dpo_pairs")
    run.seeded_step(r, "dpo")
    dpo = dpo_step(run, state, sft.model, sft.model_dir, pairs)
    pool_before = len(state.pool)
    state.pool.extend(pairs)

    ctx.log.info("round %d: evaluation", r)
    write_round_data(state.round_dir / "data", sft_rows, synth_prefs, pairs, ledger)
    run.seeded_step(r, "evaluation")
    evaluation = evaluate_model(ctx, cfg, dpo.model_dir, chat, state.round_dir, r)
    counts = RoundCounts(
        synthetic_sft=len(synth_sft), human_sft=len(run.human_sft), rs_prompts=len(prompts.rejection_sampling),
        rejection_sampled=len(rs_rows), rs_best_verified=rs.best_verified, multi_turn_trajectories=rs.multi_turn,
        sft_rows=len(sft_rows), preference_pool=pool_before, rm_pairs=reward.pairs, dpo_pairs=len(pairs),
        dropped=len(ledger.drops),
    )
    return RoundSummary(round=r, counts=counts, drops=ledger.counts(), sft_mix=sft_mix(sft_rows),
                        sft_funnel=funnel_counts, reward_model=reward.summary, sft=sft.summary, dpo=dpo.summary,
                        evaluation=evaluation, baseline=baseline)
