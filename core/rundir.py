"""The run directory ``runs/<name>/``: one folder per completed stage, each with its
``manifest.json``; ``<stage>.partial/`` while a stage runs or after it was interrupted.

A stage folder without ``.partial`` exists only once its manifest was written, because the
folder is renamed into place after the manifest is complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from herd.core.atomic import fsync_dir, write_json

MANIFEST = "manifest.json"
ATTEMPT = ".attempt.json"


class RunDir:
    def __init__(self, root: Path):
        self.root = Path(root)

    def create(self) -> "RunDir":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def log_path(self) -> Path:
        return self.root / "log.txt"

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def partial_dir(self, stage: str) -> Path:
        return self.root / f"{stage}.partial"

    def manifest(self, stage: str) -> dict[str, Any] | None:
        """The completed stage's manifest, or ``None`` if the stage has not completed."""
        path = self.stage_dir(stage) / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def attempt(self, stage: str) -> dict[str, Any] | None:
        path = self.partial_dir(stage) / ATTEMPT
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def start_attempt(self, stage: str, key: str, resume: bool) -> bool:
        """Prepare ``<stage>.partial``; returns True when an interrupted attempt with the same
        cache key is continued (``resume``), False when the stage starts afresh."""
        partial = self.partial_dir(stage)
        previous = self.attempt(stage)
        if partial.exists() and resume and previous and previous.get("key") == key:
            # A killed attempt leaves the temporaries of the writes it was in the middle of
            # (atomic writers name them ``.<name>.<random>.tmp``); none is ever an output.
            for leftover in partial.rglob(".*.tmp"):
                if leftover.is_file():
                    leftover.unlink()
            return True
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        write_json(partial / ATTEMPT, {"stage": stage, "key": key, "pid": os.getpid()})
        return False

    def complete(self, stage: str, manifest: dict[str, Any]) -> Path:
        """Write the manifest into the partial folder, then rename it into place."""
        partial = self.partial_dir(stage)
        write_json(partial / MANIFEST, manifest)
        (partial / ATTEMPT).unlink(missing_ok=True)
        final = self.stage_dir(stage)
        if final.exists():
            trash = self.root / f".{stage}.old"
            if trash.exists():
                shutil.rmtree(trash)
            os.rename(final, trash)
            os.rename(partial, final)
            shutil.rmtree(trash)
        else:
            os.rename(partial, final)
        fsync_dir(self.root)
        return final

    def invalidate(self, stage: str) -> None:
        """Remove a completed stage whose inputs changed, so no later stage reads it."""
        final = self.stage_dir(stage)
        if final.exists():
            shutil.rmtree(final)
