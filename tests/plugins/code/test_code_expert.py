"""The code expert: its data mix (at least 85% code, repository-level documents), the
``code_expert`` stage run through the registered trainer on a tiny model, and the expert
as a generator for post-training and for code rejection sampling."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError, InputError
from herd.core.pipeline import StageContext
from herd.plugins.code.expert_data import build_expert_mix, repository_documents, SourceDoc
from herd.plugins.code.settings import CodeExpertConfig

PY_FILES = {
    "lib/a.py": "def alpha(x):\n    return x + 1\n" * 6,
    "lib/b.py": "def beta(y):\n    return y * 2\n" * 6,
    "lib/c.py": "class Gamma:\n    value = 3\n" * 6,
}
C_FILES = {"inc/one.h": "int one(void);\n" * 8, "inc/two.h": "int two(int x);\n" * 8,
           "inc/three.h": "long three;\n" * 8}
PROSE = [f"Rivers and hills, note {i}." for i in range(40)]


def write_mix(directory: Path) -> Path:
    records = [{"id": f"code-py/{path}", "text": text, "domain": "code",
                "metadata": {"repo": "acme/pylib", "path": path}} for path, text in PY_FILES.items()]
    records += [{"id": f"code-c/{path}", "text": text, "domain": "code"} for path, text in C_FILES.items()]
    records += [{"id": f"web-{i}", "text": text, "domain": "general"} for i, text in enumerate(PROSE)]
    records.append(dict(records[0]))  # the mix's up-sampling repeats documents; the expert reads each once
    directory.mkdir(parents=True)
    with gzip.open(directory / "part-00000.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    return directory


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run directory with a ``mix`` output and a tiny ``pretrain/final_model``."""
    from herd.lib.llama.hf_io import save_hf
    from herd.lib.llama.model import Llama, config_for
    from herd.lib.llama.tokenizer import Tokenizer

    root = tmp_path_factory.mktemp("run")
    write_mix(root / "mix")
    tok = Tokenizer.train(list(PY_FILES.values()) + list(C_FILES.values()) + PROSE, 300)
    tok.save(root / "tok")
    model = Llama(config_for("tiny", vocab_size=tok.vocab_size))
    save_hf(model, root / "pretrain" / "final_model", tokenizer_dir=root / "tok",
            special={"bos": tok.special.bos, "eos": tok.special.eot})
    return root


def tokenizer_of(run_dir: Path):
    from herd.lib.llama.tokenizer import Tokenizer

    return Tokenizer.load(run_dir / "pretrain" / "final_model")


def test_mix_is_at_least_85_percent_code_with_each_document_once(run_dir):
    cfg = CodeExpertConfig(train_problem_repeats=0, val_fraction=0.0, long_context_len=40)
    mix = build_expert_mix(run_dir / "mix", tokenizer_of(run_dir), cfg, seed=0)
    assert 0.85 <= mix.code_fraction < 0.90  # as much general text as the 85% floor allows
    # One code document is always held out for the short-context code loss.
    assert mix.counts["code_documents"] == 5 and mix.counts["val_documents"] == 1
    assert mix.counts["other_documents"] >= 1
    assert sum(t == PY_FILES["lib/a.py"] for t in mix.train) == 1
    assert mix.repos == {"acme/pylib": 3, "code-c/inc": 2}


def test_repository_documents_join_files_in_path_order_up_to_the_length():
    files = [(SourceDoc(f"body of {name}\n", True, repo, name), 10)
             for repo, name in [("r1", "b.py"), ("r1", "a.py"), ("r1", "c.py"), ("r2", "x.lua")]]
    docs, repos = repository_documents(files, min_tokens=20)
    assert repos == {"r1": 3, "r2": 1}
    # a + b reach the length; c alone would be short, so it joins them.
    assert docs == ["# repository: r1\n# file: a.py\nbody of a.py\n\n# file: b.py\nbody of b.py\n"
                    "\n# file: c.py\nbody of c.py\n",
                    "# repository: r2\n# file: x.lua\nbody of x.lua\n"]


