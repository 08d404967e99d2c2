"""Sample generations before and after post-training: the same prompts through the model
post-training started from (round 0) and each round's model, from the posttrain stage's
``samples.json`` (``herd.core.samples``)."""

from __future__ import annotations

from pathlib import Path

from herd.core.samples import SAMPLES_FILE, ModelSamples, read_samples

MAX_CHARS = 200  # a sample's response in a table cell


def collect_samples(inputs: dict[str, Path]) -> list[ModelSamples]:
    folder = inputs.get("posttrain")
    if folder is None or not (folder / SAMPLES_FILE).is_file():
        return []
    return read_samples(folder / SAMPLES_FILE)


def samples_section(models: list[ModelSamples]) -> tuple[str, list[str], list[list[str]], None] | None:
    """One row per prompt: the expected answer and each model's response, round 0 first."""
    if not models or not models[0].samples:
        return None
    last = models[-1].round
    header = ["prompt", "expected"] + [_label(m.round, last) for m in models]
    rows = []
    for i, sample in enumerate(models[0].samples):
        responses = [_clip(m.samples[i].response) if i < len(m.samples) else "" for m in models]
        rows.append([sample.prompt, sample.expected] + responses)
    return ("Sample generations", header, rows, None)


def _label(round_no: int, last: int) -> str:
    if round_no == 0:
        return "round 0 (before post-training)"
    return f"round {round_no}" + (" (final model)" if round_no == last else "")


def _clip(text: str) -> str:
    text = " ".join(text.split()) or "(empty)"
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "…"
