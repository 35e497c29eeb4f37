"""Publications racing on models/vocabulary.json: every release's gestures end up in it.

The vocabulary is a read-merge-write of one object; two promotions that read it at once must
not both write (the second would drop the first one's gestures, and POST /events would reject
them). The write is conditional (If-Match on the ETag read, If-None-Match: * for the first) and
retried, on moto with its conditional writes made atomic as S3's are.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from functions import storage_layout
from functions.adapters.data_bucket import ModelStore, VocabularyContention
from localcloud.moto_conditional_writes import atomic_conditional_writes
from pipeline.jobs.retrain import publisher

REGION = "eu-west-1"
BUCKET = "vocabulary-race"


@pytest.fixture
def s3():
    """moto; every GetObject answer is held back a moment, so racers read the same version."""
    with mock_aws(), atomic_conditional_writes():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        client.meta.events.register("after-call.s3.GetObject", lambda **_: time.sleep(0.2))
        yield client


def vocabulary_now(s3) -> dict:
    body = s3.get_object(Bucket=BUCKET, Key=storage_layout.VOCABULARY_KEY)["Body"].read()
    return json.loads(body)


def race(jobs) -> None:
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(run, jobs))


@pytest.mark.parametrize("existing", [False, True], ids=["first-publication", "later"])
def test_publications_at_once_keep_every_gesture(s3, existing):
    store = ModelStore(s3, BUCKET)
    if existing:
        store.add_to_vocabulary({"version": "v0", "classes": ["idle", "circle"]})
    releases = [{"version": f"v{i}", "classes": ["idle", f"g{i}"]} for i in range(1, 5)]
    race([lambda m=m: store.add_to_vocabulary(m) for m in releases])
    document = vocabulary_now(s3)
    expected = {f"g{i}" for i in range(1, 5)} | ({"circle"} if existing else set())
    assert set(document["gestures"]) == expected
    assert set(document["versions"]) >= {m["version"] for m in releases}


def test_the_pipeline_publisher_and_another_publication_at_once(s3, tmp_path):
    """The retrain job's publisher (pipeline/jobs/retrain.py) merges the same way."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    manifest = {"version": "v-pipeline", "classes": ["idle", "wave"]}
    (model_dir / storage_layout.MANIFEST_NAME).write_text(json.dumps(manifest))
    publish = publisher(SimpleNamespace(run_id="r1", bucket=BUCKET), s3, model_dir, manifest)
    store = ModelStore(s3, BUCKET)
    race([publish, lambda: store.add_to_vocabulary({"version": "v-other", "classes": ["tap"]})])
    assert set(vocabulary_now(s3)["gestures"]) == {"wave", "tap"}


def test_a_publication_that_keeps_losing_gives_up_without_writing(s3):
    store = ModelStore(s3, BUCKET)
    store.add_to_vocabulary({"version": "v0", "classes": ["circle"]})
    other = boto3.client("s3", region_name=REGION)
    sneaked = []

    def another_writer_first(**_):  # changes the object between every read and write
        sneaked.append(1)
        body = json.dumps({"schema": 1, "gestures": ["circle", f"o{len(sneaked)}"]})
        other.put_object(Bucket=BUCKET, Key=storage_layout.VOCABULARY_KEY, Body=body)

    s3.meta.events.register("before-call.s3.PutObject", another_writer_first)
    with pytest.raises(VocabularyContention, match="3 attempts"):
        store.add_to_vocabulary({"version": "v1", "classes": ["tap"]}, attempts=3)
    assert len(sneaked) == 3
    assert vocabulary_now(s3)["gestures"] == ["circle", "o3"]  # the other writer's, untouched