def test_a_mix_without_code_is_refused_naming_the_directory(tmp_path, run_dir):
    mix = tmp_path / "mix"
    mix.mkdir()
    (mix / "part.jsonl").write_text(json.dumps({"id": "w", "text": "prose only", "domain": "general"}) + "\n")
    with pytest.raises(InputError, match=r"mix has no document of domain code.*code_domains"):
        build_expert_mix(mix, tokenizer_of(run_dir), CodeExpertConfig(), seed=0)


def context(app: App, run_dir: Path, work: Path) -> StageContext:
    return StageContext(name="code_expert", config=app.config, workdir=work, registry=app.registry,
                        inputs={"pretrain": run_dir / "pretrain", "mix": run_dir / "mix"}, plugins=["code"],
                        log=logging.getLogger("test.code_expert"), resuming=False, run_dir=run_dir, profile="quick")


@pytest.fixture(scope="module")
def expert(run_dir):
    """The registered ``code_expert`` stage run on the quick profile."""
    app = App.create(plugins=["code"], profile="quick",
                     overrides=["code_expert.tokens=1024", "code_expert.long_context_tokens=512",
                                "code_expert.long_context_max_tokens=512", "code_expert.train_problem_repeats=1"])
    stage = app.registry.get("stages", "code_expert")
    assert stage.options["reads"] == ("pretrain", "mix")
    work = run_dir / "code_expert"
    work.mkdir()
    return app, stage.factory(context(app, run_dir, work)), work


@pytest.mark.slow
def test_stage_trains_continued_then_repository_stage_and_writes_an_hf_model(expert):
    _, result, work = expert
    assert result.metrics["code_fraction"] >= 0.85
    assert (work / "final_model" / "config.json").is_file() and (work / "final_model" / "tokenizer.json").is_file()
    events = [json.loads(x) for x in (work / "train" / "metrics.jsonl").read_text().splitlines()]
    stages = [e["phase"] for e in events if "loss" in e]
    assert stages[0] == "code_continued" and stages[-1] == "code_repo_128"
    assert {e["seq_len"] for e in events if e.get("phase") == "code_repo_128" and "loss" in e} == {128}
    report = json.loads((work / "mix.json").read_text())
    assert report["code_fraction"] == result.metrics["code_fraction"] and report["repositories"] == 2
    assert any("target at least 85%" in n for n in result.notes)


@pytest.mark.slow
def test_expert_is_the_generator_posttrain_and_rejection_sampling_pick(expert, run_dir):
    from herd.core.protocols import SamplingParams
    from herd.core.services import Services
    from herd.plugins.code.services import sampling_generator
    from herd.plugins.posttrain.generators import expert_generator

    app, _, work = expert
    ctx = context(app, run_dir, run_dir / "posttrain")
    ctx.inputs["code_expert"] = work
    generator = expert_generator(ctx, "code_expert")
    assert generator.model is not None
    out = generator.generate(["def alpha(x):"], SamplingParams(temperature=0.0, max_tokens=4, n=1))
    assert len(out) == 1 and len(out[0]) == 1
    services = Services.for_app(app, workdir=run_dir, inputs={"code_expert": work})
    picked, which = sampling_generator(services, "auto")
    assert which == "code_expert" and picked.generate(["x"], SamplingParams(max_tokens=2)) is not None
    policy = SimpleNamespace(generate=lambda prompts, params: [])
    assert sampling_generator(Services.for_app(app, workdir=run_dir, generator=policy), "auto") == (policy, "policy")


def test_generator_without_a_model_and_bad_config_are_clear_errors(run_dir, tmp_path):
    from herd.plugins.code.expert_stage import check_config
    from herd.plugins.code.services import load_expert
    from herd.plugins.code.settings import CodeExpertGeneratorConfig

    with pytest.raises(ConfigError, match=r"\[generators.code_expert\] model_path is empty"):
        load_expert(CodeExpertGeneratorConfig())
    with pytest.raises(ConfigError, match="long_context_len"):
        check_config(CodeExpertConfig(seq_len=128, long_context_len=64))
    with pytest.raises(ConfigError, match="code_fraction"):
        check_config(CodeExpertConfig(code_fraction=1.0))
