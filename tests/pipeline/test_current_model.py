"""Promotion is compare-and-swap on models/current.json: concurrent retrains never promote a
worse model over a better one, and exactly the runs that changed the pointer say `promoted`."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import moto
import pytest
from moto import mock_aws

from functions import storage_layout
from localcloud.moto_conditional_writes import MOTO_VERSION, atomic_conditional_writes
from pipeline.current_model import KEPT, PROMOTED, SUPERSEDED, ModelPointer, Seen, promote
from pipeline.jobs.retrain import retrain
from pipeline.promotion import Decision
from pipeline.settings import JobSettings
from tests.pipeline.fake_training import V1, V2, V3, VA, VB, FakeTraining
from tests.pipeline.test_pipeline_runs import entered

REGION = "eu-west-1"


@pytest.fixture
def s3():
    with mock_aws(), atomic_conditional_writes():
        yield boto3.client("s3", region_name=REGION)


def new_bucket(s3, name: str) -> str:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def pointer(version: str, run_id: str = "r") -> dict:
    return {**storage_layout.current_pointer(version), "run_id": run_id}


# -- the S3 adapter ------------------------------------------------------------------------


def test_no_pointer_reads_as_none_when_s3_answers_the_missing_key_403(s3, without_list_rights):
    bucket = new_bucket(s3, "b-denied")
    store = ModelPointer(without_list_rights(s3), bucket)
    assert store.read() == Seen(None, None)
    assert without_list_rights.denied == [storage_layout.CURRENT_MODEL_KEY]
    assert store.swap(store.read(), pointer(V1))
    assert store.read().version == V1


def test_swap_succeeds_only_against_the_pointer_it_read(s3):
    bucket = new_bucket(s3, "b-swap")
    store = ModelPointer(s3, bucket)
    empty = store.read()
    assert empty == Seen(None, None)
    assert store.swap(empty, pointer(V1))
    assert not store.swap(empty, pointer(V2)), "If-None-Match: * must refuse an existing one"
    seen = store.read()
    assert seen.version == V1 and seen.etag
    assert store.swap(seen, pointer(V2))
    assert not store.swap(seen, pointer(V3)), "a stale ETag must not win"
    assert store.read().version == V2


def test_identical_pointer_bodies_from_two_runs_still_differ(s3):
    """No A-B-A: the job writes the run id and time into every pointer, so ETags differ."""
    bucket = new_bucket(s3, "b-aba")
    store = ModelPointer(s3, bucket)
    store.swap(store.read(), pointer(V1, "run-a"))
    first = store.read()
    store.swap(first, pointer(V2, "run-b"))
    store.swap(store.read(), pointer(V1, "run-c"))
    assert not store.swap(first, pointer("v9", "late")), "v1 again is not the v1 it read"


# -- the mechanism, with a scripted pointer -------------------------------------------------


class ScriptedPointer:
    """A pointer where other runs write between this run's read and swap, as scripted."""

    def __init__(self, start: str | None, others: list[str]):
        self.version, self.etag, self.others = start, 0, list(others)
        self.writes: list[str] = []

    def read(self) -> Seen:
        return Seen(self.version and {"version": self.version}, str(self.etag))

    def swap(self, seen: Seen, new: dict) -> bool:
        if self.others:  # another run got there first
            self.version, self.etag = self.others.pop(0), self.etag + 1
        if seen.etag != str(self.etag):
            return False
        self.version, self.etag = new["version"], self.etag + 1
        self.writes.append(new["version"])
        return True


SCORES = {V1: 0.5, V2: 0.7, V3: 0.9, "cand": 0.8}


def gate(current: float | None) -> Decision:
    better = current is None or SCORES["cand"] > current
    return Decision(better, f"cand {SCORES['cand']} vs {current}")


def run_promote(p, attempts=3, published=None):
    published = published if published is not None else []
    return promote(
        p,
        lambda seen: SCORES[seen.version] if seen.version else None,
        gate,
        lambda: published.append(1) or {"version": "cand"},
        attempts,
    )


def test_a_lost_race_scores_again_against_the_new_current_and_promotes_if_still_better():
    p, published = ScriptedPointer(V1, [V2]), []
    end = run_promote(p, published=published)
    assert end.outcome == PROMOTED and end.attempts == 2 and end.changed_by_others == (V2,)
    assert p.version == "cand" and p.writes == ["cand"]
    assert published == [1], "the model files are uploaded once, whatever the retries"


