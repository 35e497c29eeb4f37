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


class S3Gets:
    """The GetObject requests the handlers make and how S3 answered each (200 or 304)."""

    def __init__(self):
        self.answers: list[int] = []
        wiring.s3().meta.events.register("after-call.s3.GetObject", self._seen)

    def _seen(self, http_response, **_):
        self.answers.append(http_response.status_code)


def _publish(tmp_path, version: str, classes: list[str]) -> None:
    folder = tmp_path / version
    folder.mkdir()
    (folder / "model.mpy").write_bytes(b"x")
    (folder / "manifest.json").write_text(json.dumps({"version": version, "classes": classes}))
    wiring.models().publish(folder)


def test_a_warm_lambda_accepts_a_gesture_the_moment_it_is_published(aws, lambda_context, tmp_path):
    assert ingest.handler(with_gesture("circle"), lambda_context)["statusCode"] == 200  # warm
    assert ingest.handler(with_gesture("shake"), lambda_context)["statusCode"] == 400
    _publish(tmp_path, "20260101000000-00000000", ["idle", "shake"])
    # the same warm Lambda, no wait: publication changed the vocabulary's ETag
    assert ingest.handler(with_gesture("shake"), lambda_context)["statusCode"] == 200


def test_known_names_cost_no_s3_request_and_an_unknown_one_a_304(aws, lambda_context):
    assert ingest.handler(with_gesture("circle"), lambda_context)["statusCode"] == 200
    gets = S3Gets()
    for _ in range(3):
        assert ingest.handler(with_gesture("circle"), lambda_context)["statusCode"] == 200
    assert gets.answers == []  # warm and known: the cache answers
    assert ingest.handler(with_gesture("shake"), lambda_context)["statusCode"] == 400
    assert gets.answers == [304]  # unknown: one conditional GET, unchanged, no body


def test_cache_revalidates_on_a_miss_with_the_etag_it_holds():
    asked: list[str | None] = []
    published = {"etag": '"1"', "known": frozenset({"x"})}

    def read_if_changed(etag):
        asked.append(etag)
        if etag == published["etag"]:
            return None  # 304
        return published["known"], published["etag"]

    cache = VocabularyCache(read_if_changed)
    assert cache.known({"x"}) == {"x"} and cache.known({"x"}) == {"x"}
    assert asked == [None]  # read once, then the cache answers known names
    assert cache.known({"shake"}) == {"x"}
    assert asked == [None, '"1"']  # a miss: a conditional read, unchanged
    published.update(etag='"2"', known=frozenset({"x", "shake"}))
    assert cache.known({"shake"}) == {"x", "shake"}
    assert asked == [None, '"1"', '"1"']
    assert cache.known({"shake", "x"}) == {"x", "shake"} and len(asked) == 3


def test_nothing_published_then_a_release_without_a_vocabulary_file(aws, tmp_path):
    """A bucket from before models/vocabulary.json: the current release's gestures."""
    from functions import storage_layout
    from functions.settings import get_settings

    _publish(tmp_path, "20260101000000-00000000", ["idle", "shake"])
    bucket = get_settings().data_bucket
    wiring.s3().delete_object(Bucket=bucket, Key=storage_layout.VOCABULARY_KEY)
    wiring.reset()
    assert wiring.vocabulary().known({"shake"}) == {"shake"}


def _without_vocabulary_file() -> None:
    from functions import storage_layout
    from functions.settings import get_settings

    bucket = get_settings().data_bucket
    wiring.s3().delete_object(Bucket=bucket, Key=storage_layout.VOCABULARY_KEY)
    wiring.reset()  # a new warm Lambda


def test_no_vocabulary_file_reads_the_same_when_s3_denies_a_missing_key(
    aws, lambda_context, tmp_path, without_list_rights
):
    """S3 may answer 403 instead of 404 for a missing key (data_bucket.get_if_present): POST
    /events then answers exactly as with 404, before and after a release without the file."""
    from functions import storage_layout

    answers = []
    for deny in (False, True):
        _without_vocabulary_file()
        if deny:
            without_list_rights(wiring.s3())
        response = ingest.handler(with_gesture("circle"), lambda_context)
        answers.append((response["statusCode"], json.loads(response["body"])))
    assert answers[0] == answers[1] and answers[1][0] == 400  # nothing known: names the gesture
    assert storage_layout.VOCABULARY_KEY in without_list_rights.denied
    _publish(tmp_path, "20260101000000-00000000", ["idle", "circle"])
    _without_vocabulary_file()
    without_list_rights(wiring.s3())
    response = ingest.handler(with_gesture("circle"), lambda_context)
    assert response["statusCode"] == 200, response["body"]  # the current release's gestures
