"""herd's DPO and reward losses against TRL's trainers on the same tiny model and batch."""

from __future__ import annotations

import copy
import random

import pytest
import torch

from herd.core.records import ChatMessage, PreferenceRow, text_response
from herd.lib.posttraining.batching import collate_pairs, multi_response, pack, stack_packed
from herd.lib.posttraining.dpo import DPOSettings, dpo_step, encode_pairs, preference_pairs
from herd.lib.posttraining.models import lm_logits
from herd.lib.posttraining.losses import bradley_terry_loss, reference_logps, sft_loss, token_logps
from herd.lib.posttraining.reward import score_separately, score_together

trl = pytest.importorskip("trl")

ROWS = [
    PreferenceRow("a", [ChatMessage("user", "What is 2+3?")], [text_response("5"), text_response("It is 6, I think.")]),
    PreferenceRow(
        "b",
        [ChatMessage("system", "Be brief."), ChatMessage("user", "Capital of France?")],
        [text_response("Paris."), text_response("London is the capital.")],
    ),
    PreferenceRow("c", [ChatMessage("user", "Say hi")], [text_response("hi"), text_response("no")]),
]


def _policy_and_ref(tokenizer, make_llama):
    ref = make_llama(len(tokenizer), seed=1)
    policy = copy.deepcopy(ref)
    torch.manual_seed(2)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return policy, ref


def _trl_dpo(policy, ref, tokenizer):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        output_dir="/tmp/herd-trl-parity",
        beta=0.1,
        loss_type=["sigmoid", "sft"],  # TRL's replacement of rpo_alpha: NLL on chosen
        loss_weights=[1.0, 0.2],
        report_to=[],
        use_cpu=True,
        bf16=False,  # TRL defaults to bf16 autocast (which accelerate patches into forward); compare in fp32
    )
    dummy = Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}])
    return DPOTrainer(model=policy, ref_model=ref, args=args, train_dataset=dummy, processing_class=tokenizer)


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _as_herd(hf_model, directory):
    from herd.lib.llama.hf_io import load_hf

    hf_model.save_pretrained(str(directory))
    return load_hf(directory).float()


def _herd_dpo(policy, ref, batch):
    policy.zero_grad()
    with torch.no_grad():
        ref_logits = lm_logits(ref, batch.input_ids, batch.attention_mask)
    refs = reference_logps(ref_logits, batch.input_ids, batch.response_mask, batch.special_mask, False)
    terms = dpo_step(policy, batch, refs, DPOSettings(beta=0.1, nll_coef=0.2, mask_special=False))
    terms.loss.backward()
    return float(terms.loss.detach()), _grads(policy)


def test_dpo_loss_and_gradients_equal_trl(tokenizer, chat, llama, tmp_path):
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    policy, ref = _policy_and_ref(tokenizer, llama)
    triples = encode_pairs(chat, preference_pairs(ROWS))
    trl_examples = [{"prompt_ids": p.ids, "chosen_ids": c.ids, "rejected_ids": r.ids} for p, c, r in triples]
    trl_batch = DataCollatorForPreference(pad_token_id=tokenizer.pad_token_id)(trl_examples)
    herd_batch = collate_pairs(triples, tokenizer.pad_token_id)
    assert torch.equal(trl_batch["input_ids"], herd_batch.input_ids)
    assert torch.equal(trl_batch["completion_mask"].bool(), herd_batch.response_mask)

    # herd's own Llama holding the same weights (what the posttrain stage trains).
    herd_policy, herd_ref = _as_herd(policy, tmp_path / "p"), _as_herd(ref, tmp_path / "r")

    trainer = _trl_dpo(policy, ref, tokenizer)
    policy.zero_grad()
    trl_loss = trainer.compute_loss(trainer.model, trl_batch)
    trl_loss.backward()
    trl_grads = _grads(policy)

    # herd's loss on the same transformers model ...
    herd_loss, herd_grads = _herd_dpo(policy, ref, herd_batch)
    assert abs(herd_loss - float(trl_loss)) < 1e-5
    assert trl_grads.keys() == herd_grads.keys()
    for name in trl_grads:
        assert torch.allclose(herd_grads[name], trl_grads[name], atol=1e-5, rtol=0), name

    # ... and on herd's own Llama.
    own_loss, own_grads = _herd_dpo(herd_policy, herd_ref, herd_batch)
    assert abs(own_loss - float(trl_loss)) < 1e-5
    for name, grad in own_grads.items():
        hf_name = name if name.startswith("lm_head") else f"model.{name}"
        assert torch.allclose(grad, trl_grads[hf_name], atol=1e-5, rtol=0), name


