"""localcloud.stack: local names and definitions come from the deployed files."""

from __future__ import annotations

import pytest

from localcloud import stack as local_stack


def test_placeholders_are_filled_like_fn_sub_and_an_unknown_one_is_an_error():
    text = '{"A": "#{CollectProject}", "B": "#{AWS::Region}"}'
    filled = local_stack.substitute(text, {"CollectProject": "p", "AWS::Region": "r"})
    assert filled == '{"A": "p", "B": "r"}'
    with pytest.raises(ValueError, match="CollectProject"):
        local_stack.substitute(text, {"AWS::Region": "r"})


def test_serverless_names_resolve_locally_and_other_variables_are_errors():
    assert (
        local_stack.resolve("${self:custom.names.collectProject}") == "gesture-stack-local-collect"
    )
    with pytest.raises(ValueError, match="opt:region"):
        local_stack.resolve("${opt:region}")


def test_machines_come_children_first_with_their_deployed_names():
    specs = local_stack.machine_specs("dev")
    assert [s.key for s in specs][-1] == "main"
    assert {s.logical_id: s.name for s in specs} == {
        "MainStateMachine": "gesture-stack-dev-main",
        "CollectStateMachine": "gesture-stack-dev-collect",
        "RetrainStateMachine": "gesture-stack-dev-retrain",
    }
    assert all(s.definition_path.exists() for s in specs)


def test_projects_get_the_environment_of_infra_pipeline_yml():
    specs = {s.logical_id: s for s in local_stack.project_specs("bkt")}
    assert specs["CollectProject"].environment == {
        "DATA_BUCKET": "bkt",
        "STAGE": "local",
        "EVENTS_TABLE": "gesture-stack-local-events",
    }
    assert specs["RetrainProject"].buildspec == "buildspecs/retrain.yml"
