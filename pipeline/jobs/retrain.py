"""Retrain job: train a candidate on the union of vocabularies (the current model's gestures and
the device windows' labels), score it and the current model on the same evaluation streams (all
their gestures), and promote it only if the gate says so (pipeline/promotion.py).

Artifacts go to runs/<run_id>/ as soon as they exist; promotion copies the model folder to
models/<version>/ and writes models/current.json last (ModelStore, functions/adapters/
data_bucket.py, the publication protocol `gesture-stack up` uses too), so a
failure anywhere before that leaves the previous model current. The pointer is swapped only
if it is still the one the candidate was scored against (pipeline/current_model.py): a run
that loses the race scores again against the new current model, or ends `superseded`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from functions import storage_layout
from functions.adapters.data_bucket import ModelStore
from functions.domain import vocabulary
from pipeline import run_layout
from pipeline.artifacts import ArtifactSink, get_json, list_keys, s3_client
from pipeline.current_model import PROMOTION_ATTEMPTS, ModelPointer, Seen, promote
from pipeline.jobs.result import run_job
from pipeline.promotion import Candidate, decide
from pipeline.run_input import Training
from pipeline.settings import JobSettings
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


def download_model(settings: JobSettings, s3, pointer: dict) -> Path:
    """The model folder a models/current.json body points at, downloaded."""
    folder = settings.work_dir / "current" / pointer["version"]
    folder.mkdir(parents=True, exist_ok=True)
    for key in list_keys(s3, settings.bucket, pointer["prefix"]):
        target = folder / key[len(pointer["prefix"]) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(settings.bucket, key, str(target))
    return folder


def read_manifest(model_dir: Path) -> dict:
    """A downloaded model folder's manifest (version, classes, files): another run's model,
    whatever schema it was published with."""
    return json.loads((model_dir / storage_layout.MANIFEST_NAME).read_text())


def gestures_of(manifest: dict | None) -> list[str]:
    """The gestures a manifest knows (its classes without idle)."""
    return vocabulary.gestures_of(manifest.get("classes", [])) if manifest else []


def describe(manifest: dict, scores: dict) -> Candidate:
    sizes = {name: info["bytes"] for name, info in manifest.get("files", {}).items()}
    per_gesture = {g: v["f1"] for g, v in (scores.get("per_class") or {}).items()}
    return Candidate(
        manifest["version"], float(scores["score"]), sizes, tuple(gestures_of(manifest)),
        per_gesture,
    )  # fmt: skip


def upload_folder(sink: ArtifactSink, folder: Path, key_of) -> None:
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        sink.put_file(key_of(path.relative_to(folder).as_posix()), path)


def train_candidate(settings, sink, backend, windows: Path | None, training: Training) -> dict:
    """Train, and keep the model folder and training's layers in the run folder at once;
    returns the manifest training made (as manifest.json holds it)."""
    model_dir, layers_dir = settings.work_dir / "candidate", settings.work_dir / "layers"
    manifest = backend.train(windows, model_dir, layers_dir, training).model_dump(by_alias=True)
    version = manifest["version"]
    upload_folder(
        sink, model_dir, lambda rel: run_layout.run_model_key(settings.run_id, version, rel)
    )
    upload_folder(sink, layers_dir, lambda rel: run_layout.run_layer_key(settings.run_id, rel))
    return manifest


def known_gestures(settings, s3) -> list[str]:
    """The gestures of the model current when the run starts (none before the first)."""
    pointer = get_json(s3, settings.bucket, storage_layout.CURRENT_MODEL_KEY)
    if pointer is None:
        return []
    key = pointer["prefix"] + storage_layout.MANIFEST_NAME  # its manifest only, not its files
    return gestures_of(get_json(s3, settings.bucket, key))


def score_candidate(
    settings, backend, model_dir: Path, manifest: dict, training: Training
) -> tuple[dict, list[Path]]:
    """The candidate scored on this run's evaluation streams, which hold its gestures and the
    current model's (training.gestures): {"model": Candidate, "scores"}."""
    union = tuple(sorted(set(gestures_of(manifest)) | set(training.gestures)))
    streams = backend.evaluation_streams(
        settings.work_dir / "streams", replace(training, gestures=union)
    )
    scores = backend.score(model_dir, streams)
    return {"model": describe(manifest, scores), "scores": scores}, streams


def current_scorer(settings, s3, backend, streams: list[Path]):
    """seen -> {"model": Candidate, "scores"} of the model it points at (None if none), each
    version downloaded and scored once however often a lost race brings it back."""
    cache: dict[str, dict] = {}

    def score_current(seen: Seen) -> dict | None:
        if seen.pointer is None:
            return None
        version = seen.pointer["version"]
        if version not in cache:
            folder = download_model(settings, s3, seen.pointer)
            scores = backend.score(folder, streams)
            cache[version] = {"model": describe(read_manifest(folder), scores), "scores": scores}
        return cache[version]

    return score_current


def publisher(settings, s3, model_dir: Path, manifest: dict):
    """Uploads the model folder to models/<version>/ and adds its gestures to the fleet's
    vocabulary (the one publication protocol: ModelStore), returns the pointer to swap in."""
    store = ModelStore(s3, settings.bucket)
    return lambda: store.upload_release(model_dir, manifest, run_id=settings.run_id)


def retrain(
    settings: JobSettings, s3, backend: TrainingBackend, attempts: int = PROMOTION_ATTEMPTS
) -> dict:
    training = backend.parse(settings.training)  # the one parse; refused before any work
    sink = ArtifactSink(settings.bucket, settings.work_dir / "s3", s3)
    data_run = device_data_run(settings, s3)
    windows = download_device_windows(settings, s3, data_run)
    # the vocabulary to keep: the input's, else the current model's (+ the windows' labels)
    training = replace(training, gestures=training.gestures or tuple(known_gestures(settings, s3)))
    manifest = train_candidate(settings, sink, backend, windows, training)
    model_dir = settings.work_dir / "candidate"
    candidate, streams = score_candidate(settings, backend, model_dir, manifest, training)
    new, budgets = candidate["model"], training.budgets
    end = promote(
        ModelPointer(s3, settings.bucket),
        current_scorer(settings, s3, backend, streams),
        lambda current: decide(new, current["model"] if current else None, budgets),
        publisher(settings, s3, model_dir, manifest),
        attempts,
    )
    current = end.current
    old = current["model"] if current else None
    report_key = run_layout.promotion_report_key(settings.run_id)
    sink.put_json(report_key, {
        "run_id": settings.run_id,
        "data_run_id": data_run,
        "device_windows": windows.read_text().count("\n") if windows else 0,
        "promoted": end.promoted,
        "outcome": end.outcome,
        "reason": end.reason,
        "attempts": end.attempts,
        "changed_by_other_runs": list(end.changed_by_others),
        "budgets": asdict(budgets),
        "candidate": {**asdict(new), "scores": candidate["scores"]},
        "current": {**asdict(old), "scores": current["scores"]} if old else None,
        "streams": len(streams),
    })  # fmt: skip
    return {
        "run_id": settings.run_id,
        "promoted": end.promoted,
        "outcome": end.outcome,
        "reason": end.reason,
        "candidate_version": new.version,
        "candidate_score": round(new.score, 4),
        "current_version": new.version if end.promoted else end.seen.version,
        "previous_version": old.version if old else None,
        "report_key": report_key,
    }


def main() -> int:
    return run_job("retrain", lambda settings: retrain(settings, s3_client(), load_backend()))


if __name__ == "__main__":
    sys.exit(main())
