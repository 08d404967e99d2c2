"""``PostTrainJob`` and ``PostTrainResult`` to and from JSON: how a job reaches the
processes torchrun starts and how rank 0's result comes back."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from herd.core.protocols import ParallelSizes, PostTrainJob, PostTrainResult, PostTrainSettings


def job_to_dict(job: PostTrainJob) -> dict[str, Any]:
    data = dataclasses.asdict(job)
    for key in ("model_dir", "data", "output_dir", "reference_dir"):
        data[key] = None if data[key] is None else str(data[key])
    return data


def job_from_dict(data: dict[str, Any]) -> PostTrainJob:
    ref = data.get("reference_dir")
    return PostTrainJob(kind=data["kind"], model_dir=Path(data["model_dir"]), data=Path(data["data"]),
                        output_dir=Path(data["output_dir"]), settings=PostTrainSettings(**data["settings"]),
                        parallel=ParallelSizes(**data["parallel"]), dtype=data["dtype"], device=data["device"],
                        reference_dir=None if ref is None else Path(ref), loggers=list(data.get("loggers", [])))


def result_to_dict(result: PostTrainResult) -> dict[str, Any]:
    return {**dataclasses.asdict(result), "model_dir": str(result.model_dir)}


def result_from_dict(data: dict[str, Any]) -> PostTrainResult:
    return PostTrainResult(**{**data, "model_dir": Path(data["model_dir"])})
