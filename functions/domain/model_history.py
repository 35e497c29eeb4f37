"""GET /models: which model versions exist, when and why each was promoted, the last runs. Pure.

Inputs are the bucket's documents as the pipeline wrote them (functions/storage_layout.py):
a version's manifest.json, a run's raw/manifest.json and reporting/promotion.json.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.models.dashboard import ModelHistory, ModelVersion, PipelineRun


@dataclass(frozen=True)
class Stored:
    """A JSON document from the bucket and when it was written (ISO time)."""

    document: dict
    written: str


@dataclass(frozen=True)
class Run:
    run_id: str
    collected: Stored | None  # raw/manifest.json
    promotion: Stored | None  # reporting/promotion.json


def run_view(run: Run) -> PipelineRun:
    collected = run.collected.document if run.collected else {}
    report = run.promotion.document if run.promotion else {}
    candidate = report.get("candidate") or {}
    times = [s.written for s in (run.collected, run.promotion) if s]
    return PipelineRun(
        run_id=run.run_id,
        time=max(times) if times else None,
        collected_events=(collected.get("events") or {}).get("count"),
        collected_windows=(collected.get("windows") or {}).get("count"),
        candidate_version=candidate.get("version"),
        candidate_score=candidate.get("score"),
        promoted=report.get("promoted") if run.promotion else None,
        reason=report.get("reason"),
    )


def history(
    current: str | None,
    versions: dict[str, Stored | None],
    runs: list[Run],
    max_runs: int,
) -> ModelHistory:
    """Versions newest first, each with the run that promoted it; runs newest first."""
    # A run with no record yet is still running: it counts as the newest.
    views = sorted(
        (run_view(r) for r in runs),
        key=lambda v: (v.time is None, v.time or "", v.run_id),
        reverse=True,
    )
    promoted_by = {v.candidate_version: v for v in views if v.promoted}  # the first promotion
    listed = []
    for version, manifest in versions.items():
        run = promoted_by.get(version)
        listed.append(
            ModelVersion(
                version=version,
                current=version == current,
                created=manifest.document.get("created") if manifest else None,
                published_at=manifest.written if manifest else None,
                run_id=run.run_id if run else None,
                reason=run.reason if run else None,
                score=run.candidate_score if run else None,
            )
        )
    listed.sort(key=lambda v: (v.published_at or "", v.version), reverse=True)
    return ModelHistory(current=current, versions=listed, runs=views[:max_runs])
