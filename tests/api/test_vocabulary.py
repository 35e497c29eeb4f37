"""The fleet's vocabulary: POST /events accepts the gestures of published models, 400 for any
other; POST /samples accepts new names for capture; a warm Lambda rereads it on a miss."""

import json

from api_helpers import sample

from functions import ingest, samples, wiring
from functions.adapters.data_bucket import VocabularyCache
from functions.domain import vocabulary
from functions.models.common import GESTURE_NAME_PATTERN
from training.recordings import GESTURE_NAME


def with_gesture(name: str, path: str = "ingest/valid") -> dict:
    event = sample(path)
    body = json.loads(event["body"])
    for e in body.get("events", []):
        e["gesture"] = name
    if "label" in body:
        body["label"] = name
    event["body"] = json.dumps(body)
    return event


def test_the_api_and_training_allow_the_same_names():
    from benchmarks import api_bare_handler

    assert GESTURE_NAME_PATTERN == GESTURE_NAME == api_bare_handler.GESTURE_NAME


def test_unknown_gesture_is_a_400_that_names_it(aws, lambda_context):
    response = ingest.handler(with_gesture("shake"), lambda_context)
    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert "'shake'" in body["message"] and body["field"] == "events[0].gesture"
    assert "circle" in body["message"]  # says what the fleet knows
    assert [e["index"] for e in body["errors"]] == list(range(len(body["errors"])))  # each one
    assert len(body["errors"]) == len(json.loads(with_gesture("shake")["body"])["events"])


def test_a_published_release_adds_its_gestures(aws, lambda_context, tmp_path):
    assert ingest.handler(with_gesture("shake"), lambda_context)["statusCode"] == 400
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("model.py", "model.mpy"):
        (folder / name).write_bytes(b"x")
    manifest = {"version": "20260101000000-00000000", "classes": ["idle", "shake", "x"]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    wiring.models().publish(folder)
    wiring.vocabulary.cache_clear()  # a new warm Lambda; the refresh-on-miss is tested below
    assert ingest.handler(with_gesture("shake"), lambda_context)["statusCode"] == 200
    # older releases' gestures stay accepted: devices may still run them
    assert ingest.handler(with_gesture("circle"), lambda_context)["statusCode"] == 200


def test_nothing_published_knows_no_gesture(lambda_context):
    from localcloud.aws import local_aws

    with local_aws():
        assert wiring.models().vocabulary() == frozenset()


def test_samples_accept_a_name_no_model_knows(aws, lambda_context):
    response = samples.handler(with_gesture("shake", "samples/valid"), lambda_context)
    assert response["statusCode"] == 200, response["body"]
    for bad in ("Shake", "1shake", "a" * 33, "sh ake"):
        assert (
            samples.handler(with_gesture(bad, "samples/valid"), lambda_context)["statusCode"] == 400
        ), bad


def test_merged_vocabulary_only_grows():
    doc = vocabulary.merged(None, "v1", ["idle", "x", "y"])
    doc = vocabulary.merged(doc, "v2", ["idle", "shake"])
    assert doc["gestures"] == ["shake", "x", "y"]
    assert doc["versions"] == {"v1": ["x", "y"], "v2": ["shake"]}


def test_cache_reads_once_and_again_on_a_miss_at_most_every_refresh():
    reads, now = [], [0.0]
    known = [frozenset({"x"})]

    def read():
        reads.append(now[0])
        return known[0]

    cache = VocabularyCache(read, refresh_s=10, clock=lambda: now[0])
    assert cache.known({"x"}) == {"x"} and cache.known({"x"}) == {"x"}
    assert len(reads) == 1  # warm: no second read
    known[0] = frozenset({"x", "shake"})
    now[0] = 5.0
    assert cache.known({"shake"}) == {"x"}  # a miss within refresh_s: no reread
    now[0] = 10.0
    assert cache.known({"shake"}) == {"x", "shake"}
    assert reads == [0.0, 10.0]
