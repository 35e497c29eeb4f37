"""The training pipeline: data layers raw -> intermediate -> primary -> models -> reporting.

Each step is a small function; `train` wires them and writes every layer to a folder so a run
can be inspected. Selection: grouped folds of the non-test data give out-of-fold streams; each
candidate is scored as events there after calibrating the debouncer; the best one within the
device budget is refitted on all non-test data and scored once on the held-out test streams.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gesture.spec import MODEL_MPY, MODEL_SOURCE, VECTORS_FILE

from training import export
from training.calibration import ScoredStream, calibrate, evaluate
from training.clips import clip_streams, is_clip_folder
from training.evaluation import EventScore, votes_threshold
from training.featurize import WindowSpec, classes_of, features, window_counts
from training.manifest import FileInfo, Manifest, PostProcess, make_version, write_manifest
from training.oof_cache import OofCache, folds_fingerprint
from training.params import Candidate, TrainParams, load_params
from training.raw_layer import raw_window_streams
from training.rawunits import si_to_counts
from training.report import write_report
from training.seed_data import SEED_FILE, load_seed_windows, recover_timelines
from training.selection import (
    CandidateResult,
    WindowCache,
    fit,
    make_estimator,
    ranked,
    score_streams,
    spec_of,
)
from training.streams import (
    Stream,
    concatenate,
    recording_streams,
    seed_streams,
    split_groups,
    write_streams,
)

Progress = Callable[[str], None]


@dataclass
class TrainResult:
    model_dir: Path
    manifest: Manifest
    selected: CandidateResult
    test: EventScore
    test_scored: list[ScoredStream]
    candidates: list[dict]
    estimator: object = None
    evaluated: object = None  # the fit scored on the test streams (never saw the test groups)


def load_streams(data: Path, params: TrainParams) -> tuple[list[Stream], dict]:
    """raw -> intermediate: the seed-imu folder, a clip folder (training/clips.py), or labelled
    recordings (labels CSV or Label Studio export) plus raw-layer windows (a local copy of the
    bucket's raw/samples)."""
    data = Path(data)
    if (data / SEED_FILE).exists():
        streams = seed_streams(recover_timelines(load_seed_windows(data)))
        return streams, {"kind": "seed-imu", "file": SEED_FILE}
    if not data.is_dir():
        raise FileNotFoundError(f"training data folder not found: {data}")
    if is_clip_folder(data):
        return clip_streams(data)
    streams = recording_streams(data, params.split.chunk_s)
    windows, counts = raw_window_streams(data)
    if not streams and not windows:
        raise FileNotFoundError(
            f"no labelled recordings (<name>.csv + <name>.labels.csv or a Label Studio export) "
            f"and no raw-layer windows (raw/samples/...) in {data}"
        )
    source = {"kind": "recordings", "recordings": sorted({s.group.split("#")[0] for s in streams})}
    return streams + windows, source | {"raw_windows": dict(counts)}


def split_streams(streams: list[Stream], params: TrainParams) -> dict[str, list[Stream]]:
    """intermediate -> primary: whole groups to test and folds, joined into longer streams."""
    k, test = params.split.folds, params.split.test_fraction
    fractions = {"test": test} | {f"fold-{i}": (1 - test) / k for i in range(k)}
    parts = split_groups(streams, fractions, params.seed)
    rng = np.random.default_rng(params.seed)
    out = {}
    for name, members in parts.items():
        if not members:
            raise ValueError(f"split {name!r} is empty: too little data ({len(streams)} groups)")
        order = [members[i] for i in rng.permutation(len(members))]
        gap = tuple(params.split.rest_gap_s)
        out[name] = concatenate(order, name, params.split.stream_s, gap, params.seed)
    return out


def score_candidate(
    c: Candidate, folds: dict[str, list[Stream]], caches: dict, params: TrainParams, oof: OofCache
) -> CandidateResult:
    classes = next(iter(caches.values())).classes
    """Fit on all folds but one, score on that one, for each fold; calibrate on the union."""
    spec, streams = spec_of(c), [s for name in folds for s in folds[name]]
    if (entry := oof.load(c)) is None:
        scored, first = [], None
        for name in folds:
            result = fit(c, caches[name], params, measure=first is None)
            first = first or result
            scored += score_streams(result.estimator, folds[name], result.spec, classes)
        index = {id(s): i for i, s in enumerate(streams)}
        rows = [(index[id(s.stream)], s.ends, s.scores, s.scale) for s in scored]
        entry = {"mpy_bytes": first.mpy_bytes, "within_budget": first.within_budget,
                 "fit_s": first.fit_s, "scored": rows}  # fmt: skip
        oof.save(c, entry)
    result = CandidateResult(c, spec, None, entry["mpy_bytes"], entry["fit_s"])
    result.within_budget = entry["within_budget"]
    result.oof = [ScoredStream(streams[i], *rest) for i, *rest in entry["scored"]]
    hop_ms = 1000 // spec.rate_hz * spec.hop
    result.postprocess, result.score = calibrate(
        result.oof, list(classes), params.selection_calibration.model_dump(), hop_ms,
        params.tolerance_ms,
    )  # fmt: skip
    return result


def select(
    folds: dict[str, list[Stream]],
    candidates: list[Candidate],
    params: TrainParams,
    progress,
    cache_dir: Path | None = None,
    classes: tuple[str, ...] | None = None,
) -> list[CandidateResult]:
    """Every candidate scored on out-of-fold streams (cached in cache_dir, so a run resumes)."""
    classes = classes or classes_of([s for ss in folds.values() for s in ss])
    caches = {
        name: WindowCache(
            [s for other, ss in folds.items() if other != name for s in ss], params, classes
        )
        for name in folds
    }
    oof = OofCache(cache_dir, folds_fingerprint(folds, params))
    results = []
    for i, c in enumerate(candidates, 1):
        r = score_candidate(c, folds, caches, params, oof)
        results.append(r)
        progress(
            f"[{i}/{len(candidates)}] {c.key}: event F1 {r.score.f1:.3f}, "
            f"{r.mpy_bytes} B{'' if r.within_budget else ' (over budget)'}"
        )
    return results


def fit_final(
    order: list[CandidateResult],
    dev: list[Stream],
    params: TrainParams,
    progress,
    classes: tuple[str, ...],
) -> tuple[CandidateResult, object, np.ndarray]:
    """models: the preferred candidate fitted on every non-test stream (the next one if that
    fit outgrows the budget), and its training features."""
    cache, budget = WindowCache(dev, params, classes), params.budgets.model_mpy_bytes
    for chosen in order:
        x, y = cache.get(chosen.spec)
        estimator = make_estimator(chosen.candidate, params.windows.class_weight, params.seed)
        estimator.fit(x, y)
        size = export.mpy_size(export.to_python(estimator, chosen.spec))
        if size <= budget:
            return chosen, estimator, x
        progress(f"{chosen.candidate.key}: final fit is {size} B, over budget; next candidate")
    raise ValueError("no candidate's final fit stays within the .mpy budget")


def refit_all(
    selected: CandidateResult,
    evaluated,
    evaluated_x,
    streams: list[Stream],
    params: TrainParams,
    classes: tuple[str, ...],
):
    """With `final_fit: all`, the exported model is the selected candidate refitted on every
    group (test included: more real events for the device) if it stays within budget; the
    metrics stay those of the evaluated fit, which never saw the test groups. Returns the
    model, the note for the metrics and the features it was trained on."""
    if params.final_fit != "all":
        return evaluated, metrics_note(False), evaluated_x
    x, y = WindowCache(streams, params, classes).get(selected.spec)
    estimator = make_estimator(selected.candidate, params.windows.class_weight, params.seed)
    estimator.fit(x, y)
    source = export.to_python(estimator, selected.spec)
    if export.mpy_size(source) > params.budgets.model_mpy_bytes:
        return evaluated, metrics_note(False), evaluated_x
    return estimator, metrics_note(True), x


def metrics_note(all_groups: bool) -> str:
    return "all groups (same settings)" if all_groups else "the evaluated fit"


def export_model(
    out: Path, estimator, spec: WindowSpec, postprocess: dict, metrics: dict, info: dict,
    vectors_from: np.ndarray, params: TrainParams, train_x: np.ndarray,
    vocabulary: tuple[str, ...],
) -> Manifest:  # fmt: skip
    """The model folder: model.py, model.mpy, vectors.json, manifest.json. The integer
    model's splits are checked against scikit-learn's on the training and test features."""
    classes = [vocabulary[i] for i in estimator.classes_]  # the order m2cgen's score() returns
    if classes[0] != "idle" or len(classes) < 2:
        raise ValueError(f"training data needs idle and gesture windows, got classes {classes}")
    if classes != list(vocabulary):
        missing = sorted(set(vocabulary) - set(classes))
        raise ValueError(f"no training windows of {missing}: too few or too short examples")
    out.mkdir(parents=True, exist_ok=True)
    model = export.IntegerModel(estimator)
    for x in (train_x, vectors_from):
        export.check_decisions(model, x)
    source = export.to_python(estimator, spec)
    (out / MODEL_SOURCE).write_text(source)
    export.compile_mpy(source, out / MODEL_MPY)
    vectors = export.test_vectors(model, vectors_from, params.vectors, params.seed)
    export.write_vectors(out / VECTORS_FILE, vectors)
    files = {name: FileInfo(**export.file_info(out / name)) for name in (MODEL_SOURCE, MODEL_MPY)}
    version, created = make_version(files[MODEL_SOURCE].sha256)
    manifest = Manifest(
        version=version, created=created, rate_hz=spec.rate_hz, decimation=spec.decimation,
        window=spec.window, hop=spec.hop, signals=list(spec.signals), features=spec.features,
        classes=classes, score_scale=model.scale, files=files,
        postprocess=PostProcess(
            **postprocess, threshold_votes=votes_threshold(postprocess["threshold"], model.scale)
        ),
        metrics=metrics, estimator=info,
    )  # fmt: skip
    write_manifest(out, manifest)
    return manifest


def _describe(stream: Stream) -> dict:
    """A group in the intermediate layer: where it came from, how long, which events."""
    return {
        "name": stream.name,
        "group": stream.group,
        "duration_ms": stream.duration_ms,
        "events": [[e.start_ms, e.end_ms, e.gesture] for e in stream.events],
        "ignore": stream.ignore,
    }


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def train(
    data: Path,
    out: Path,
    grid: str = "default",
    params: TrainParams | None = None,
    layers: Path | None = None,
    progress: Progress = lambda msg: None,
) -> TrainResult:
    """Train on `data` (seed-imu folder or labelled recordings) and write the model folder."""
    started = time.perf_counter()
    params = params or load_params()
    candidates = params.grid(grid)
    out = Path(out)
    layers = Path(layers) if layers else out.with_name(out.name + "-layers")
    streams, source = load_streams(data, params)
    _write_json(layers / "01_raw" / "source.json", source | {"data": str(data)})
    _write_json(layers / "02_intermediate" / "groups.json", [_describe(s) for s in streams])
    classes = classes_of(streams)
    progress(
        f"loaded {len(streams)} groups, {sum(len(s.events) for s in streams)} events; "
        f"classes {', '.join(classes)}"
    )
    parts = split_streams(streams, params)
    test = parts.pop("test")
    for name, ss in {"test": test, **parts}.items():
        write_streams(layers / "03_primary" / name, ss)
    results = select(parts, candidates, params, progress, layers / "06_models" / "oof", classes)
    rows = [r.row() for r in results]
    _write_json(layers / "06_models" / "candidates.json", rows)
    dev = [s for ss in parts.values() for s in ss]
    selected, estimator, dev_x = fit_final(ranked(results), dev, params, progress, classes)
    hop_ms = 1000 // selected.spec.rate_hz * selected.spec.hop
    postprocess, oof = calibrate(
        selected.oof, list(classes), params.calibration.model_dump(), hop_ms, params.tolerance_ms
    )
    progress(f"selected {selected.candidate.key}; debouncer {postprocess}")
    test_scored = score_streams(estimator, test, selected.spec, classes)
    test_score = evaluate(test_scored, list(classes), postprocess, params.tolerance_ms)
    progress(f"held-out test: event F1 {test_score.f1:.3f}, {test_score.tp} found")
    metrics = {
        "test": test_score.as_dict(),
        "out_of_fold": oof.as_dict(),
        "tolerance_ms": params.tolerance_ms,
        "test_events": test_score.tp + test_score.fn,
        "source": source["kind"],
        "evaluated_fit": "all groups but the test groups",
    }
    evaluated = estimator
    estimator, metrics["exported_fit"], train_x = refit_all(
        selected, estimator, dev_x, dev + test, params, classes
    )
    (layers / "06_models" / "estimator.pkl").write_bytes(pickle.dumps(estimator))
    info = selected.candidate.model_dump() | {"grid": grid, "sklearn": type(estimator).__name__}
    vectors_from = np.concatenate([_features(s, selected.spec) for s in test_scored])
    metrics["train_s"] = round(time.perf_counter() - started, 1)
    manifest = export_model(
        out,
        estimator,
        selected.spec,
        postprocess,
        metrics,
        info,
        vectors_from,
        params,
        train_x,
        classes,
    )
    _write_json(layers / "08_reporting" / "metrics.json", metrics | {"candidates": rows})
    write_report(out, manifest, test_scored, test_score, rows, source.get("notes", ()))
    progress(f"wrote {out} ({manifest.files[MODEL_MPY].bytes} B .mpy) in {metrics['train_s']} s")
    return TrainResult(out, manifest, selected, test_score, test_scored, rows, estimator, evaluated)


def _features(scored: ScoredStream, spec: WindowSpec) -> np.ndarray:
    return features(window_counts(si_to_counts(scored.stream.samples), scored.ends, spec), spec)
