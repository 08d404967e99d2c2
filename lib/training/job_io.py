"""``TrainJob`` to and from JSON: how a job reaches the processes torchrun starts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from herd.core.protocols import ParallelSizes, TrainJob, TrainStage


def job_to_dict(job: TrainJob) -> dict[str, Any]:
    data = asdict(job)
    return json.loads(json.dumps(data, default=str))


def job_from_dict(data: dict[str, Any]) -> TrainJob:
    def path(v):
        return None if v is None else Path(v)

    stages = [TrainStage(**{**s, "data": path(s.get("data")),
                            "batch_ramp": [tuple(r) for r in s.get("batch_ramp", [])]}) for s in data["stages"]]
    return TrainJob(model=data["model"], stages=stages, parallel=ParallelSizes(**data["parallel"]),
                    output_dir=Path(data["output_dir"]), data_dir=Path(data["data_dir"]), seed=data.get("seed", 0),
                    resume=data.get("resume", False), eval_dir=path(data.get("eval_dir")),
                    init_from=path(data.get("init_from")), tokenizer=path(data.get("tokenizer")),
                    loggers=list(data.get("loggers", [])))
