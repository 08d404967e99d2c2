"""The torch backend's long-context checks ask the NIAH gate (lib/training/niah.py, docs/recipe.md
4.2) at the step's length, write its trials to ``niah_cases.jsonl``, and record a step too
short for the gate's template as not asked, with the reason."""

import json
from dataclasses import replace

from herd.core.protocols import TrainStage
from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.training.niah import gate_cases, gate_min_length
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.plugins.torch_trainer.trainer import TorchTrainer

CFG = TorchTrainerConfig(checkpoint_every=100, eval_rows=2, threads=1)


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_checks_ask_the_gate_at_the_steps_length_and_write_its_cases(token_data, tmp_path, make_job):
    tok = Tokenizer.load(token_data / "tok")
    seq = gate_min_length(tok)
    job = make_job(token_data, tmp_path / "run", initial_tokens=512, anneal=False)
    long = TrainStage(f"long_{seq}", "long_context", seq, seq, 3e-4, 3e-4, data=token_data / "long",
                      batch_tokens=seq, extra={"max_tokens": 2 * seq, "eval_every": 1, "niah_trials": 2})
    TorchTrainer(CFG).train(replace(job, stages=[job.stages[0], long]))
    checks = [m for m in rows(tmp_path / "run" / "metrics.jsonl") if m.get("event") == "long_context_check"]
    assert checks and all(c["niah_asked"] and c["seq_len"] == seq for c in checks)
    cases = rows(tmp_path / "run" / "niah_cases.jsonl")
    assert len(cases) == 2 * len(checks) and {c["step"] for c in cases} == {c["step"] for c in checks}
    first = [c for c in cases if c["step"] == checks[0]["step"]]
    asked = gate_cases(tok, seq, 2, first[0]["seed"])
    assert [c["prompt"] for c in first] == [a.prompt for a in asked]
    assert [c["value"] for c in first] == [a.value for a in asked] and [c["depth"] for c in first] == [0, 100]


def test_a_step_too_short_for_the_gate_records_why_and_never_passes(token_data, tmp_path, make_job):
    TorchTrainer(CFG).train(make_job(token_data, tmp_path / "run", initial_tokens=512, anneal=False))
    checks = [m for m in rows(tmp_path / "run" / "metrics.jsonl") if m.get("event") == "long_context_check"]
    assert checks and checks[-1]["status"] == "not_recovered"
    assert all(not c["niah_asked"] and not c["niah_passed"] and "needs at least" in c["niah_note"] for c in checks)
    # the reason is checkpointed: nothing in it may depend on where the run is
    assert not any(str(token_data) in c["niah_note"] or str(tmp_path) in c["niah_note"] for c in checks)
    assert not (tmp_path / "run" / "niah_cases.jsonl").exists()
