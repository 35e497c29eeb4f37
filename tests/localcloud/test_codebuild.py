"""localcloud.codebuild: a buildspec's commands as one local bash process."""

from __future__ import annotations

import pytest
import yaml

from localcloud.codebuild import BuildspecError, LocalCodeBuild


def codebuild(tmp_path, phases: dict, exported=("RESULT",), **kw) -> LocalCodeBuild:
    spec = {
        "version": 0.2,
        "env": {"shell": "bash", "exported-variables": list(exported)},
        "phases": phases,
    }
    (tmp_path / "spec.yml").write_text(yaml.safe_dump(spec))
    lines = []
    cb = LocalCodeBuild(
        repo=tmp_path,
        buildspecs={"proj": "spec.yml"},
        environment={"FROM_PROJECT": "p"},
        log=lines.append,
        **kw,
    )
    cb.lines = lines
    return cb


def test_overrides_and_project_environment_reach_the_commands_and_variables_are_exported(tmp_path):
    cb = codebuild(
        tmp_path,
        {
            "install": {"commands": ["echo installing; exit 1"]},  # skipped locally
            "pre_build": {"commands": ["export PART=$RUN_ID-$FROM_PROJECT"]},
            "build": {
                "commands": ["echo building $PART", 'export RESULT="{\\"run\\": \\"$PART\\"}"']
            },
        },
    )
    result = cb("proj", {"RUN_ID": "r7"})
    assert result.status == "SUCCEEDED"
    assert result.exported == {"RESULT": '{"run": "r7-p"}'}
    assert cb.lines == ["building r7-p"]
    assert cb.builds == [{"project": "proj", "overrides": {"RUN_ID": "r7"}, "status": "SUCCEEDED"}]


def test_the_first_failing_command_fails_the_build(tmp_path):
    cb = codebuild(tmp_path, {"build": {"commands": ["false", "echo never"]}})
    assert cb("proj", {}).status == "FAILED"
    assert "never" not in cb.lines


def test_a_build_over_its_timeout_is_timed_out(tmp_path):
    cb = codebuild(tmp_path, {"build": {"commands": ["sleep 5"]}}, timeout_s=0.3)
    assert cb("proj", {}).status == "TIMED_OUT"


def test_unknown_project_or_bad_buildspec_is_a_clear_error(tmp_path):
    cb = codebuild(tmp_path, {})
    with pytest.raises(BuildspecError, match="no buildspec"):
        cb("other", {})
    (tmp_path / "spec.yml").write_text("version: 0.1\n")
    with pytest.raises(BuildspecError, match=r"version: 0\.2"):
        cb("proj", {})
