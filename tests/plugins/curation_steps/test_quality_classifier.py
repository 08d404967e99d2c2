import json

import pytest

from herd.core.errors import ConfigError, InputError
from herd.core.protocols import SamplingParams
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import QualityClassifierConfig
from herd.plugins.curation_steps.quality import QualityClassifier, judge_labels, train_quality_classifier
from herd.lib.chat.text_backend import TextChatMixin

SPAM = [
    "BUY NOW cheap pills best price click here free shipping limited offer!!!",
    "click here click here win a free iphone now best deals online casino bonus",
    "hot deals hot deals cheap watches replica bags sale sale sale click",
    "free download crack keygen serial full version no virus click link",
]


def _write_examples(tmp_path, paragraphs):
    pos = tmp_path / "pos.jsonl"
    neg = tmp_path / "neg.txt"
    pos.write_text("".join(json.dumps({"text": p}) + "\n" for p in paragraphs * 3))
    neg.write_text("".join(f"{s} {i}\n" for i in range(6) for s in SPAM))
    return pos, neg


def test_train_and_score(tmp_path, paragraphs):
    pos, neg = _write_examples(tmp_path, paragraphs)
    model = tmp_path / "quality.bin"
    result = train_quality_classifier(model, positive=pos, negative=neg, epoch=25, dim=16)
    assert model.exists() and result.positives == 24 and result.negatives == 24
    step = QualityClassifier(QualityClassifierConfig(model_path=str(model), threshold=0.5))
    good = step.apply(Document(id="g", text=paragraphs[2]))
    assert good.scores["quality_classifier.score"] > 0.5
    bad = step.apply(Document(id="b", text="cheap pills click here free casino bonus sale"))
    assert isinstance(bad, Drop) and bad.reason == "quality_classifier.low_score"


def test_labels_jsonl_and_judge(tmp_path, paragraphs):
    class SpamSpotter(TextChatMixin):
        """A generation backend standing in for a judge model."""

        def generate(self, prompts, params: SamplingParams):
            assert params.temperature == 0.0
            return [["No" if "click" in p else ("maybe" if "hmm" in p else " Yes.")] for p in prompts]

    labels = tmp_path / "labels.jsonl"
    counts = judge_labels(SpamSpotter(), paragraphs + SPAM + ["hmm"], labels, batch_size=5)
    assert counts == {"yes": 8, "no": 4, "unparsed": 1}
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    assert sum(r["label"] for r in rows) == 8 and len(rows) == 12
    result = train_quality_classifier(tmp_path / "m.bin", labels=labels, epoch=5)
    assert result.examples == 12


def test_bad_inputs(tmp_path, paragraphs):
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"text": "fine", "label": 1}\n{"text": "x", "label": "perhaps"}\n')
    with pytest.raises(InputError, match="labels.jsonl:2"):
        train_quality_classifier(tmp_path / "m.bin", labels=bad)
    pos = tmp_path / "only.txt"
    pos.write_text("\n".join(paragraphs))
    with pytest.raises(InputError, match="both labels"):
        train_quality_classifier(tmp_path / "m.bin", positive=pos)
    with pytest.raises(ConfigError, match="no such file"):
        QualityClassifier(QualityClassifierConfig(model_path=str(tmp_path / "none.bin")))


def test_cli_command(tmp_path, paragraphs):
    import subprocess
    import sys
    from pathlib import Path

    import herd

    pos, neg = _write_examples(tmp_path, paragraphs)
    root = Path(herd.__file__).parent
    out = subprocess.run([sys.executable, str(root / "cli.py"), "train-quality-classifier", "--positive", str(pos),
                          "--negative", str(neg), "--output", str(tmp_path / "cli.bin"), "--epoch", "5"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cli.bin").exists() and "48 examples" in out.stdout


@pytest.mark.slow
def test_transformers_classifier_path(tmp_path, paragraphs):
    """A local Hugging Face sequence-classification model (a tiny random BERT made here)."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    words = sorted({w for p in paragraphs for w in p.lower().split()})
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="[PAD]", unk_token="[UNK]")
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2))
    model.save_pretrained(tmp_path / "clf")
    tok.save_pretrained(tmp_path / "clf")
    step = QualityClassifier(QualityClassifierConfig(hf_model_path=str(tmp_path / "clf"), threshold=0.0))
    doc = step.apply(Document(id="d", text=paragraphs[0]))
    assert 0.0 <= doc.scores["quality_classifier.score"] <= 1.0
    strict = QualityClassifier(QualityClassifierConfig(hf_model_path=str(tmp_path / "clf"), threshold=1.01))
    assert strict.apply(Document(id="d", text=paragraphs[0])).reason == "quality_classifier.low_score"
