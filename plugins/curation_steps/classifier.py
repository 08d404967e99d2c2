"""A fastText text classifier trained in the run on the corpus's own labelled documents
(docs/recipe.md section 1: the recipe's domain and quality classifiers are fastText and
embedding models trained on labelled data). Shared by ``domain_classifier`` and
``quality_classifier``.

Why fastText (measured on the built-in corpus's 632 labelled English documents, 500 train /
132 held out, load average ~3 on 2 shared cores): a unigram fastText model (dim 16) trained in
0.6-1.7 s, labelled 2,000-3,500 docs/s and reached 0.96-0.98 held-out accuracy; hashed word
1-2-grams with scikit-learn's logistic regression reached 0.94 after 20 s of training (1,600
docs/s), hashed character 3-5-grams 0.95 after 14 s (220 docs/s); fastText word bigrams did
not help (0.83-0.97, 9.6 MB models). Reading the first 2,000 characters for 10 epochs instead
of 4,000 for 15 halves training (~1 s at load 9) and generalises better to text unlike the
corpus: of 678 installed packages' READMEs and licences 4 were labelled maths instead of 17
(95% of mpmath's maths docstrings stay maths; 0.93 instead of 0.98 on the corpus's own
held-out split).

Determinism: the sample kept per class is the ``max_per_class`` documents with the lowest id
hashes, the held-out split is decided by the id hash, training rows are sorted by id hash and
fastText runs on one thread with the step's seed, so the model is a function of the labelled
documents and the seed only, whatever the shard order or worker count.
"""

from __future__ import annotations

import heapq
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from herd.core.classifier_eval import ClassMetrics, ClassifierEval, TRAINED
from herd.plugins.curation_steps.text import id_hash

PREFIX = "__label__"
_WS = re.compile(r"\s+")


def model_line(text: str, max_chars: int, features: str = "") -> str:
    """The one-line, lower-cased form the model trains and predicts on; ``features`` (words
    that stand for heuristic signals, e.g. a binned maths-marker density) are appended after
    the text is clipped, so that every document carries them."""
    line = _WS.sub(" ", text[:max_chars].lower()).strip()
    return f"{line} {features}".strip() if line else ""


@dataclass(frozen=True)
class FastTextSettings:
    """``held_out``: share of labelled documents (by id hash) kept out of training to measure
    the model. A class with fewer than ``min_per_class`` training documents is not trained;
    fewer than two such classes = no model (the step falls back to its rules)."""

    dim: int = 16
    epoch: int = 10
    lr: float = 0.5
    min_count: int = 2
    held_out: float = 0.2
    min_per_class: int = 10
    max_per_class: int = 2000
    max_chars: int = 2000
    seed: int = 0

    def describe(self) -> str:
        return f"fasttext dim={self.dim} epoch={self.epoch} lr={self.lr} wordNgrams=1 minCount={self.min_count}"


@dataclass(frozen=True)
class Example:
    hash: int
    label: str
    line: str


class LabelledSample:
    """Up to ``per_class`` labelled documents per class: those with the lowest id hashes (a
    bottom-k sample, the same whatever order documents arrive in), so memory stays bounded."""

    def __init__(self, per_class: int, max_chars: int):
        self.per_class = per_class
        self.max_chars = max_chars
        self._heaps: dict[str, list[tuple[int, str]]] = {}
        self.seen: dict[str, int] = {}

    def add(self, doc_id: str, label: str, text: str, features: str = "") -> None:
        line = model_line(text, self.max_chars, features)
        if not line:
            return
        self.seen[label] = self.seen.get(label, 0) + 1
        heap = self._heaps.setdefault(label, [])
        item = (-id_hash(doc_id), line)  # max-heap on the hash: the root is the one to evict
        if len(heap) < self.per_class:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)

    def examples(self) -> list[Example]:
        rows = [Example(-neg, label, line) for label, heap in self._heaps.items() for neg, line in heap]
        return sorted(rows, key=lambda e: (e.hash, e.label, e.line))


def split(examples: list[Example], held_out: float) -> tuple[list[Example], list[Example]]:
    """(train, held out): a document is held out when its id hash falls in the first
    ``held_out`` of the hash range."""
    cut = int(held_out * 10_000)
    test = [e for e in examples if e.hash % 10_000 < cut]
    train = [e for e in examples if e.hash % 10_000 >= cut]
    return train, test


