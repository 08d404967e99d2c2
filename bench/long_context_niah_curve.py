"""What a pretraining run's models reach on RULER ``niah_single_1`` (teacher-forced) and on an
induction probe, checkpoint by checkpoint: the curve in docs/long_context.md ("The NIAH gate in
the default profile").

For each model: the share of samples whose answer (" " and the 7-digit value, herd's
tokenizer) greedy argmax reproduces token by token after the input, per answer token too,
at ``--length`` tokens with RULER's 128-token answer budget and with a 16-token one (the
haystack fills the window); and the induction score, next-token accuracy on the second copy
of a repeated run of 100 random tokens (8 runs). Samples come from the long_context plugin's
generator with the run's own tokenizer (seed 7, depths spread 0-100 %).

    python bench/long_context_niah_curve.py runs/default --length 512 --samples 20 [MODEL_DIR ...]

Without model directories it reads every checkpoint of ``RUN/pretrain/train/checkpoints``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
from pathlib import Path

import torch

from herd.lib.llama.hf_io import load_any
from herd.lib.llama.tokenizer import Tokenizer
from herd.plugins.long_context.generate import generate_samples
from herd.plugins.long_context.tasks import task_spec
from herd.plugins.long_context.token_counter import TokenCounter


@torch.no_grad()
def niah(model, tok: Tokenizer, samples) -> tuple[float, list[float]]:
    passed, per_token = 0, None
    for s in samples:
        prompt, answer = tok.encode(s.input, bos=True), tok.encode(" " + s.outputs[0])
        ids = torch.tensor([prompt + answer])
        hit = (model(ids[:, :-1])[0, len(prompt) - 1:].argmax(-1) == ids[0, len(prompt):]).float()
        passed += bool(hit.all())
        per_token = hit if per_token is None else per_token + hit
    return passed / len(samples), [round(x / len(samples), 2) for x in per_token.tolist()]


@torch.no_grad()
def induction(model, tok: Tokenizer, low: int = 260) -> float:
    rng = random.Random(0)
    rows = []
    for _ in range(8):
        run = [rng.randrange(low, tok.vocab_size - 16) for _ in range(100)]
        rows.append([tok.special.bos] + run + run)
    ids = torch.tensor(rows)
    return float((model(ids[:, :-1])[:, 101:].argmax(-1) == ids[:, 102:]).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory (its pretrain/tokenizer is used)")
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tok_path = args.run / "pretrain" / "tokenizer" / "tokenizer.json"
    tok, counter = Tokenizer.load(tok_path), TokenCounter.load(tok_path)
    sets = {budget: generate_samples(dataclasses.replace(task_spec("niah_single_1"), tokens_to_generate=budget),
                                     args.length, args.samples, counter, seed=7) for budget in (16, 128)}
    models = args.models or sorted((args.run / "pretrain" / "train" / "checkpoints").glob("step_*"))
    print(f"load average {os.getloadavg()}")
    for path in models:
        model = load_any(path).eval()
        where = ""
        state = path / "state.pt"
        if state.is_file():
            p = torch.load(state, map_location="cpu", weights_only=False)["progress"]
            where = f" stage {p['stage_index']} stage_tokens {p['stage_tokens']} total_tokens {p['total_tokens']}"
        fill, fill_tokens = niah(model, tok, sets[16])
        ruler, ruler_tokens = niah(model, tok, sets[128])
        print(f"{path.name}{where} induction {induction(model, tok):.2f} niah_single_1@{args.length} "
              f"filled {fill:.2f} {fill_tokens} ruler-budget {ruler:.2f} {ruler_tokens}", flush=True)


if __name__ == "__main__":
    main()