def test_special_token_masking_removes_exactly_the_masked_tokens(tokenizer, chat, llama):
    policy, ref = _policy_and_ref(tokenizer, llama)
    batch = collate_pairs(encode_pairs(chat, preference_pairs(ROWS)), tokenizer.pad_token_id)
    with torch.no_grad():
        pol_tok = token_logps(lm_logits(policy, batch.input_ids, batch.attention_mask), batch.input_ids)
        ref_tok = token_logps(lm_logits(ref, batch.input_ids, batch.attention_mask), batch.input_ids)
    assert batch.special_mask[batch.response_mask].any(), "responses must contain an end-of-turn token"
    masked_positions = (batch.response_mask & batch.special_mask)[:, 1:].float()
    full = DPOSettings(mask_special=False)
    masked = DPOSettings(mask_special=True)
    ref_full = (ref_tok * batch.response_mask[:, 1:]).sum(1)
    ref_masked = reference_logps(
        lm_logits(ref, batch.input_ids, batch.attention_mask), batch.input_ids, batch.response_mask, batch.special_mask, True
    )
    # The reference's masked sum is its full sum minus the formatting tokens' log-probs ...
    assert torch.allclose(ref_full - ref_masked, (ref_tok * masked_positions).sum(1), atol=1e-6)
    with torch.no_grad():
        t_full = dpo_step(policy, batch, ref_full, full)
        t_masked = dpo_step(policy, batch, ref_masked, masked)
    # ... and so is the policy's, so the DPO reward of each response moves by exactly
    # beta * (the masked tokens' policy - reference log-prob).
    special_delta = 0.1 * ((pol_tok - ref_tok) * masked_positions).sum(1)
    c_delta, r_delta = special_delta.chunk(2)
    assert torch.allclose(t_full.chosen_rewards - t_masked.chosen_rewards, c_delta, atol=1e-6)
    assert torch.allclose(t_full.rejected_rewards - t_masked.rejected_rewards, r_delta, atol=1e-6)
    # The loss recomputed from the masked rewards matches, and the NLL term is unchanged.
    expected = -torch.nn.functional.logsigmoid(t_full.margins - (c_delta - r_delta)).mean()
    assert torch.allclose(t_masked.dpo, expected, atol=1e-6)
    assert torch.allclose(t_full.nll, t_masked.nll)
    assert not torch.allclose(t_full.dpo, t_masked.dpo)


def test_reward_loss_equals_trl_reward_trainer(tokenizer, chat, llama):
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer
    from trl.trainer.reward_trainer import DataCollatorForPreference

    model = llama(len(tokenizer), seed=3, cls_name="LlamaForSequenceClassification")
    model.config.pad_token_id = tokenizer.pad_token_id
    args = RewardConfig(output_dir="/tmp/herd-trl-rm", report_to=[], use_cpu=True, bf16=False)
    dummy = Dataset.from_list([{"chosen": "a", "rejected": "b"}])
    trainer = RewardTrainer(model=model, args=args, train_dataset=dummy, processing_class=tokenizer)
    examples = []
    for row in ROWS:
        prompt = chat.encode_prompt(row.prompt)
        chosen, rejected = (prompt + chat.encode_turns(row.prompt, r) for r in row.responses)
        examples.append({"chosen_ids": chosen.ids, "rejected_ids": rejected.ids})
    batch = DataCollatorForPreference(pad_token_id=tokenizer.pad_token_id)(examples)
    trl_loss = trainer.compute_loss(trainer.model, batch)
    scores = [
        score_together(model, chat.encode_prompt(r.prompt), [chat.encode_turns(r.prompt, x) for x in r.responses])
        for r in ROWS
    ]
    herd_loss = bradley_terry_loss(scores)
    assert abs(float(herd_loss) - float(trl_loss)) < 1e-5


