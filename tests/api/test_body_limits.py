"""Bodies every POST route shares: duplicate JSON keys are refused, the size limit is bytes."""

import base64
import json

import pytest
from api_helpers import all_items, body, sample, with_body

from functions import ingest, samples, telemetry
from functions.settings import get_settings

ROUTES = [(ingest, "ingest/valid"), (telemetry, "telemetry/valid"), (samples, "samples/valid")]


def raw(name: str) -> str:
    return sample(name)["body"]


def duplicated_top_key(text: str) -> tuple[str, str]:
    """The body with its first key written twice (the copy last, with the same value)."""
    obj = json.loads(text)
    key = next(iter(obj))
    return key, text.rstrip()[:-1] + f', "{key}": {json.dumps(obj[key])}}}'


@pytest.mark.parametrize(("handler", "name"), ROUTES)
def test_a_duplicate_top_level_key_is_a_400_naming_it_on_every_route(
    aws, lambda_context, handler, name
):
    key, text = duplicated_top_key(raw(name))
    response = handler.handler(with_body(sample(name), text), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == key
    assert f"duplicate key '{key}'" in body(response)["message"]


def test_a_duplicate_key_inside_an_event_is_refused_and_nothing_is_stored(aws, lambda_context):
    event = json.loads(raw("ingest/valid"))["events"][0]
    inner = json.dumps(event)[:-1] + ', "gesture": "x"}'
    text = '{"events": [' + inner + "]}"
    response = ingest.handler(with_body(sample("ingest/valid"), text), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "gesture"
    assert all_items(get_settings().events_table) == []


def test_equal_keys_in_different_objects_are_fine(aws, lambda_context):
    response = ingest.handler(sample("ingest/valid"), lambda_context)  # every event has "seq"
    assert response["statusCode"] == 200


def padded(name: str, total_bytes: int, char: str) -> str:
    """A valid body of that name padded with `char` (JSON whitespace is not; a string is)."""
    text = raw(name)
    obj_text = text.rstrip()[:-1]
    pad_bytes = total_bytes - len((obj_text + ', "pad": ""}').encode())
    return obj_text + ', "pad": "' + char * (pad_bytes // len(char.encode())) + '"}'


def test_the_limit_counts_bytes_not_characters(aws, lambda_context):
    """300 KB of UTF-8 in fewer than 256 Ki characters: 413, before the body is parsed."""
    text = padded("ingest/valid", 300 * 1024, "é")
    assert len(text) < get_settings().max_body_bytes < len(text.encode())
    response = ingest.handler(with_body(sample("ingest/valid"), text), lambda_context)
    assert response["statusCode"] == 413
    assert body(response)["field"] == "body"
    assert str(len(text.encode())) in body(response)["message"]


def test_a_base64_body_is_measured_decoded(aws, lambda_context):
    limit = get_settings().max_body_bytes
    event = sample("ingest/valid")
    event["isBase64Encoded"] = True
    event["body"] = base64.b64encode(b" " * (limit - 10)).decode()  # base64 text is > limit
    assert len(event["body"]) > limit
    assert ingest.handler(event, lambda_context)["statusCode"] == 400  # not JSON, not too large
    event["body"] = base64.b64encode(b" " * (limit + 1)).decode()
    assert ingest.handler(event, lambda_context)["statusCode"] == 413


def test_a_body_of_exactly_the_limit_in_bytes_is_not_too_large(aws, lambda_context):
    text = padded("ingest/valid", get_settings().max_body_bytes, "a")
    assert len(text.encode()) == get_settings().max_body_bytes
    response = ingest.handler(with_body(sample("ingest/valid"), text), lambda_context)
    assert response["statusCode"] == 400  # "pad" is not a field of the contract
    assert body(response)["field"] == "pad"