class TextModel:
    """A trained fastText model that pickles as its bytes (the runner sends finalized corpus
    steps to worker processes; fastText objects do not pickle)."""

    def __init__(self, data: bytes, max_chars: int):
        self.data = data
        self.max_chars = max_chars
        self._model = None

    def __getstate__(self) -> dict:
        return {"data": self.data, "max_chars": self.max_chars, "_model": None}

    def _loaded(self):
        if self._model is None:
            import fasttext

            fasttext.FastText.eprint = lambda *_: None  # its load_model warns about a return type on stderr
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.bin"
                path.write_bytes(self.data)
                self._model = fasttext.load_model(str(path))
        return self._model

    def predict(self, texts: list[str], features: list[str] | None = None) -> list[tuple[str, float]]:
        """(label, probability) of the top class of each text (``features``: one string per
        text, as given to ``LabelledSample.add``). With numpy 2, fasttext-wheel's single-string
        ``predict`` raises and its list form reports wrong probabilities beyond the top one,
        so only the top-1 answer is used."""
        extra = features if features is not None else [""] * len(texts)
        lines = [model_line(t, self.max_chars, f) for t, f in zip(texts, extra)]
        return self.predict_lines(lines)

    def predict_lines(self, lines: list[str]) -> list[tuple[str, float]]:
        """``predict`` on lines already in the model's form (``model_line``)."""
        labels, probs = self._loaded().predict(lines, k=1)
        return [(labs[0].removeprefix(PREFIX), min(1.0, float(p[0]))) for labs, p in zip(labels, probs)]


def train(examples: list[Example], settings: FastTextSettings) -> TextModel:
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.txt"
        data.write_text("".join(f"{PREFIX}{e.label} {e.line}\n" for e in examples), encoding="utf-8")
        model = fasttext.train_supervised(
            input=str(data), dim=settings.dim, epoch=settings.epoch, lr=settings.lr, wordNgrams=1,
            minCount=settings.min_count, seed=settings.seed, thread=1, verbose=0)
        path = Path(tmp) / "model.bin"
        model.save_model(str(path))
        return TextModel(path.read_bytes(), settings.max_chars)


def held_out_metrics(model: TextModel, test: list[Example], labels: list[str]) -> tuple[float | None, list[ClassMetrics]]:
    """Accuracy and per-class precision/recall of ``model`` on ``test``."""
    if not test:
        return None, []
    predicted = [label for label, _ in model.predict_lines([e.line for e in test])]
    rows = []
    for label in labels:
        support = sum(e.label == label for e in test)
        guessed = sum(p == label for p in predicted)
        right = sum(p == label == e.label for p, e in zip(predicted, test))
        rows.append(ClassMetrics(label, round(right / guessed, 4) if guessed else 0.0,
                                 round(right / support, 4) if support else 0.0, support, guessed))
    accuracy = sum(p == e.label for p, e in zip(predicted, test)) / len(test)
    return round(accuracy, 4), rows


def fit(step: str, sample: LabelledSample, settings: FastTextSettings) -> tuple[TextModel | None, ClassifierEval]:
    """Train on the sample's training split and measure on its held-out split. No model (and
    a ClassifierEval saying why) when fewer than two classes have ``min_per_class`` training
    documents."""
    train_rows, test = split(sample.examples(), settings.held_out)
    counts: dict[str, int] = {}
    for e in train_rows:
        counts[e.label] = counts.get(e.label, 0) + 1
    labels = sorted(label for label, n in counts.items() if n >= settings.min_per_class)
    if len(labels) < 2:
        seen = ", ".join(f"{k}={v}" for k, v in sorted(sample.seen.items())) or "none"
        return None, ClassifierEval(
            step, method="", note=f"too little labelled data to train (labelled documents: {seen}; needs two "
                                  f"classes with >= {settings.min_per_class} training documents each)",
            train_examples=counts, seed=settings.seed)
    train_rows = [e for e in train_rows if e.label in labels]
    test = [e for e in test if e.label in labels]
    clock = time.perf_counter()
    model = train(train_rows, settings)
    seconds = time.perf_counter() - clock
    accuracy, metrics = held_out_metrics(model, test, labels)
    return model, ClassifierEval(step, TRAINED, model=settings.describe(),
                                 train_examples={k: counts[k] for k in labels}, held_out=metrics,
                                 accuracy=accuracy, train_seconds=round(seconds, 3), seed=settings.seed)


def keep_dir(workdir: Path) -> Path:
    """Where a corpus step puts files that outlive the run's work folder (the runner copies
    ``<workdir>/keep/`` to ``<curate output>/steps/<step>/``)."""
    return Path(workdir) / "keep"