def test_multi_response_scores_equal_separate_forward_passes(tokenizer, chat, llama):
    model = llama(len(tokenizer), seed=4, cls_name="LlamaForSequenceClassification").eval()
    prompt = chat.encode_prompt([ChatMessage("user", "Name a colour.")])
    responses = [chat.encode_response(t) for t in ("Red.", "Blue, the sky's colour.", "green", "I like teal a lot")]
    with torch.no_grad():
        separate = score_separately(model, prompt, responses)
        for seed in range(3):
            together = score_together(model, prompt, responses, rng=random.Random(seed))
            assert torch.allclose(together, separate, atol=1e-5)
    layout = multi_response(prompt, responses, random.Random(0))
    assert layout.order != list(range(len(responses))), "seed 0 shuffles this layout"


def test_bradley_terry_covers_every_ordered_pair():
    scores = [torch.tensor([3.0, 1.0, 0.0])]
    expected = -torch.nn.functional.logsigmoid(torch.tensor([2.0, 3.0, 1.0])).mean()
    assert torch.allclose(bradley_terry_loss(scores), expected)


@pytest.mark.parametrize("kind", ["transformers", "herd"])
def test_packed_sft_loss_equals_separate_sequences(tokenizer, chat, llama, kind, tmp_path):
    from herd.core.records import ChatMessage as M
    from herd.lib.posttraining.models import packed_logits

    model = llama(len(tokenizer), seed=5).eval()
    if kind == "herd":
        model = _as_herd(model, tmp_path / "m").eval()
    dialogs = [
        chat.encode_dialog([M("user", "hi"), M("assistant", "hello!")]),
        chat.encode_dialog([M("user", "2+2?"), M("assistant", "4"), M("user", "and 3+3?"), M("assistant", "6")]),
    ]
    rows = pack(dialogs, max_len=256, pad_id=tokenizer.pad_token_id)
    assert len(rows) == 1, "both dialogs fit into one packed row"
    batch = stack_packed(rows, tokenizer.pad_token_id)
    with torch.no_grad():
        logits = packed_logits(model, batch.input_ids, batch.doc_ids, batch.position_ids, batch.attention_mask)
        packed = sft_loss(logits, batch.input_ids, batch.loss_mask)
        total, count = 0.0, 0
        for d in dialogs:
            ids = torch.tensor([d.ids])
            mask = torch.tensor([d.loss])
            n = int(mask[:, 1:].sum())
            total += float(sft_loss(lm_logits(model, ids), ids, mask)) * n
            count += n
    assert abs(float(packed) - total / count) < 1e-5


@pytest.mark.parametrize("kind", ["transformers", "herd"])
@pytest.mark.parametrize("mask_special", [False, True])
def test_shared_prompt_layout_equals_padded_pairs(tokenizer, chat, llama, tmp_path, kind, mask_special):
    """Training computes each prompt once (``prompt | chosen | rejected`` in one row); its
    loss and gradients equal the ``[chosen; rejected]`` layout TRL uses."""
    from herd.lib.posttraining.batching import collate_shared_pairs
    from herd.lib.posttraining.dpo import shared_dpo_step, shared_reference_logps

    policy, ref = _policy_and_ref(tokenizer, llama)
    if kind == "herd":
        policy, ref = _as_herd(policy, tmp_path / "p"), _as_herd(ref, tmp_path / "r")
    triples = encode_pairs(chat, preference_pairs(ROWS))
    settings = DPOSettings(mask_special=mask_special)

    padded = collate_pairs(triples, tokenizer.pad_token_id)
    with torch.no_grad():
        refs = reference_logps(lm_logits(ref, padded.input_ids, padded.attention_mask), padded.input_ids,
                               padded.response_mask, padded.special_mask, mask_special)
    policy.zero_grad()
    expected = dpo_step(policy, padded, refs, settings)
    expected.loss.backward()
    expected_grads = _grads(policy)

    shared = collate_shared_pairs(triples, tokenizer.pad_token_id)
    assert shared.input_ids.numel() < padded.input_ids.numel()
    shared_refs = shared_reference_logps(ref, shared, mask_special)
    assert torch.allclose(torch.cat(shared_refs), refs, atol=1e-5)
    policy.zero_grad()
    got = shared_dpo_step(policy, shared, shared_refs, settings)
    got.loss.backward()
    assert abs(float(got.loss) - float(expected.loss)) < 1e-5
    assert torch.allclose(got.nll, expected.nll, atol=1e-6)
    for name, grad in _grads(policy).items():
        assert torch.allclose(grad, expected_grads[name], atol=1e-5, rtol=0), name
