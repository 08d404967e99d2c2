"""Model-based quality filtering (docs/recipe.md section 1, "Model-based quality").

* Trained in the run (the default): the step is a corpus step. ``observe`` collects the
  documents whose quality is known — ``metadata["quality_label"]`` written by a judge
  (``judge_labels`` asks any ``protocols.Generator`` the recipe's question), else their
  ``source`` through ``quality_sources`` (reference text ``hq``, boilerplate ``lq``) — and
  ``finalize`` trains a fastText classifier on them (``classifier.py``), measures it on a
  held-out split and writes ``steps/quality_classifier/classifier.json``. With too little
  labelled data the step falls back to a heuristic prose score (stop words, letters,
  symbols), records it and drops nothing; the evaluation file says so.
* fastText file: ``model_path`` (from ``python cli.py train-quality-classifier --positive
  FILE --negative FILE --output MODEL.bin``, or ``--labels`` JSONL of ``{"text", "label"}``).
* transformers: ``hf_model_path`` points at any local Hugging Face sequence-classification
  model (e.g. a fine-tuned DistilRoBERTa); ``positive_label`` is the index of "high quality".
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from herd.core.classifier_eval import CONFIGURED, FALLBACK, ClassifierEval
from herd.core.errors import ConfigError, InputError
from herd.plugins.curation_steps.classifier import FastTextSettings, LabelledSample, TextModel, fit, keep_dir
from herd.plugins.curation_steps.configs import QualityClassifierConfig
from herd.plugins.curation_steps.text import tokens
from herd.core.protocols import Generator, SamplingParams
from herd.core.records import Document, Drop

POSITIVE = "__label__hq"
NEGATIVE = "__label__lq"
_WS = re.compile(r"\s+")
_TRUE = {"1", "true", "yes", "hq", "high", "positive", "pos", "good"}
_FALSE = {"0", "false", "no", "lq", "low", "negative", "neg", "bad"}

JUDGE_PROMPT = (
    "Here is a web page's text. Would this page be useful as a reference for a Wikipedia article, "
    "i.e. is it well written, informative and factual? Answer with one word, yes or no.\n\n"
    "Text:\n{text}\n\nAnswer:"
)


def fasttext_line(text: str, max_chars: int = 20_000) -> str:
    """The one-line, lower-cased form fastText trains and predicts on."""
    return _WS.sub(" ", text[:max_chars].lower()).strip()


def parse_label(value: object, where: str) -> int:
    key = str(value).strip().lower().removeprefix("__label__")
    if key in _TRUE:
        return 1
    if key in _FALSE:
        return 0
    raise InputError(f"{where}: label {value!r} is not one of {sorted(_TRUE)} / {sorted(_FALSE)}")


def read_texts(path: Path) -> Iterator[str]:
    """Documents of an example file: JSONL (``text`` field) or plain text, one per line."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    with open(path, encoding="utf-8", errors="strict") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if path.suffix == ".jsonl":
                try:
                    yield str(json.loads(line)["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise InputError(f"{path}:{n}: expected a JSON object with a 'text' field ({exc})") from exc
            else:
                yield line.rstrip("\n")


def read_labels(path: Path) -> Iterator[tuple[str, int]]:
    """``(text, 0|1)`` rows of a labels JSONL (``{"text": ..., "label": ...}``)."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, label = row["text"], row["label"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: expected {{\"text\": ..., \"label\": ...}} ({exc})") from exc
            yield str(text), parse_label(label, f"{path}:{n}")


def judge_labels(generator: Generator, texts: Iterable[str], output: Path, max_chars: int = 4000,
                 batch_size: int = 16) -> dict[str, int]:
    """Label ``texts`` with a judge model (the recipe: a strong model asked whether a page would
    be a Wikipedia-quality reference) and write a labels JSONL to ``output``. Answers that
    start with neither yes nor no are skipped and counted."""
    counts = {"yes": 0, "no": 0, "unparsed": 0}
    params = SamplingParams(temperature=0.0, max_tokens=4)
    batch: list[str] = []

    def flush(fh) -> None:
        answers = generator.generate([JUDGE_PROMPT.format(text=t[:max_chars]) for t in batch], params)
        for text, outs in zip(batch, answers):
            word = (outs[0] if outs else "").strip().lower()
            if word.startswith("yes"):
                counts["yes"] += 1
                fh.write(json.dumps({"text": text, "label": 1}) + "\n")
            elif word.startswith("no"):
                counts["no"] += 1
                fh.write(json.dumps({"text": text, "label": 0}) + "\n")
            else:
                counts["unparsed"] += 1
        batch.clear()

    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8") as fh:
        for text in texts:
            batch.append(text)
            if len(batch) >= batch_size:
                flush(fh)
        if batch:
            flush(fh)
    return counts


def _fasttext_scores(model, lines: list[str]) -> list[float]:
    """P(high quality) per line. With numpy 2, fasttext-wheel's single-string ``predict``
    raises (``np.array(copy=False)``) and its list form repeats the top probability for every
    label, so only the top-1 answer is used: the classifier is binary, P(hq) = 1 - P(lq)."""
    all_labels, all_probs = model.predict(lines, k=1)
    return [float(probs[0]) if labs[0] == POSITIVE else 1.0 - float(probs[0])
            for labs, probs in zip(all_labels, all_probs)]


@dataclass
class TrainResult:
    model: Path
    examples: int
    positives: int
    negatives: int
    validation_accuracy: float | None


def train_quality_classifier(
    output: Path,
    positive: Path | None = None,
    negative: Path | None = None,
    labels: Path | None = None,
    epoch: int = 10,
    lr: float = 0.5,
    dim: int = 32,
    word_ngrams: int = 2,
    validation: float = 0.1,
    seed: int = 0,
    quantize: bool = False,
) -> TrainResult:
    """Train a fastText quality classifier and save it to ``output``. Examples come from
    ``positive``/``negative`` files and/or a ``labels`` JSONL; ``validation`` of them (shuffled
    with ``seed``) is held out to report accuracy."""
    import fasttext

    rows: list[tuple[str, int]] = []
    if positive is not None:
        rows += [(t, 1) for t in read_texts(Path(positive))]
    if negative is not None:
        rows += [(t, 0) for t in read_texts(Path(negative))]
    if labels is not None:
        rows += list(read_labels(Path(labels)))
    rows = [(fasttext_line(t), y) for t, y in rows if t.strip()]
    pos = sum(y for _, y in rows)
    if pos == 0 or pos == len(rows):
        raise InputError(f"training a quality classifier needs both labels; got {pos} positive and "
                         f"{len(rows) - pos} negative examples")
    random.Random(seed).shuffle(rows)
    n_val = int(len(rows) * validation) if len(rows) >= 20 else 0
    val, train = rows[:n_val], rows[n_val:]
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("".join(f"{POSITIVE if y else NEGATIVE} {t}\n" for t, y in train), encoding="utf-8")
        model = fasttext.train_supervised(input=str(train_file), epoch=epoch, lr=lr, dim=dim,
                                          wordNgrams=word_ngrams, minCount=1, seed=seed, thread=1, verbose=0)
        if quantize:
            model.quantize(input=str(train_file), retrain=False)
    accuracy = None
    if val:
        labels_out, _ = model.predict([t for t, _ in val], k=1)  # list input: see _fasttext_scores
        predicted = [bool(labs) and labs[0] == POSITIVE for labs in labels_out]
        accuracy = sum(p == bool(y) for p, (_, y) in zip(predicted, val)) / len(val)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(output))
    return TrainResult(output, len(rows), pos, len(rows) - pos, accuracy)


HQ, LQ = "hq", "lq"
# Function words of English prose: reference text is full of them, lists, logs and
# boilerplate are not (the heuristic fallback's main signal; Gopher's stop-word rule).
_STOP_WORDS = frozenset("the be to of and a in that have it for not on with as you do at this but by from "
                        "is are was were which or an can will if may when".split())


def prose_score(text: str) -> float:
    """0..1 heuristic quality of prose (the fallback without a model): stop-word share,
    share of words with letters and few symbols."""
    words = text.split()
    toks = tokens(text)
    if not words or not toks:
        return 0.0
    stop = sum(t in _STOP_WORDS for t in toks) / len(toks)
    alpha = sum(any(c.isalpha() for c in w) for w in words) / len(words)
    symbols = sum(not c.isalnum() and not c.isspace() for c in text) / max(1, len(text))
    return round(0.5 * min(1.0, stop / 0.3) + 0.3 * alpha + 0.2 * max(0.0, 1.0 - symbols * 5), 4)


class QualityClassifier:
    """A corpus step. Adds ``scores["quality_classifier.score"]`` (probability of high
    quality; the heuristic prose score in the fallback). Reason: ``quality_classifier.low_score``."""

    name = "quality_classifier"

    def __init__(self, cfg: QualityClassifierConfig | None = None):
        self.cfg = cfg or QualityClassifierConfig()
        self.configured = bool(self.cfg.model_path or self.cfg.hf_model_path)
        self._model = None
        if self.cfg.model_path and not Path(self.cfg.model_path).is_file():
            raise ConfigError(f"[dedupers.quality_classifier] model_path: no such file {self.cfg.model_path}; "
                              "train one with `python cli.py train-quality-classifier`")
        if self.cfg.hf_model_path and not Path(self.cfg.hf_model_path).exists():
            raise ConfigError(f"[dedupers.quality_classifier] hf_model_path: no such directory {self.cfg.hf_model_path}")
        bad = {k: v for k, v in self.cfg.quality_sources.items() if v not in (HQ, LQ)}
        if bad:
            raise ConfigError(f"[dedupers.quality_classifier] quality_sources {bad}: labels must be 'hq' or 'lq'")
        if not 0 <= self.cfg.held_out < 1:
            raise ConfigError(f"[dedupers.quality_classifier] held_out = {self.cfg.held_out}: must be in [0, 1)")
        self.settings = FastTextSettings(dim=self.cfg.dim, epoch=self.cfg.epoch, held_out=self.cfg.held_out,
                                         min_per_class=self.cfg.min_per_class, max_per_class=self.cfg.max_per_class,
                                         max_chars=self.cfg.train_chars, seed=self.cfg.seed)
        self.sample = LabelledSample(self.cfg.max_per_class, self.settings.max_chars)
        self.trained: TextModel | None = None
        self.evaluation: ClassifierEval | None = None  # set by finalize, or now for a given model
        if self.configured:
            self.evaluation = ClassifierEval(self.name, CONFIGURED, model=self.cfg.model_path or self.cfg.hf_model_path,
                                             note="a model given in the config; not trained or measured in the run")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_model"] = None  # models are loaded lazily in each worker process
        return state

    # -- training (corpus step)
    def known_label(self, doc: Document) -> str | None:
        """``hq`` / ``lq`` when the document's quality is known: a judge's label, else its source's."""
        given = doc.metadata.get("quality_label") if doc.metadata else None
        if given is not None:
            return HQ if parse_label(given, f"record {doc.id} metadata.quality_label") else LQ
        return self.cfg.quality_sources.get(doc.source or "")

    def _in_scope(self, doc: Document) -> bool:
        lang = (doc.language or "").split("-")[0].lower()
        return not lang or lang in self.cfg.languages

    def observe(self, doc: Document) -> None:
        if self.configured or not self._in_scope(doc):
            return
        label = self.known_label(doc)
        if label is not None:
            self.sample.add(doc.id, label, doc.text)

    def finalize(self, workdir: Path) -> None:
        if not self.configured:
            self.trained, self.evaluation = fit(self.name, self.sample, self.settings)
            self.sample = LabelledSample(self.cfg.max_per_class, self.settings.max_chars)
            if self.trained is None:
                self.evaluation.method = FALLBACK
                self.evaluation.note += "; a heuristic prose score is recorded and no document is dropped"
        assert self.evaluation is not None
        self.evaluation.write(keep_dir(workdir))

    # -- scoring
    def _load(self):
        if self._model is None:
            if self.cfg.model_path:
                import fasttext

                self._model = ("fasttext", fasttext.load_model(self.cfg.model_path))
            else:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                tok = AutoTokenizer.from_pretrained(self.cfg.hf_model_path)
                model = AutoModelForSequenceClassification.from_pretrained(self.cfg.hf_model_path).to(self.cfg.device)
                model.eval()
                self._model = ("hf", (tok, model))
        return self._model

    def score(self, text: str) -> float:
        """Probability that ``text`` is high quality."""
        if self.trained is not None:
            label, prob = self.trained.predict([text])[0]
            return prob if label == HQ else 1.0 - prob
        if not self.configured:
            return prose_score(text)
        kind, model = self._load()
        if kind == "fasttext":
            return _fasttext_scores(model, [fasttext_line(text, self.cfg.max_chars)])[0]
        import torch

        tok, net = model
        batch = tok(text[: self.cfg.max_chars], truncation=True, max_length=512, return_tensors="pt").to(self.cfg.device)
        with torch.no_grad():
            logits = net(**batch).logits[0]
        return float(torch.softmax(logits, dim=-1)[self.cfg.positive_label])

    def apply(self, doc: Document) -> Document | Drop:
        if self.evaluation is None:
            raise RuntimeError("quality_classifier.apply called before finalize (it is a corpus step)")
        if not self._in_scope(doc):
            return doc
        value = round(self.score(doc.text), 4)
        doc.scores["quality_classifier.score"] = value
        if self.evaluation.method == FALLBACK or value >= self.cfg.threshold:
            return doc
        return Drop("quality_classifier.low_score", f"score {value:.3f} < {self.cfg.threshold}")
