"""The code expert's data (docs/recipe.md section 6, "Code"): a continued-pretraining mix of at
least ``code_fraction`` code tokens, and repository-level long documents.

Code documents are the ``mix`` stage's records whose ``domain`` is one of ``code_domains``
(each distinct document once: the expert picks its own proportions, not the pretraining
mix's up-sampling), plus the plugin's training problems. Non-code documents are added,
shuffled, while the code share stays at or above ``code_fraction``, so the expert keeps some
general text. Shares are measured in tokens of the pretrain stage's tokenizer.

Repository-level documents concatenate the files of one repository in path order, each
file under a ``# file: <path>`` header, into documents of at least ``long_context_len``
tokens, so long windows hold related files (the recipe's 16K repo-level stage).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from herd.core.errors import InputError
from herd.plugins.code.settings import CodeExpertConfig
from herd.plugins.code.training_data import training_texts

REPO_KEYS = ("repo", "repository", "repo_name")
TRAIN_PROBLEMS_REPO = "herd-train-problems"


@dataclass(frozen=True)
class SourceDoc:
    """One distinct document of the mix: its text, whether it is code, and for code where it
    lives (repository and path)."""

    text: str
    code: bool
    repo: str = ""
    path: str = ""


@dataclass
class ExpertMix:
    train: list[str]
    val: list[str]
    repo_docs: list[str]
    code_tokens: int
    other_tokens: int
    counts: dict[str, int] = field(default_factory=dict)
    repos: dict[str, int] = field(default_factory=dict)  # repository -> files

    @property
    def code_fraction(self) -> float:
        total = self.code_tokens + self.other_tokens
        return self.code_tokens / total if total else 0.0


def _metadata(record: dict, where: str) -> dict:
    meta = record.get("metadata") or {}
    if isinstance(meta, str):  # parquet rows keep metadata as JSON text
        try:
            meta = json.loads(meta) if meta.strip() else {}
        except json.JSONDecodeError as err:
            raise InputError(f"{where}: metadata is not valid JSON ({err.msg})") from None
    return meta if isinstance(meta, dict) else {}


def repository_of(record: dict, meta: dict) -> tuple[str, str]:
    """``(repository, path)`` of a code record: metadata ``repo``/``repository``/``repo_name``
    and ``path`` when the corpus has them, else the record id's directory and the id."""
    ident = str(record.get("id") or "")
    path = str(meta.get("path") or record.get("path") or ident)
    for key in REPO_KEYS:
        value = meta.get(key) or record.get(key)
        if value:
            return str(value), path
    if "/" in ident:
        return ident.rsplit("/", 1)[0], path
    return str(record.get("source") or "unknown"), path


def read_mix(mix_dir: Path, code_domains: list[str]) -> list[SourceDoc]:
    """Every distinct non-empty document of the mix stage's output, in file order."""
    from herd.lib.llama.packing import corpus_files, read_records

    seen: set[str] = set()
    docs: list[SourceDoc] = []
    for path in corpus_files(mix_dir):
        for index, record in enumerate(read_records(path)):
            text = record["text"]
            digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
            if not text.strip() or digest in seen:
                continue
            seen.add(digest)
            meta = _metadata(record, f"{path}: record {index}")
            domain = record.get("domain") or meta.get("domain")
            if domain in code_domains:
                repo, file_path = repository_of(record, meta)
                docs.append(SourceDoc(text, True, repo, file_path))
            else:
                docs.append(SourceDoc(text, False))
    return docs


