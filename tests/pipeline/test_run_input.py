"""Strict pipeline input: the main machine refuses what ASL can check before it starts
anything, the jobs refuse the rest before they read or write a thing, and the cause says in
words what is wrong."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline import run_input
from pipeline.jobs.result import run_job
from pipeline.promotion import Budgets
from pipeline.run_input import InvalidInput, Training, check_execution_input, parse_training
from pipeline.training_backend import GestureTraining, defaults
from tests.pipeline.conftest import REPO
from training.params import load_params

TODAY = date(2026, 11, 20)
GRIDS = ("default", "tiny")
DEFAULTS, _ = defaults()


def check(payload, max_days=90):
    return check_execution_input(payload, TODAY, max_days, DEFAULTS, GRIDS)


# -- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"run_data_colect": True}, "unknown key 'run_data_colect' in the input"),
        ({"a": 1, "b": 2}, "unknown keys 'a', 'b' in the input"),
        ({"run_data_collect": "yes"}, "run_data_collect must be true or false, got 'yes'"),
        ({"time_from": "2026-11-01; rm -rf /"}, "time_from must be a day YYYY-MM-DD"),
        ({"time_from": 20261101}, 'time_from must be a day YYYY-MM-DD or "", got 20261101'),
        ({"time_to": "2026-02-30"}, "time_to '2026-02-30' is not a day of the calendar"),
        ({"time_to": "2026-11-01T00:00:00Z"}, "time_to must be a day"),
        ({"time_from": "2026-11-05", "time_to": "2026-11-01"}, "is after time_to 2026-11-01"),
        ({"time_to": "2026-11-21"}, "time_to 2026-11-21 is in the future (today is 2026-11-20"),
        ({"time_from": "2026-12-01"}, "time_from 2026-12-01 is in the future"),
        ({"time_from": "1990-01-01"}, "is 13473 days; a run reads at most 90 days"),
        ({"training": []}, "training must be an object"),
        ({"training": {"gird": "tiny"}}, "unknown key 'gird' in training"),
        ({"training": {"grid": "huge"}}, "training.grid 'huge' is not a grid"),
        ({"training": {"evaluation_recordings": 0}}, "evaluation_recordings is 0; it must be"),
        ({"training": {"recordings": 2.5}}, "training.recordings must be a whole number"),
        ({"training": {"seed": True}}, "training.seed must be a whole number"),
        ({"training": {"duration_s": "60"}}, "training.duration_s must be a number"),
        ({"training": {"duration_s": float("nan")}}, "training.duration_s must be a number"),
        ({"training": {"budgets": {"model_mpy_bytes": 10**12}}}, "is 1000000000000; it must"),
        ({"training": {"budgets": {"ram": 1}}}, "unknown key 'ram' in training.budgets"),
        ({"training": {"budgets": 5}}, "training.budgets must be an object"),
        ({"training": {"budgets": {"mpy_bytes": 4096}}}, "unknown key 'mpy_bytes' in training.b"),
        ({"training": {"gestures": "x"}}, "training.gestures must be a list of gesture names"),
        ({"training": {"gestures": ["Bad Name"]}}, "must be a list of gesture names"),
    ],
)
def test_each_broken_rule_is_refused_in_words(payload, words):
    with pytest.raises(InvalidInput) as refused:
        check(payload)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"run_data_collect": True, "run_data_process": False, "time_from": "", "time_to": ""},
        {"time_from": "2026-08-23", "time_to": "2026-11-20"},  # exactly 90 days, today included
        {"training": {"grid": "tiny", "seed": 3, "evaluation_recordings": 1, "duration_s": 5}},
        {"training": {"budgets": {"model_mpy_bytes": 20480}}},
    ],
)
def test_good_input_passes(payload):
    assert isinstance(check(payload), Training)


def test_the_training_is_parsed_once_into_one_typed_model_over_params_yml():
    """Defaults live in training/params.yml (its retrain section, seed and budgets), the
    budget has one name there and in the input, and what is given replaces a default."""
    params = load_params()
    assert Training(
        grid=params.retrain.grid, seed=params.seed, recordings=params.retrain.recordings,
        duration_s=params.retrain.duration_s,
        evaluation_recordings=params.retrain.evaluation_recordings,
        evaluation_duration_s=params.retrain.evaluation_duration_s,
        budgets=Budgets(model_mpy_bytes=params.budgets.model_mpy_bytes),
    ) == DEFAULTS  # fmt: skip
    assert set(run_input.BUDGET_NUMBERS) == set(type(params.budgets).model_fields)
    given = {"grid": "tiny", "seed": 3, "recordings": 2, "duration_s": 5,
             "budgets": {"model_mpy_bytes": 4096}, "gestures": ["x", "tap"]}  # fmt: skip
    parsed = GestureTraining().parse(given)
    assert (parsed.grid, parsed.seed, parsed.recordings, parsed.duration_s) == ("tiny", 3, 2, 5)
    assert parsed.budgets == Budgets(4096) and parsed.gestures == ("x", "tap")
    assert parsed.evaluation_recordings == params.retrain.evaluation_recordings
    assert parse_training({}, DEFAULTS, GRIDS) == DEFAULTS


def test_the_training_numbers_have_their_defaults_nowhere_but_params_yml():
    """A grep: the old in-code defaults (params.get("seed", 0) and the like) do not return."""
    code = (
        "\n".join(p.read_text() for p in (REPO / "pipeline").rglob("*.py"))
        + (REPO / "training/pipeline.py").read_text()
    )
    literal_default = r'\.get\("(seed|recordings|duration_s|evaluation_recordings|grid)",\s*["\d]'
    assert not re.findall(literal_default, code)
    budget_by_another_name = r"budgets\W+(?!model_mpy_bytes)\w*mpy_bytes"
    assert not re.findall(
        budget_by_another_name, code + (REPO / "training").joinpath("selection.py").read_text()
    )
    assert "mpy_bytes:" not in (REPO / "training/params.yml").read_text().replace(
        "model_mpy_bytes:", ""
    )


def test_the_range_bound_is_a_setting():
    with pytest.raises(InvalidInput, match="at most 7 days"):
        check({"time_from": "2026-11-01", "time_to": "2026-11-10"}, max_days=7)
    assert run_input.check_range(None, None, TODAY, 31) == (date(2026, 10, 21), TODAY)
    with pytest.raises(InvalidInput, match="at most 30 days"):  # the default lookback is 31
        run_input.check_range(None, None, TODAY, 30)


# -- the main machine (moto's Step Functions interpreter on the real ASL) -----------------


MAIN_REFUSES = [
    (
        {"run_data_colect": True, "run_data_process": True},
        'unknown key in the input {"run_data_colect":true',
    ),
    ({"run_data_collect": "yes", "run_data_process": False}, 'must be true or false, got "yes"'),
    ({"run_data_collect": True, "time_from": "2026-11-01; rm -rf /"}, "time_from must be a day"),
    ({"run_data_collect": True, "time_from": 20261101}, "got 20261101"),
    (
        {"run_data_collect": True, "time_to": "2026-02-30"},
        'time_to must be a day YYYY-MM-DD or "", got "2026-02-30"',
    ),
    (
        {"run_data_collect": True, "time_from": "2026-11-05", "time_to": "2026-11-01"},
        "time_from 2026-11-05 is after time_to 2026-11-01",
    ),
    ({"run_data_process": True, "training": [1]}, "training must be an object, got [1]"),
    ({"run_data_process": True, "training": "fast"}, 'training must be an object, got "fast"'),
]


def test_the_main_machine_refuses_bad_input_before_it_starts_anything(local_pipeline):
    builds = []
    with local_pipeline(run_build=lambda *a: builds.append(a)) as p:
        results = [p.run(payload) for payload, _ in MAIN_REFUSES]
        children = [
            p.sfn.list_executions(stateMachineArn=p.machine_arn(k))["executions"]
            for k in ("collect", "retrain")
        ]
    for (payload, words), result in zip(MAIN_REFUSES, results, strict=True):
        assert (result.status, result.error) == ("FAILED", "Pipeline.InvalidInput"), payload
        assert words in result.cause, (payload, result.cause)
    assert builds == [] and children == [[], []]


def test_the_machine_knows_the_same_keys_as_the_rules():
    """The ASL cannot import pipeline/run_input.py: this pins its copy of the key names."""
    main = json.loads((REPO / "statemachines/main.asl.json").read_text())["States"]
    assert tuple(main["Apply defaults"]["Parameters"]["defaults"]) == run_input.INPUT_KEYS
    (count_rule,) = main["Only known keys?"]["Choices"]
    assert count_rule["NumericEquals"] == len(run_input.INPUT_KEYS)
    assert ", ".join(run_input.INPUT_KEYS) in main["Unknown key"]["Parameters"]["cause.$"]


# -- the jobs (real buildspec processes): what ASL cannot check -----------------------------


def future_day() -> str:
    return (datetime.now(UTC).date() + timedelta(days=2)).isoformat()


JOBS_REFUSE = [
    ({"run_data_collect": True, "time_to": "FUTURE"}, "collect: time_to", "is in the future"),
    (
        {"run_data_collect": True, "time_from": "1990-01-01"},
        "collect: time_from 1990-01-01",
        "a run reads at most 90 days",
    ),
    (
        {"run_data_collect": True, "training": {"evaluation_recordings": 0}},
        "collect: training.evaluation_recordings is 0",
        "from 1 to 50",
    ),
    (
        {"run_data_process": True, "training": {"evaluation_recordings": 0}},
        "retrain: training.evaluation_recordings is 0",
        "from 1 to 50",
    ),
    (
        {"run_data_process": True, "training": {"budgets": {"model_mpy_bytes": 10**12}}},
        "retrain: training.budgets.model_mpy_bytes is 1000000000000",
        "from 1024 to 262144",
    ),
    (
        {"run_data_process": True, "training": {"seed": 1.5}},
        "retrain: training.seed must be a whole number",
        "1.5",
    ),
]


def test_the_jobs_refuse_the_rest_in_words_without_a_retry_or_any_output(local_pipeline):
    defaults = {"run_data_collect": False, "run_data_process": False}
    with local_pipeline() as p:
        results = []
        for payload, _, _ in JOBS_REFUSE:
            given = {k: future_day() if v == "FUTURE" else v for k, v in payload.items()}
            results.append(p.run({**defaults, **given}))
        written = [k["Key"] for k in p.s3.list_objects_v2(Bucket=p.bucket).get("Contents", [])]
    for (payload, *words), result in zip(JOBS_REFUSE, results, strict=True):
        assert (result.status, result.error) == ("FAILED", "Pipeline.InvalidInput"), payload
        assert all(w in result.cause for w in words), (payload, result.cause)
        job = "retrain" if payload.get("run_data_process") else "collect"
        assert [s for m, s in result.states if m == job][-1] == "Job failed"
        builds = [s for m, s in result.states if m == job and s.endswith("promote")]
        assert len(builds) <= 1, "a rejected input is not retried"
    assert not [k for k in written if k.startswith(("runs/", "models/"))], written


def test_a_job_given_a_broken_input_variable_reports_it(tmp_path, capsys):
    env = {"DATA_BUCKET": "b", "RUN_ID": "r1", "WORK_ROOT": str(tmp_path), "TIME_FROM": "x"}
    assert run_job("collect", lambda settings: pytest.fail("must not run"), env) == 0
    result = json.loads((tmp_path / "r1" / "collect" / "result.json").read_text())
    assert result == {
        "error": "Pipeline.InvalidInput",
        "cause": "collect: time_from must be a day YYYY-MM-DD or \"\", got 'x'",
    }
    assert run_job("collect", lambda s: {}, {"RUN_ID": "r1"}) == 2  # the stack's fault


@pytest.mark.parametrize(
    "section, name, value",
    [("retrain", "recordings", 500), ("budgets", "model_mpy_bytes", 512), ("retrain", "grid", "x")],
)
def test_params_yml_defaults_are_held_to_the_inputs_bounds(section, name, value):
    """A default the execution input could not give (out of run_input's bounds) is refused
    where the defaults are read, naming params.yml."""
    params = load_params()
    broken = params.model_copy(
        update={section: getattr(params, section).model_copy(update={name: value})}
    )
    with pytest.raises(ValueError, match=f"params.yml.*{name}"):
        defaults(broken)
