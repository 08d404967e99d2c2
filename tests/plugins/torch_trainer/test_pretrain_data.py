"""The pretrain stage's data: annealing up-samples the curation's code and maths labels and
quality scores (docs/recipe.md 4.3); no NIAH gate item is ever training data (4.2): the
gate's needles, keys, values and its RULER noise haystack."""

import gzip
import json
import random
from pathlib import Path

import pytest

from herd.lib.llama.packing import read_documents
from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.long_context.tasks import NOISE
from herd.lib.training.niah import gate_cases, gate_unfit, gate_min_length
from herd.plugins.torch_trainer.config import PretrainConfig
from herd.plugins.torch_trainer.data import build_token_data

WORDS = "the a llama herd walks over high plain river sun snow bread town library train station book".split()
MATH = "Let x be the root of x squared minus four, so x equals two because two times two is four."
CODE = "def area(width, height):\n    # the area of a rectangle\n    return width * height\n"


def _record(i: int, kind: str, rng: random.Random) -> dict:
    filler = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 40)))
    if kind == "math":  # as curation_steps' domain classifier labels and scores a maths page
        return {"id": str(i), "text": f"{MATH} {filler}.", "domain": "math_reasoning",
                "scores": {"domain_classifier.reasoning_quality": 0.3}}
    if kind == "code":
        return {"id": str(i), "text": f"{CODE}{filler}", "domain": "code",
                "scores": {"domain_classifier.code_quality": 0.4}}
    if kind == "good":  # general, but the quality classifier rates it high
        return {"id": str(i), "text": f"Good page: {filler}.", "domain": "general",
                "scores": {"quality_classifier.score": 0.9}}
    return {"id": str(i), "text": f"{filler}.", "domain": "general", "scores": {"quality_classifier.score": 0.2}}


def write_mix(directory: Path, kinds: list[str]) -> list[Path]:
    rng = random.Random(0)
    directory.mkdir(parents=True)
    path = directory / "part-00000.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for i, kind in enumerate(kinds):
            f.write(json.dumps(_record(i, kind, rng)) + "\n")
    return [path]


def quick_config(**changes) -> PretrainConfig:
    return PretrainConfig(**{**PretrainConfig.PROFILES["quick"], "val_fraction": 0.0, **changes})


def decoded(directory: Path, tok: Tokenizer) -> list[str]:
    return [tok.decode(ids.tolist(), skip_special=True) for ids in read_documents(directory)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """10 maths, 10 code, 5 high-quality general and 35 other general documents."""
    work = tmp_path_factory.mktemp("pretrain")
    kinds = ["math"] * 10 + ["code"] * 10 + ["good"] * 5 + ["general"] * 35
    random.Random(1).shuffle(kinds)
    cfg = quick_config()
    data = build_token_data(write_mix(work / "mix", kinds), cfg, seed=0, work=work)
    return work, cfg, data


def test_annealing_up_samples_maths_and_code_by_domain_and_quality_score(built):
    work, cfg, data = built
    assert cfg.anneal_upsample == 3
    texts = decoded(work / "tokens" / "anneal", Tokenizer.load(work / "tokenizer"))
    maths = sum(t.startswith("Let x be the root") for t in texts)
    code = sum(t.startswith("def area") for t in texts)
    good = sum(t.startswith("Good page") for t in texts)
    assert (maths, code, good) == (30, 30, 15)
    assert len(texts) == 30 + 30 + 15 + 35
    assert data.counts["anneal_high_quality_documents"] == 25
    assert data.counts["anneal_math_reasoning_documents"] == 30
    assert data.counts["anneal_general_documents"] == 15 + 35
    # maths is 10 of 60 training documents, 30 of 110 annealing documents
    assert maths / len(texts) > 1.5 * 10 / 60
    assert not data.notes


def test_anneal_domains_that_label_nothing_are_noted(tmp_path):
    cfg = quick_config(anneal_domains=["math"])  # the old default's label, which curation never writes
    data = build_token_data(write_mix(tmp_path / "mix", ["math"] * 4 + ["general"] * 8), cfg, seed=0, work=tmp_path)
    assert any("anneal_domains ['math'] label no document" in n for n in data.notes)


@pytest.mark.parametrize("profile", ["default", "quick"])
def test_no_niah_gate_item_is_in_any_training_shard(profile, tmp_path):
    cfg = PretrainConfig(val_fraction=0.0) if profile == "default" else quick_config()
    kinds = ["math"] * 10 + ["code"] * 10 + ["good"] * 5 + ["general"] * 35
    build_token_data(write_mix(tmp_path / "mix", kinds), cfg, seed=0, work=tmp_path)
    tok = Tokenizer.load(tmp_path / "tokenizer")
    shards = [p for p in (tmp_path / "tokens").iterdir() if (p / "tokens.json").is_file()]
    assert {p.name for p in shards} == {"train", "val", "long", "anneal"}
    texts = [t for p in shards for t in decoded(p, tok)]
    # the steps' own lengths where the gate fits them, and the shortest it fits
    lengths = [n for n in cfg.long_context_lengths if gate_unfit(tok, n) is None] + [gate_min_length(tok)]
    items = []
    for length in lengths:
        for seed in range(cfg.niah_trials):  # the trainers' seeds: the job's seed plus the step
            for case in gate_cases(tok, length, cfg.niah_trials, seed):
                assert case.needle in case.prompt
                items += [case.needle, case.key, case.value]
    assert not any(item in t for item in items for t in texts), "a gate needle, key or value is in the training data"
    assert not any(NOISE in t or "The grass is green." in t or "special magic" in t for t in texts)


def test_long_documents_join_the_long_context_data_only(tmp_path):
    """Long documents another stage provides (the long_context plugin's repository code) are
    in tokens/long, shuffled with the training documents, and nowhere else; the tokenizer is
    trained on the mix alone."""
    long_dir = tmp_path / "long_documents"
    long_dir.mkdir()
    repo = [f"# file: pkg/mod{i}.py\nimport os\n\ndef helper_{i}(path):\n    return os.path.join(path, 'x{i}')\n"
            for i in range(6)]
    with gzip.open(long_dir / "documents.jsonl.gz", "wt") as f:
        for text in repo:
            f.write(json.dumps({"text": text, "domain": "code"}) + "\n")
    cfg = quick_config()
    work = tmp_path / "work"
    mix = write_mix(tmp_path / "mix", ["general"] * 12)
    data = build_token_data(mix, cfg, seed=0, work=work, long_files=[long_dir / "documents.jsonl.gz"])
    tok = Tokenizer.load(work / "tokenizer")
    long_texts = decoded(work / "tokens" / "long", tok)
    assert sorted(t for t in long_texts if t.startswith("# file:")) == sorted(repo)
    assert len(long_texts) == 12 + 6
    assert long_texts != sorted(long_texts, key=lambda t: t.startswith("# file:"))  # shuffled together
    for name in ("train", "val", "anneal"):
        assert not any(t.startswith("# file:") for t in decoded(work / "tokens" / name, tok))
    assert data.counts["long_extra_documents"] == 6
    assert data.counts["long_tokens"] == data.counts["train_tokens"] + data.counts["long_extra_tokens"]
    # The same inputs give the same tokenizer as without the long documents.
    plain = tmp_path / "plain"
    build_token_data(mix, cfg, seed=0, work=plain)
    assert (plain / "tokenizer" / "tokenizer.json").read_text() == (work / "tokenizer" / "tokenizer.json").read_text()