def test_a_lost_race_against_a_better_model_ends_superseded_and_says_why():
    p = ScriptedPointer(V1, [V3])
    end = run_promote(p)
    assert end.outcome == SUPERSEDED and not end.promoted
    assert p.version == V3 and p.writes == []
    assert f"another run changed models/current.json (to {V3})" in end.reason
    assert "cand 0.8 vs 0.9" in end.reason


def test_retries_are_bounded_then_the_run_ends_superseded():
    p = ScriptedPointer(V1, [V1, V2, V1, V2])
    end = run_promote(p, attempts=3)
    assert end.outcome == SUPERSEDED and end.attempts == 3 and p.writes == []
    assert "3 times" in end.reason


def test_no_race_no_change_of_behaviour():
    assert run_promote(ScriptedPointer(V1, [])).outcome == PROMOTED
    assert run_promote(ScriptedPointer(None, [])).outcome == PROMOTED
    kept = run_promote(ScriptedPointer(V3, []))
    assert kept.outcome == KEPT and kept.reason == "cand 0.8 vs 0.9"


# -- moto: the gap the adapter closes -------------------------------------------------------


def slow_conditional_puts_both_succeed(patched: bool) -> int:
    """Two threads PutObject with If-Match on the same ETag while moto's check is slowed down;
    how many succeed."""
    from moto.s3.models import S3Backend

    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        bucket = new_bucket(client, "b-gap")
        etag = client.put_object(Bucket=bucket, Key="k", Body=b"0")["ETag"]
        original = S3Backend.get_object

        def slow_get(self, *args, **kwargs):
            found = original(self, *args, **kwargs)
            time.sleep(0.2)  # the window between the If-Match check and the write
            return found

        barrier = threading.Barrier(2)

        def put(body: bytes) -> bool:
            barrier.wait()
            try:
                client.put_object(Bucket=bucket, Key="k", Body=body, IfMatch=etag)
                return True
            except client.exceptions.ClientError:
                return False

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(S3Backend, "get_object", slow_get)
            guard = atomic_conditional_writes() if patched else _nothing()
            with guard, ThreadPoolExecutor(2) as pool:
                return sum(pool.map(put, [b"a", b"b"]))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_moto_conditional_puts_are_not_atomic_without_the_adapter_and_are_with_it():
    """If this fails on the first assert, moto fixed the gap: drop the adapter."""
    assert moto.__version__ == MOTO_VERSION
    assert slow_conditional_puts_both_succeed(patched=False) == 2
    assert slow_conditional_puts_both_succeed(patched=True) == 1


def test_the_adapter_refuses_another_moto_version(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match="written for moto"), atomic_conditional_writes():
        pass


# -- the race, many times: real retrain jobs in threads on moto -----------------------------


def settings(tmp_path, bucket: str, run_id: str, score: float, delay: float) -> JobSettings:
    fake = {"score": score, "score_delay_s": delay}
    return JobSettings(
        bucket=bucket,
        run_id=run_id,
        stage="test",
        work_dir=tmp_path / bucket / run_id,
        training={"fake": fake},
    )


def pointer_history(s3, bucket: str) -> list[dict]:
    """Every body models/current.json had, oldest first (the bucket is versioned)."""
    versions = s3.list_object_versions(Bucket=bucket, Prefix=storage_layout.CURRENT_MODEL_KEY)
    found = versions.get("Versions", [])[::-1]  # S3 lists a key's versions newest first
    bodies = []
    for v in found:
        got = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        bodies.append(json.loads(got["Body"].read()))
    return bodies


