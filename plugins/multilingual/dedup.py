"""Per-language document and line dedup (docs/recipe.md section 1, multilingual): exact
duplicates after normalisation, and lines repeated in more than
``max_line_occurrences`` documents (boilerplate: menus, cookie notices), each counted only
among documents of the same language.

State is a SQLite file of 64-bit hashes, so it stays on disk however large the corpus:
``observe`` writes into a scratch database, ``finalize`` moves it under the stage's
``workdir``. The document kept among duplicates is the one with the smallest id, so the
result does not depend on the order or sharding of ``observe`` calls.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from pathlib import Path

from herd.core.records import Document, Drop
from herd.plugins.multilingual.config import LanguageDedupConfig
from herd.lib.language.units import normalize

BATCH = 5000


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class LanguageDedup:
    name = "language_dedup"

    def __init__(self, cfg: LanguageDedupConfig | None = None):
        self.cfg = cfg or LanguageDedupConfig()
        self._scratch = Path(tempfile.mkdtemp(prefix="herd-language-dedup-"))
        self.db_path = self._scratch / "language_dedup.sqlite"
        self._db = sqlite3.connect(self.db_path)
        self._db.executescript(
            "CREATE TABLE docs (lang TEXT, hash INTEGER, id TEXT);"
            "CREATE TABLE lines (lang TEXT, hash INTEGER);"
        )
        self._docs: list[tuple[str, int, str]] = []
        self._lines: list[tuple[str, int]] = []
        self._finalized = False

    def _lines_of(self, text: str) -> list[str]:
        return [normalize(line) for line in text.splitlines()]

    def observe(self, doc: Document) -> None:
        lang = doc.language or "und"
        if self.cfg.documents:
            self._docs.append((lang, _hash(normalize(doc.text)), doc.id))
        if self.cfg.lines:
            seen = {norm for norm in self._lines_of(doc.text) if len(norm) >= self.cfg.min_line_chars}
            self._lines.extend((lang, _hash(norm)) for norm in seen)
        if len(self._docs) >= BATCH or len(self._lines) >= BATCH * 20:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO docs VALUES (?, ?, ?)", self._docs)
        self._db.executemany("INSERT INTO lines VALUES (?, ?)", self._lines)
        self._db.commit()
        self._docs.clear()
        self._lines.clear()

    def finalize(self, workdir: Path) -> None:
        self._flush()
        self._db.executescript(
            "CREATE TABLE keep_doc AS SELECT lang, hash, MIN(id) AS id, COUNT(*) AS n FROM docs GROUP BY lang, hash;"
            "CREATE UNIQUE INDEX keep_doc_key ON keep_doc (lang, hash);"
            "CREATE TABLE line_counts AS SELECT lang, hash, COUNT(*) AS n FROM lines GROUP BY lang, hash;"
            "CREATE UNIQUE INDEX line_counts_key ON line_counts (lang, hash);"
            "DROP TABLE docs; DROP TABLE lines;"
        )
        self._db.commit()
        self._db.close()
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        target = workdir / "language_dedup.sqlite"
        shutil.move(str(self.db_path), target)
        shutil.rmtree(self._scratch, ignore_errors=True)
        self.db_path = target
        self._db = sqlite3.connect(target)
        self._finalized = True

    def apply(self, doc: Document) -> Document | Drop:
        if not self._finalized:
            raise RuntimeError("language_dedup.apply called before finalize")
        lang = doc.language or "und"
        if self.cfg.documents:
            found = self._db.execute(
                "SELECT id, n FROM keep_doc WHERE lang = ? AND hash = ?", (lang, _hash(normalize(doc.text)))
            ).fetchone()
            if found is not None and found[0] != doc.id:
                return Drop(f"{self.name}.duplicate_document", f"same {lang} text as document {found[0]}")
        if not self.cfg.lines:
            return doc
        kept, removed = [], 0
        for line, norm in zip(doc.text.splitlines(), self._lines_of(doc.text)):
            if len(norm) >= self.cfg.min_line_chars and self._line_count(lang, norm) > self.cfg.max_line_occurrences:
                removed += 1
                continue
            kept.append(line)
        if not removed:
            return doc
        doc.text = "\n".join(kept)
        doc.scores[f"{self.name}.lines_removed"] = float(removed)
        if len(doc.text.strip()) < self.cfg.min_doc_chars:
            return Drop(f"{self.name}.empty_after_line_dedup", f"{removed} repeated {lang} lines removed")
        return doc

    def __getstate__(self) -> dict:
        """Executors may ship the finalized step to worker processes: the connection is
        reopened there from ``db_path``."""
        if not self._finalized:
            raise RuntimeError("language_dedup can be sent to workers only after finalize")
        return {k: v for k, v in self.__dict__.items() if k != "_db"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)

    def _line_count(self, lang: str, norm: str) -> int:
        row = self._db.execute("SELECT n FROM line_counts WHERE lang = ? AND hash = ?", (lang, _hash(norm))).fetchone()
        return row[0] if row else 0
