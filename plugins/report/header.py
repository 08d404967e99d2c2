"""The report's header: which run this is (name, profile, plugins, herd version and git
commit, when it started, the config's hash), read from the stage context and the earlier
stages' manifests, so two reports are told apart at a glance."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import herd
from herd.core.pipeline import StageContext

HERD_ROOT = Path(herd.__file__).resolve().parent


@dataclass(frozen=True)
class RunHeader:
    run: str
    profile: str
    plugins: list[str]  # "name version", active plugins
    herd_version: str
    commit: str | None  # None when herd is not a git checkout
    started: str  # the earliest stage start in the run (UTC)
    config_hash: str

    def rows(self) -> list[list[str]]:
        return [["run", self.run], ["profile", self.profile], ["plugins", ", ".join(self.plugins)],
                ["herd", self.herd_version + (f" (commit {self.commit})" if self.commit else " (not a git checkout)")],
                ["started", self.started or "unknown"], ["config hash", self.config_hash]]


def run_header(ctx: StageContext) -> RunHeader:
    manifests = [json.loads((folder / "manifest.json").read_text(encoding="utf-8")) for folder in ctx.inputs.values()]
    versions: dict[str, str] = next((m["plugin_versions"] for m in manifests if m.get("plugin_versions")), {})
    started = min((m["started"] for m in manifests if m.get("started")), default="")
    if started:
        started = datetime.fromisoformat(started).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return RunHeader(
        run=ctx.config.run.name,
        profile=ctx.profile,
        plugins=[f"{p} {versions[p]}" if p in versions else p for p in sorted(ctx.plugins)],
        herd_version=herd.__version__,
        commit=git_commit(HERD_ROOT),
        started=started,
        # Every section of the resolved config (and the profile): equal hashes, equal configs.
        config_hash=ctx.config.subset_hash(ctx.config.to_dict())[:16],
    )


def git_commit(folder: Path) -> str | None:
    """The checkout's short commit, ``+dirty`` when it has uncommitted changes; ``None``
    outside a git checkout or without git."""
    try:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if status.strip() else "") if commit else None


def header_section(header: RunHeader) -> tuple[str, list[str], list[list[str]], None]:
    return ("Run", ["field", "value"], header.rows(), None)
