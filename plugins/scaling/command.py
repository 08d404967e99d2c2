"""``python cli.py scaling plan|run|predict``."""

from __future__ import annotations

import json
import random
from pathlib import Path

from herd.core.errors import InputError


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="scaling_command", required=True)
    sub.add_parser("plan", help="print the IsoFLOP runs that [scaling] budgets and shapes give")
    run = sub.add_parser("run", help="train the sweep and fit it; writes sweep.json and plots")
    run.add_argument("--data", required=True, type=Path,
                     help="a folder of .jsonl/.jsonl.gz/.parquet documents, or a pretrain tokens/ folder")
    run.add_argument("--out", required=True, type=Path, help="output folder (runs are resumed when re-run)")
    pred = sub.add_parser("predict", help="compute-optimal tokens and parameters for a budget")
    pred.add_argument("--alpha", type=float, required=True)
    pred.add_argument("--A", type=float, required=True)
    pred.add_argument("--budget", type=float, required=True)
    down = sub.add_parser("downstream", help="two-step prediction: compute -> benchmark NLL -> accuracy")
    down.add_argument("--points", required=True, type=Path,
                      help="JSONL of observations: {compute, nll} and/or {nll, accuracy} per line")
    down.add_argument("--budget", type=float, required=True, help="target training FLOPs")
    down.add_argument("--floor", type=float, default=None, help="chance accuracy (0.25 for 4 choices); fitted if unset")


def run(args, app) -> int:
    from herd.plugins.scaling.laws import PowerLaw, predict
    from herd.plugins.scaling.sweep import fit_sweep, plan_sweep, run_sweep, write_report

    cfg = app.config.section("scaling")
    if args.scaling_command == "predict":
        p = predict(PowerLaw(args.alpha, args.A, 1.0), args.budget)
        print(json.dumps({"budget": p.budget, "tokens": p.tokens, "params": p.params}))
        return 0
    if args.scaling_command == "downstream":
        from herd.plugins.scaling.downstream import predict_downstream, read_points

        by_compute, by_nll = read_points(args.points)
        try:
            result = predict_downstream(by_compute, by_nll, args.budget, args.floor)
        except (ValueError, RuntimeError) as err:  # too few points, or the sigmoid fit did not converge
            raise InputError(f"{args.points}: {err}") from None
        print(json.dumps(result.to_dict()))
        return 0
    if args.scaling_command == "plan":
        for r in plan_sweep(cfg.budgets, cfg.shapes, cfg.vocab_size, cfg.seq_len, cfg.min_tokens):
            print(f"{r.budget:.3g} FLOPs  {r.shape:>8}  {r.params:>12,d} params  {r.tokens:>14,d} tokens")
        return 0
    train_dir, val_dir, vocab = prepare_tokens(args.data, args.out / "tokens", cfg.vocab_size, cfg.val_fraction)
    runs = plan_sweep(cfg.budgets, cfg.shapes, vocab, cfg.seq_len, cfg.min_tokens)
    trainer = app.registry.get("trainers", cfg.trainer).factory(app.config.component("trainers", cfg.trainer))
    run_sweep(runs, trainer, train_dir, val_dir, args.out / "runs", vocab_size=vocab, seq_len=cfg.seq_len,
              batch_tokens=cfg.batch_tokens, lr=cfg.lr, seed=app.config.run.seed)
    report = fit_sweep(runs, cfg.target_budget)
    path = write_report(report, args.out)
    law = report.law
    print(f"wrote {path}" + (f"; alpha={law.alpha:.3f} A={law.A:.3g} R^2={law.r2:.3f}" if law else ""))
    for note in report.notes:
        print(f"note: {note}")
    return 0


def prepare_tokens(data: Path, out: Path, vocab_size: int, val_fraction: float) -> tuple[Path, Path, int]:
    """Token folders for the sweep: reuse a pretrain ``tokens/`` folder, or tokenise a corpus."""
    from herd.lib.llama.packing import corpus_files, read_texts, write_token_shards
    from herd.lib.llama.tokenizer import Tokenizer

    if (data / "train" / "tokens.json").is_file():
        meta = json.loads((data / "train" / "tokens.json").read_text())
        val = data / "val" if (data / "val" / "tokens.json").is_file() else data / "train"
        return data / "train", val, meta["vocab_size"]
    if not data.is_dir():
        raise InputError(f"{data}: not a folder")
    if not (out / "val" / "tokens.json").is_file():
        texts = [t for f in corpus_files(data) for t, _ in read_texts(f)]
        random.Random(0).shuffle(texts)
        n_val = max(1, int(len(texts) * val_fraction))
        tok = Tokenizer.train(texts[n_val:], vocab_size)
        tok.save(out / "tokenizer")
        write_token_shards(texts[n_val:], tok, out / "train")
        write_token_shards(texts[:n_val], tok, out / "val")
    vocab = json.loads((out / "train" / "tokens.json").read_text())["vocab_size"]
    return out / "train", out / "val", vocab
