"""GET /models: model versions (when and why each was promoted) and the last pipeline runs.

Reads the data bucket only: the model folders under models/ and the records each pipeline run
writes under runs/<run_id>/ (functions/storage_layout.py names them). Dashboard key only.
"""

from functions import storage_layout as layout
from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices, model_history
from functions.domain.model_history import Run, Stored
from functions.models.dashboard import ModelHistory
from functions.settings import get_settings

ROUTE = Route(
    "GET",
    "/models",
    "Model versions, when and why each was promoted, the last pipeline runs (dashboard key)",
    ModelHistory,
)


@endpoint(ROUTE)
def handler(request: Request) -> ModelHistory:
    devices.dashboard_only(request.device)
    records = wiring.run_records()
    listed, current = records.models()
    versions = {
        version: _stored(records.kept(layout.model_file_key(version, layout.MANIFEST_NAME)))
        for version in listed
    }
    runs = [
        Run(
            run_id,
            collected=_stored(records.kept(layout.run_record_key(run_id, layout.RUN_RAW_MANIFEST))),
            promotion=_stored(
                records.kept(layout.run_record_key(run_id, layout.RUN_PROMOTION_REPORT))
            ),
        )
        for run_id in records.run_ids()
    ]
    return model_history.history(current, versions, runs, get_settings().max_listed_runs)


def _stored(found: tuple[dict, str] | None) -> Stored | None:
    return Stored(*found) if found else None
