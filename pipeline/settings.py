"""What a job reads from its environment: the same names in CodeBuild and on a laptop.

CodeBuild gets DATA_BUCKET (and EVENTS_TABLE for collect) from its project (infra/pipeline.yml)
and RUN_ID, STAGE, TIME_FROM, TIME_TO, TRAINING from the state machine's
EnvironmentVariablesOverride.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import run_input
from pipeline.run_layout import check_run_id

DEFAULT_WORK_ROOT = "build/pipeline"


class SettingsError(ValueError):
    """A job's environment is missing or malformed."""


@dataclass(frozen=True)
class JobSettings:
    bucket: str
    run_id: str
    stage: str
    work_dir: Path
    time_from: date | None = None
    time_to: date | None = None
    training: dict = field(default_factory=dict)
    events_table: str = ""
    max_range_days: int = run_input.DEFAULT_MAX_RANGE_DAYS
    collect_path: str = ""  # "query" | "export" forces collect's path; "" = by size

    @classmethod
    def from_env(cls, job: str, env: dict[str, str] | None = None) -> JobSettings:
        """Settings of `job`; its files go to $WORK_ROOT/<run id>/<job>/.

        SettingsError: the build's environment is broken (the stack's fault);
        run_input.InvalidInput: the execution input is (the caller's fault)."""
        env = dict(os.environ if env is None else env)
        missing = [name for name in ("DATA_BUCKET", "RUN_ID") if not env.get(name)]
        if missing:
            raise SettingsError(f"missing environment variable(s): {', '.join(missing)}")
        try:
            run_id = check_run_id(env["RUN_ID"])
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            bucket=env["DATA_BUCKET"],
            run_id=run_id,
            stage=env.get("STAGE", ""),
            work_dir=Path(env.get("WORK_ROOT") or DEFAULT_WORK_ROOT) / run_id / job,
            time_from=run_input.parse_day("time_from", env.get("TIME_FROM", "")),
            time_to=run_input.parse_day("time_to", env.get("TIME_TO", "")),
            training=_training(env.get("TRAINING", "")),
            events_table=env.get("EVENTS_TABLE", ""),
            collect_path=_collect_path(env.get("COLLECT_PATH", "")),
            max_range_days=run_input.check_max_range_days(
                env.get("MAX_RANGE_DAYS") or run_input.DEFAULT_MAX_RANGE_DAYS
            ),
        )


def _collect_path(value: str) -> str:
    if value not in ("", "query", "export"):
        raise SettingsError(f"COLLECT_PATH must be query, export or empty, got {value!r}")
    return value


def _training(value: str) -> dict:
    if not value.strip():
        return {}
    try:
        return parse_json_object(value, "training")
    except SettingsError as exc:
        raise run_input.InvalidInput(str(exc)) from None


def parse_json_object(text: str, what: str) -> dict:
    """`text` as a JSON object, or a SettingsError that names `what` and the problem."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{what} must be a JSON object, but it is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value