def build_expert_mix(mix_dir: Path, tokenizer, cfg: CodeExpertConfig, seed: int) -> ExpertMix:
    docs = read_mix(mix_dir, cfg.code_domains)
    code = [d for d in docs if d.code]
    if not code:
        raise InputError(f"{mix_dir}: the mix has no document of domain {', '.join(cfg.code_domains)}; the code "
                         "expert continues pretraining on code (add a code corpus to [curate] inputs, or set "
                         "[code_expert] code_domains to the domains your code has)")
    rng = random.Random(seed)
    if 0 < cfg.max_code_documents < len(code):
        code = rng.sample(code, cfg.max_code_documents)
    other = [d for d in docs if not d.code]
    val, code_train = _split_val(code, cfg.val_fraction)
    problems = [SourceDoc(t, True, TRAIN_PROBLEMS_REPO, f"problem_{i}.py")
                for i, t in enumerate(training_texts())] * cfg.train_problem_repeats
    code_train = code_train + problems
    code_lengths = _lengths(tokenizer, [d.text for d in code_train])
    code_tokens = sum(code_lengths)
    budget = int(code_tokens * (1 - cfg.code_fraction) / cfg.code_fraction)
    rng.shuffle(other)
    chosen, other_tokens = _fill(other, tokenizer, budget)
    train = [d.text for d in code_train] + chosen
    rng.shuffle(train)
    repo_files = [(d, n) for d, n in zip(code_train, code_lengths) if d.repo != TRAIN_PROBLEMS_REPO]
    repo_docs, repos = repository_documents(repo_files, cfg.long_context_len)
    counts = {"code_documents": len(code_train), "train_problem_documents": len(problems),
              "other_documents": len(chosen), "other_documents_left_out": len(other) - len(chosen),
              "val_documents": len(val), "repo_documents": len(repo_docs), "repositories": len(repos)}
    return ExpertMix(train, [d.text for d in val], repo_docs, code_tokens, other_tokens, counts, repos)


def _split_val(code: list[SourceDoc], fraction: float) -> tuple[list[SourceDoc], list[SourceDoc]]:
    """Every n-th code document is held out for the short-context code loss (at least one,
    and never all of them)."""
    if len(code) < 2:
        return list(code), list(code)
    every = max(2, round(1 / fraction)) if fraction > 0 else len(code)
    val = [d for i, d in enumerate(code) if i % every == every - 1] or [code[-1]]
    held = {id(d) for d in val}
    return val, [d for d in code if id(d) not in held]


def _fill(other: list[SourceDoc], tokenizer, budget: int, batch: int = 32) -> tuple[list[str], int]:
    """Non-code documents, in the given order, that fit in ``budget`` tokens. Tokenised a
    batch at a time: the scan stops when the budget is nearly used or a batch adds nothing."""
    chosen: list[str] = []
    used = 0
    for start in range(0, len(other), batch):
        texts = [d.text for d in other[start: start + batch]]
        added = 0
        for text, length in zip(texts, _lengths(tokenizer, texts)):
            if used + length <= budget:
                chosen.append(text)
                used += length
                added += 1
        if budget - used < 0.02 * budget or not added:
            break
    return chosen, used


def _lengths(tokenizer, texts: list[str]) -> list[int]:
    return [len(ids) + 2 for ids in tokenizer.encode_batch(texts)] if texts else []  # + BOS and EOS


def repository_documents(code: list[tuple[SourceDoc, int]], min_tokens: int) -> tuple[list[str], dict[str, int]]:
    """One or more long documents per repository: its files (with their token counts) in
    path order, each under a ``# file:`` header, cut after the file that brings a document
    to ``min_tokens`` (the headers' few tokens are not counted)."""
    by_repo: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    for doc, length in code:
        by_repo[doc.repo].setdefault(doc.path, (doc.text, length))
    documents: list[str] = []
    for repo in sorted(by_repo):
        files = sorted(by_repo[repo].items())
        current: list[str] = []
        tokens = 0
        for path, (text, length) in files:
            part = f"# file: {path}\n{text.rstrip()}\n"
            current.append(part)
            tokens += length
            if min_tokens and tokens >= min_tokens:
                documents.append(f"# repository: {repo}\n" + "\n".join(current))
                current, tokens = [], 0
        if current:
            if documents and min_tokens and tokens < min_tokens and documents[-1].startswith(f"# repository: {repo}\n"):
                documents[-1] += "\n" + "\n".join(current)  # a short tail joins the repository's last document
            else:
                documents.append(f"# repository: {repo}\n" + "\n".join(current))
    return documents, {repo: len(files) for repo, files in sorted(by_repo.items())}
