"""The data a round starts from: the capability synthesizers' rows (new every round) and
the human-written files (read once per run), each checked against its length limit."""

from __future__ import annotations

from pathlib import Path

from herd.core.errors import StageError
from herd.core.pipeline import StageContext
from herd.core.records import PreferenceRow, SFTRow
from herd.core.services import Services
from herd.lib.chat.format import ChatFormat
from herd.plugins.posttrain.config import PosttrainConfig
from herd.plugins.posttrain.data import Loaded, check_lengths, load_preferences, load_sft
from herd.plugins.posttrain.lengths import LengthPolicy
from herd.plugins.posttrain.round_state import Ledger


def synthesizer_names(ctx: StageContext, cfg: PosttrainConfig) -> list[str]:
    return cfg.synthesizers or [n for n in ctx.registry.names("synthesizers")
                                if ctx.registry.get("synthesizers", n).options.get("default", True)]


def synthesize(ctx: StageContext, cfg: PosttrainConfig, services: Services, round_no: int,
               out_dir: Path) -> tuple[list[SFTRow], list[PreferenceRow]]:
    """Every synthesizer's rows for this round; each row remembers its synthesizer
    (``metadata["synthesizer"]``), whose ``max_len`` option may set its length limit."""
    sft: list[SFTRow] = []
    prefs: list[PreferenceRow] = []
    for name in synthesizer_names(ctx, cfg):
        capability = ctx.registry.get("synthesizers", name).options.get("capability", "general")
        synth = ctx.build("synthesizers", name, services)
        work = out_dir / "synth" / name
        work.mkdir(parents=True, exist_ok=True)
        for row in synth.synthesize(cfg.synth_budget, work):
            if isinstance(row, SFTRow):
                row.capability = row.capability or capability
                row.metadata.setdefault("synthesizer", name)
                sft.append(row)
            elif isinstance(row, PreferenceRow):
                row.round = row.round or round_no
                row.metadata.setdefault("synthesizer", name)
                prefs.append(row)
            else:
                raise StageError(f"synthesizer '{name}' yielded {type(row).__name__}, not SFTRow or PreferenceRow")
    return sft, prefs


def checked(rows: list, chat: ChatFormat, lengths: LengthPolicy, ledger: Ledger, step: str) -> list:
    """The rows that fit their length limit; the others go to the ledger with the reason."""
    loaded = check_lengths(Loaded(rows=list(rows)), chat, lengths, step)
    for rej in loaded.rejected:
        ledger.drop(step, rows[rej.row - 1].id, rej.reason)
    return loaded.rows


def human_data(cfg: PosttrainConfig, chat: ChatFormat, lengths: LengthPolicy,
               ledger: Ledger) -> tuple[list[SFTRow], list[PreferenceRow]]:
    """``[posttrain] sft_data`` and ``preference_data``: invalid rows and rows over their
    length limit go to the ledger, with file and row number."""
    sft: list[SFTRow] = []
    prefs: list[PreferenceRow] = []
    sources = [(p, load_sft, sft) for p in cfg.sft_data] + [(p, load_preferences, prefs) for p in cfg.preference_data]
    for path, loader, out in sources:
        loaded = check_lengths(loader(Path(path)), chat, lengths, str(path))
        for rej in loaded.rejected:
            code = "" if rej.reason.split(":")[0] in ("too_long", "prompt_too_long") else "invalid_row: "
            ledger.drop("human_data", f"{rej.source}:{rej.row}", f"{code}{rej.reason}")
        out.extend(loaded.rows)
    return sft, prefs
