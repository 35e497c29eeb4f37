"""Retrain job: train a candidate on the union of vocabularies (the current model's gestures and
the device windows' labels), score it and the current model on the same evaluation streams (all
their gestures), and promote it only if the gate says so (pipeline/promotion.py).

Artifacts go to runs/<run_id>/ as soon as they exist; promotion copies the model folder to
models/<version>/ and writes models/current.json last (functions/storage_layout.py), so a
failure anywhere before that leaves the previous model current.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from functions import storage_layout
from functions.domain import vocabulary
from pipeline import run_layout
from pipeline.artifacts import ArtifactSink, get_json, list_keys, s3_client
from pipeline.jobs.result import write_result
from pipeline.promotion import Budgets, Candidate, decide
from pipeline.settings import JobSettings, SettingsError
from pipeline.training_backend import TrainingBackend, load_backend


def device_data_run(settings: JobSettings, s3) -> str | None:
    """This run's raw layer if the collect job filled it, else the newest run that has one."""
    runs = [
        run_id
        for key in list_keys(s3, settings.bucket, run_layout.RUNS_PREFIX)
        if (run_id := run_layout.run_id_of_raw_manifest(key))
    ]
    if settings.run_id in runs:
        return settings.run_id
    manifests = [(get_json(s3, settings.bucket, run_layout.raw_manifest_key(r)), r) for r in runs]
    dated = sorted((m.get("created", ""), r) for m, r in manifests if m)
    return dated[-1][1] if dated else None


def download_device_windows(settings: JobSettings, s3, data_run: str | None) -> Path | None:
    if data_run is None:
        return None
    path = settings.work_dir / "raw" / "windows.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    s3.download_file(settings.bucket, run_layout.raw_windows_key(data_run), str(path))
    return path


def download_current_model(settings: JobSettings, s3) -> Path | None:
    pointer = get_json(s3, settings.bucket, storage_layout.CURRENT_MODEL_KEY)
    if pointer is None:
        return None
    folder = settings.work_dir / "current" / pointer["version"]
    folder.mkdir(parents=True, exist_ok=True)
    for key in list_keys(s3, settings.bucket, pointer["prefix"]):
        target = folder / key[len(pointer["prefix"]) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(settings.bucket, key, str(target))
    return folder


def gestures_of(model_dir: Path | None) -> list[str]:
    """The gestures a model folder knows (its manifest's classes without idle)."""
    if model_dir is None:
        return []
    manifest = json.loads((model_dir / "manifest.json").read_text())
    return vocabulary.gestures_of(manifest.get("classes", []))


def describe(model_dir: Path, scores: dict) -> Candidate:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    sizes = {name: info["bytes"] for name, info in manifest.get("files", {}).items()}
    per_gesture = {g: v["f1"] for g, v in (scores.get("per_class") or {}).items()}
    return Candidate(
        manifest["version"], float(scores["score"]), sizes, tuple(gestures_of(model_dir)),
        per_gesture,
    )  # fmt: skip


def upload_folder(sink: ArtifactSink, folder: Path, key_of) -> None:
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        sink.put_file(key_of(path.relative_to(folder).as_posix()), path)


def train_candidate(settings, sink, backend, windows: Path | None, params: dict) -> Path:
    """Train, and keep the model folder and training's layers in the run folder at once."""
    layers_dir = settings.work_dir / "layers"
    model_dir = backend.train(windows, settings.work_dir / "candidate", layers_dir, params)
    version = json.loads((model_dir / "manifest.json").read_text())["version"]
    upload_folder(
        sink, model_dir, lambda rel: run_layout.run_model_key(settings.run_id, version, rel)
    )
    upload_folder(sink, layers_dir, lambda rel: run_layout.run_layer_key(settings.run_id, rel))
    return model_dir


def score_models(
    settings, backend, model_dir: Path, current_dir: Path | None, params: dict
) -> tuple[dict, dict | None]:
    """Candidate and current model scored on the same streams, which hold the gestures of both:
    {"model": Candidate, "scores"}."""
    union = sorted(set(gestures_of(model_dir)) | set(gestures_of(current_dir)))
    streams = backend.evaluation_streams(
        settings.work_dir / "streams", params | {"gestures": union}
    )
    scores = backend.score(model_dir, streams)
    candidate = {"model": describe(model_dir, scores), "scores": scores, "streams": len(streams)}
    if current_dir is None:
        return candidate, None
    scores = backend.score(current_dir, streams)
    return candidate, {"model": describe(current_dir, scores), "scores": scores}


def publish(sink: ArtifactSink, model_dir: Path, version: str) -> None:
    """Copy the model folder to models/<version>/, add its gestures to the fleet's vocabulary
    (the API accepts them from now on), then point models/current.json at it."""
    upload_folder(sink, model_dir, lambda rel: storage_layout.model_file_key(version, rel))
    classes = json.loads((model_dir / "manifest.json").read_text()).get("classes", [])
    known = get_json(sink.s3, sink.bucket, storage_layout.VOCABULARY_KEY)
    sink.put_json(storage_layout.VOCABULARY_KEY, vocabulary.merged(known, version, classes))
    sink.put_json(storage_layout.CURRENT_MODEL_KEY, storage_layout.current_pointer(version))


def retrain(settings: JobSettings, s3, backend: TrainingBackend) -> dict:
    sink = ArtifactSink(settings.bucket, settings.work_dir / "s3", s3)
    params = dict(settings.training)
    budgets = Budgets.from_params(params, Budgets(backend.mpy_budget()))
    params.pop("budgets", None)
    data_run = device_data_run(settings, s3)
    windows = download_device_windows(settings, s3, data_run)
    current_dir = download_current_model(settings, s3)
    known = params.get("gestures") or gestures_of(current_dir)  # + the windows' labels
    model_dir = train_candidate(settings, sink, backend, windows, params | {"gestures": known})
    candidate, current = score_models(settings, backend, model_dir, current_dir, params)
    new, old = candidate["model"], current["model"] if current else None
    decision = decide(new, old, budgets)
    report_key = run_layout.promotion_report_key(settings.run_id)
    sink.put_json(report_key, {
        "run_id": settings.run_id,
        "data_run_id": data_run,
        "device_windows": windows.read_text().count("\n") if windows else 0,
        "promoted": decision.promote,
        "reason": decision.reason,
        "budgets": asdict(budgets),
        "candidate": {**asdict(new), "scores": candidate["scores"]},
        "current": {**asdict(old), "scores": current["scores"]} if old else None,
        "streams": candidate["streams"],
    })  # fmt: skip
    if decision.promote:
        publish(sink, model_dir, new.version)
    return {
        "run_id": settings.run_id,
        "promoted": decision.promote,
        "reason": decision.reason,
        "candidate_version": new.version,
        "candidate_score": round(new.score, 4),
        "current_version": new.version if decision.promote else (old and old.version),
        "previous_version": old.version if old else None,
        "report_key": report_key,
    }


def main() -> int:
    try:
        settings = JobSettings.from_env("retrain")
        backend = load_backend()
        Budgets.from_params(settings.training, Budgets(backend.mpy_budget()))
    except (SettingsError, ValueError) as exc:
        print(f"retrain: {exc}", file=sys.stderr)
        return 2
    shutil.rmtree(settings.work_dir, ignore_errors=True)  # a retried build starts clean
    result = retrain(settings, s3_client(), backend)
    write_result(settings.work_dir, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