def test_two_retrains_at_once_many_times_the_best_ends_current_and_only_changers_say_promoted(
    s3, tmp_path
):
    rng = random.Random(11)
    outcomes = set()
    for i in range(25):
        bucket = new_bucket(s3, f"race-{i}")
        start = retrain(settings(tmp_path, bucket, "seed", 0.5, 0), s3, FakeTraining())
        assert start["promoted"]
        scores = rng.sample([0.3, 0.55, 0.6, 0.7, 0.8, 0.9], 2)
        delays = [rng.uniform(0, 0.03) for _ in scores]
        runs = [
            settings(tmp_path, bucket, f"r{j}", s, d)
            for j, (s, d) in enumerate(zip(scores, delays, strict=True))
        ]
        barrier = threading.Barrier(len(runs))

        def go(run: JobSettings, barrier=barrier):
            barrier.wait()
            return retrain(run, s3, FakeTraining())

        with ThreadPoolExecutor(len(runs)) as pool:
            results = list(pool.map(go, runs))

        by_score = dict(zip(scores, results, strict=True))
        best = max([0.5, *scores])
        final = ModelPointer(s3, bucket).read().pointer
        winner_version = (
            start["candidate_version"] if best == 0.5 else by_score[best]["candidate_version"]
        )
        assert final["version"] == winner_version, (scores, results)
        changers = {b["run_id"] for b in pointer_history(s3, bucket)} - {"seed"}
        said_promoted = {r["run_id"] for r in results if r["promoted"]}
        assert said_promoted == changers, (scores, results)
        for r in results:
            assert r["outcome"] in (PROMOTED, KEPT, SUPERSEDED)
            assert (r["outcome"] == PROMOTED) == r["promoted"]
            outcomes.add(r["outcome"])
    assert SUPERSEDED in outcomes, "the race never happened: the test would prove nothing"


# -- the race through the real state machines (moto Step Functions, jobs as processes) ------


def test_two_main_executions_at_once_on_the_local_stack(local_pipeline):
    """Both retrain builds score against v1 at the same time (each scoring takes 0.4 s); the
    better one ends current, the other says superseded or kept and was not promoted."""
    retrain_only = {"run_data_collect": False, "run_data_process": True}
    runs = {"race-a": (VA, 0.9), "race-b": (VB, 0.7)}
    with local_pipeline() as p:
        seed = p.run({**retrain_only, "training": {"fake": {"score": 0.5, "version": V1}}})
        assert seed.status == "SUCCEEDED"
        barrier = threading.Barrier(len(runs))

        def start(name: str):
            version, score = runs[name]
            fake = {"score": score, "version": version, "score_delay_s": 0.4}
            barrier.wait()
            return p.run({**retrain_only, "training": {"fake": fake}}, name=name)

        with ThreadPoolExecutor(len(runs)) as pool:
            results = dict(zip(runs, pool.map(start, runs), strict=True))
        final = ModelPointer(p.s3, p.bucket).read().pointer
        history = pointer_history(p.s3, p.bucket)
    outs = {n: r.output["retrain"]["output"]["result"] for n, r in results.items()}
    assert final["version"] == VA
    assert history[0]["version"] == V1 and history[-1]["version"] == VA
    assert {b["run_id"] for b in history} - {
        seed.output["retrain"]["output"]["result"]["run_id"]
    } == {n for n, o in outs.items() if o["promoted"]}
    assert outs["race-a"]["promoted"] is True
    b = outs["race-b"]
    assert b["outcome"] in (SUPERSEDED, PROMOTED, KEPT)  # kept: it started after race-a ended
    assert b["promoted"] or b["current_version"] == VA
    if b["outcome"] == SUPERSEDED:
        assert entered(results["race-b"], "retrain")[-1] == "Superseded by another run"
        assert f"another run changed models/current.json (to {VA})" in b["reason"]


def test_a_publication_that_loses_the_race_changes_no_pointer(s3, tmp_path):
    """ModelStore.publish (the local tools' way) swaps by compare-and-swap too: a pointer
    changed during the upload wins, and the publication says so instead of overwriting it."""
    from functions.adapters.data_bucket import ModelStore, PublicationRaced

    bucket = new_bucket(s3, "b-publish")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.mpy").write_bytes(b"M")
    manifest = {"version": "20260101000000-0000000a", "classes": ["idle", "x"]}

    class Raced(ModelStore):
        def upload_release(self, model_dir, manifest, **note):
            body = super().upload_release(model_dir, manifest, **note)
            other = self.pointer()
            assert other.swap(other.read(), pointer("v-other", "another-run"))
            return body

    with pytest.raises(PublicationRaced, match="changed while 20260101000000-0000000a"):
        Raced(s3, bucket).publish(folder, manifest)
    assert ModelPointer(s3, bucket).read().version == "v-other"
    assert ModelStore(s3, bucket).publish(folder, manifest) == manifest["version"]
    assert ModelPointer(s3, bucket).read().pointer["promoted_at"]
