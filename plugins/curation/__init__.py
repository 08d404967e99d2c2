"""Pretraining data curation infrastructure (docs/recipe.md section 1): the input sources, the
runner that applies the configured steps on every core or a Ray cluster, the ``curate``
and ``mix`` stages and the ``curate`` command. The steps themselves come from the
``curation_steps`` plugin (and any other) through the filter, deduper, extractor and
mixer hooks."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl
from herd.plugins.curation.config import CurateConfig, MixConfig
from herd.plugins.curation.sources.text import TextSourceConfig


def _jsonl(config):
    from herd.plugins.curation.sources.jsonl import JsonlSource

    return JsonlSource(config)


def _parquet(config):
    from herd.plugins.curation.sources.parquet import ParquetSource

    return ParquetSource(config)


def _hf_disk(config):
    from herd.plugins.curation.sources.hf_disk import HFDiskSource

    return HFDiskSource(config)


def _text(config):
    from herd.plugins.curation.sources.text import TextSource

    return TextSource(config)


def _warc(config):
    from herd.plugins.curation.sources.warc import WarcSource

    return WarcSource(config)


def _run_curate(ctx):
    from herd.plugins.curation.stages import run_curate

    return run_curate(ctx)


def _run_mix(ctx):
    from herd.plugins.curation.stages import run_mix

    return run_mix(ctx)


def _add_arguments(parser):
    from herd.plugins.curation.command import add_arguments

    add_arguments(parser)


def _run_command(args, app):
    from herd.plugins.curation.command import run

    return run(args, app)


@hookimpl
def herd_register_config_sections(register):
    register("curate", CurateConfig)
    register("mix", MixConfig)


@hookimpl
def herd_register_sources(register):
    jsonl = tuple(f"{kind}{packed}" for kind in (".jsonl", ".json", ".ndjson")
                  for packed in ("", ".gz", ".zst", ".bz2", ".xz"))
    register("jsonl", _jsonl, description="JSON Lines, plain, gzip, zstandard, bzip2 or xz", suffixes=jsonl)
    register("text", _text, description="plain text, one document per file or per line ([sources.text] unit)",
             suffixes=(".txt",), config=TextSourceConfig)
    register("parquet", _parquet, description="Parquet files", suffixes=(".parquet",))
    register("warc", _warc, description="WARC files (HTML responses), read with fastwarc",
             suffixes=(".warc", ".warc.gz"))
    register("hf_disk", _hf_disk, description="Hugging Face datasets saved with save_to_disk (a folder)",
             suffixes=())


@hookimpl
def herd_register_stages(register):
    register("curate", _run_curate, description="extract, filter, de-duplicate and score the raw corpus",
             reads=(), config_sections=("curate", "sources", "extractors", "filters", "dedupers"))
    register("mix", _run_mix, description="sample the curated corpus to the target domain mix",
             reads=("curate",), config_sections=("mix", "mixers"))


@hookimpl
def herd_register_commands(register):
    register("curate", _add_arguments, _run_command, help="run the curation steps on any input")
