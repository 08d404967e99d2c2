"""The ``report`` stage: ``report.md`` and a self-contained ``report.html`` with plots of
every stage that ran (docs/recipe.md's pipeline, end to end), like nanochat's final report."""

from __future__ import annotations

from dataclasses import dataclass

from herd.core.hookspecs import hookimpl
from herd.core.pipeline import ALL_EARLIER


@dataclass
class ReportConfig:
    title: str = "herd run report"


@hookimpl
def herd_register_config_sections(register):
    register("report", ReportConfig)


@hookimpl
def herd_register_stages(register):
    from herd.plugins.report.stage import run_report

    register(
        "report",
        run_report,
        description="report.md and report.html with plots of every stage",
        optional_reads=(ALL_EARLIER,),
        config_sections=("report",),
    )
