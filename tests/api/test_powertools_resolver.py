"""The Powertools-resolver variant the resolver benchmark times does the same job as ours."""

import json

from api_helpers import sample

from benchmarks import api_powertools_handler
from functions import ingest


def test_the_benchmarked_powertools_route_answers_as_ours_does(aws, lambda_context):
    event = sample("ingest/valid")
    ingest.handler(event, lambda_context)
    ours = ingest.handler(event, lambda_context)  # a retry: its answer names the duplicates
    theirs = api_powertools_handler.handler(event, lambda_context)  # another retry
    assert theirs["statusCode"] == ours["statusCode"] == 200
    assert json.loads(theirs["body"]) == json.loads(ours["body"])
    assert len(json.loads(ours["body"])["duplicates"]) == 3
