"""Fills the moto 5.2.5 Step Functions gaps the pipeline's state machines hit, nothing more.

moto ships LocalStack's ASL interpreter (`mock_aws(config={"stepfunctions":
{"execute_state_machine": True}})`), but in 5.2.5:

- `states:startExecution` (every pattern) passes the ASL's PascalCase parameters to boto3
  unchanged (`KeyError 'StateMachineArn'`), never maps responses back to the PascalCase
  shape Step Functions returns (`ExecutionArn`, `Output`, `Error`, `Cause`), names an
  unnamed child execution "None" (so a second one clashes), and leaves datetimes in the
  output, which then cannot be serialised;
- `codebuild:startBuild` supports only `.waitForTaskToken`, not `.sync`.

`patched_moto(run_build)` swaps in two task services that do what AWS does: botocore-shape
request/response normalisation for `states`, and `codebuild:startBuild.sync` that records the
build in moto's CodeBuild, runs it with `run_build` (the local buildspec runner) and ends the
task with the build, or `States.TaskFailed` with the build as the cause. Two local speed-ups:
Retry waits are scaled (0 = retry at once) and a parent checks its child every 50 ms instead
of 0.5 s. It refuses any other moto version: these are private classes, so a moto upgrade
must re-check this file (tests/localcloud/test_moto_adapter.py shows whether a gap remains).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from unittest import mock

import moto
from botocore.exceptions import ClientError
from botocore.session import get_session
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory import (  # noqa: E501
    state_task_service_for,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E501
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

MOTO_VERSION = "5.2.5"


@dataclass
class BuildResult:
    """How a local CodeBuild build ended: status as CodeBuild reports it, exported variables."""

    status: str
    exported: dict[str, str] = field(default_factory=dict)


# (project name, environment overrides {name: value}) -> BuildResult
RunBuild = Callable[[str, dict[str, str]], BuildResult]

_run_build: RunBuild | None = None


def _shape(service: str, operation: str, direction: str):
    model = get_session().get_service_model(service)
    op = model.operation_model(model.operation_names[_operation_index(model, operation)])
    return op.input_shape if direction == "input" else op.output_shape


def _operation_index(model, snake_name: str) -> int:
    wanted = snake_name.replace("_", "").lower()
    for i, name in enumerate(model.operation_names):
        if name.lower() == wanted:
            return i
    raise KeyError(snake_name)


class SfnService(StateTaskServiceSfn):
    """`arn:aws:states:::states:*` with the request/response casing AWS uses."""

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        super()._normalise_parameters(parameters, boto_service_name, service_action_name)
        action = self._get_boto_service_action(service_action_name)
        self._to_boto_request(parameters, _shape("stepfunctions", action, "input"))
        if action == "start_execution" and not parameters.get("name"):
            parameters["name"] = str(uuid.uuid4())  # AWS names unnamed executions; moto uses None

    def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
        action = self._get_boto_service_action(service_action_name)
        self._from_boto_response(response, _shape("stepfunctions", action, "output"))
        _timestamps_to_text(response)


class CodeBuildService(StateTaskServiceCallback):
    """`arn:aws:states:::codebuild:startBuild.sync`: the build runs locally, synchronously."""

    def __init__(self):
        super().__init__(supported_integration_patterns={ResourceCondition.Sync})

    def _get_supported_parameters(self):
        if self.resource.api_action.lower() != "startbuild":
            return None
        # Step Functions takes the API's members in PascalCase and drops any other key.
        return {m[0].upper() + m[1:] for m in _shape("codebuild", "start_build", "input").members}

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        self._to_boto_request(parameters, _shape("codebuild", "start_build", "input"))

    def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
        self._from_boto_response(response, _shape("codebuild", "start_build", "output"))
        _timestamps_to_text(response)

    def _from_error(self, env, ex):
        if isinstance(ex, ClientError):
            name = f"CodeBuild.{ex.response['Error']['Code']}"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(name),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=name,
                        cause=ex.response["Error"].get("Message", ""),
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        client = boto_client_for(
            region=resource_runtime_part.region, service="codebuild", state_credentials=None
        )
        response = client.start_build(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(response)

    def _eval_integration_pattern(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        # `.sync`: run the build to its end, then end the task as AWS does. (moto's version
        # expects a .waitForTaskToken endpoint, which CodeBuild does not have.) The state's
        # TimeoutSeconds, Retry and Catch apply around this call as for any task.
        if _run_build is None:
            raise RuntimeError("no local build runner: use localcloud.moto_adapter.patched_moto")
        build = dict(env.stack.pop()["Build"])
        overrides = {
            item["name"]: item.get("value", "")
            for item in normalised_parameters.get("environmentVariablesOverride", [])
        }
        result = _run_build(build["ProjectName"], overrides)
        build.update(
            BuildStatus=result.status,
            BuildComplete=True,
            CurrentPhase="COMPLETED",
            ExportedEnvironmentVariables=[
                {"Name": k, "Value": v} for k, v in result.exported.items()
            ],
        )
        if result.status != "SUCCEEDED":
            raise FailureEventException(_task_failed(env, self, to_json_str(build)))
        env.stack.append({"Build": build})


def _timestamps_to_text(value):
    """Task output is JSON: boto3's datetimes become ISO text in place (moto keeps objects)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, datetime):
            value[key] = item.isoformat()
        elif isinstance(item, dict | list):
            _timestamps_to_text(item)


def _task_failed(env, service, cause: str) -> FailureEvent:
    return FailureEvent(
        env=env,
        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(
            taskFailedEventDetails=TaskFailedEventDetails(
                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                cause=cause,
                resource=service._get_sfn_resource(),
                resourceType=service._get_sfn_resource_type(),
            )
        ),
    )


def _service_for(service_name: str):
    if service_name == "states":
        return SfnService()
    if service_name == "codebuild":
        return CodeBuildService()
    return state_task_service_for(service_name)


class _ScaledSleep:
    """Retry waits, scaled (0 in tests): `time.sleep` as the retrier module sees it."""

    def __init__(self, scale: float):
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)


@contextlib.contextmanager
def patched_moto(run_build: RunBuild, retry_delay_scale: float = 1.0) -> Iterator[None]:
    """Within this block, moto's interpreter runs `states` and `codebuild` tasks as AWS does."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"localcloud.moto_adapter is written for moto {MOTO_VERSION}, found {moto.__version__}:"
            " re-check the gaps it fills before changing MOTO_VERSION"
        )
    global _run_build
    previous, _run_build = _run_build, run_build
    try:
        with (
            mock.patch.object(state_task_factory, "state_task_service_for", _service_for),
            mock.patch.object(retrier_decl, "time", _ScaledSleep(retry_delay_scale)),
            # a waiting parent checks its synchronous child every 0.5 s; locally 50 ms will do
            mock.patch.object(
                state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.05
            ),
        ):
            yield
    finally:
        _run_build = previous
