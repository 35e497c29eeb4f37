"""Run the pipeline's state machines locally: moto's Step Functions interpreter executes the
real ASL files, the adapter runs CodeBuild tasks as local buildspec processes, and each state
is printed as it runs (like the console's graph).

    with LocalPipeline() as pipeline:
        result = pipeline.run({"run_data_collect": True, "run_data_process": True})
        result.status   # "SUCCEEDED" | "FAILED"; result.output / result.error / result.cause
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import boto3

from localcloud import stack as local_stack
from localcloud.codebuild import LocalCodeBuild
from localcloud.moto_adapter import RunBuild, patched_moto
from localcloud.moto_conditional_writes import atomic_conditional_writes

# The local cloud's AWS endpoint accepts any SigV4 credentials; never send real ones there.
ENDPOINT_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_FAILURE_DETAILS = ("taskFailedEventDetails", "executionFailedEventDetails")


@dataclass
class ExecutionResult:
    status: str
    execution_arn: str
    output: dict | None = None
    error: str | None = None
    cause: str | None = None
    states: list[tuple[str, str]] = field(default_factory=list)  # (machine, state) entered


def new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"run-{stamp}-{uuid.uuid4().hex[:6]}"


def local_codebuild(
    endpoint_url: str,
    bucket: str,
    log: Callable[[str], None],
    stage: str = local_stack.LOCAL_STAGE,
    job_environment: dict[str, str] | None = None,
) -> LocalCodeBuild:
    """CodeBuild projects as local processes whose AWS is `endpoint_url`."""
    projects = local_stack.project_specs(bucket, stage)
    env = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": local_stack.REGION,
        "AWS_REGION": local_stack.REGION,
        "PYTHONUNBUFFERED": "1",
    }
    environment = {**env, **{k: v for p in projects for k, v in p.environment.items()}}
    environment.update(job_environment or {})
    return LocalCodeBuild(
        repo=local_stack.REPO,
        buildspecs={p.name: p.buildspec for p in projects},
        environment=environment,
        log=log,
    )


@contextlib.contextmanager
def create_local_pipeline(
    endpoint_url: str,
    bucket: str,
    log: Callable[[str], None] = print,
    run_build: RunBuild | None = None,
    retry_delay_scale: float = 0.0,
    stage: str = local_stack.LOCAL_STAGE,
    job_environment: dict[str, str] | None = None,
) -> Iterator[dict[str, str]]:
    """Inside a running moto: the projects and machines, with CodeBuild tasks run by
    `run_build` (default: local processes against `endpoint_url`). Yields the placeholder
    values (machine ARNs by logical id)."""
    build = run_build or local_codebuild(endpoint_url, bucket, log, stage, job_environment)
    restore_logs = local_stack.quiet_moto_logs()
    try:
        with patched_moto(build, retry_delay_scale):
            sfn = boto3.client("stepfunctions", region_name=local_stack.REGION)
            codebuild = boto3.client("codebuild", region_name=local_stack.REGION)
            existing = {m["name"] for m in sfn.list_state_machines()["stateMachines"]}
            if local_stack.machine_specs(stage)[0].name in existing:
                yield _existing_machines(sfn, stage)
            else:
                yield local_stack.create_pipeline(sfn, codebuild, bucket, stage)
    finally:
        restore_logs()


def _existing_machines(sfn, stage: str) -> dict[str, str]:
    arns = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    return {m.logical_id: arns[m.name] for m in local_stack.machine_specs(stage)}


class LocalPipeline:
    """The pipeline's machines run locally (see module docstring).

    Without `endpoint`: in an embedded moto of its own, jobs as local processes (an empty
    cloud each time). With `endpoint` (the URL of `gesture-stack up`): the machines of that
    local cloud, started and watched through its AWS endpoint, so collect reads what devices
    posted there. run_build replaces the local CodeBuild (tests); retry_delay_scale shrinks
    Retry waits (the machines wait 30-60 s before retrying a failed build; 0 skips the wait).
    """

    def __init__(
        self,
        run_build: RunBuild | None = None,
        stage: str = local_stack.LOCAL_STAGE,
        log: Callable[[str], None] = print,
        retry_delay_scale: float = 0.0,
        job_environment: dict[str, str] | None = None,
        endpoint: str | None = None,
    ):
        self.stage = stage
        self.log = log
        self.retry_delay_scale = retry_delay_scale
        self.job_environment = dict(job_environment or {})
        self.bucket = local_stack.local_bucket(stage)
        self.endpoint = endpoint
        self._run_build = run_build
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> LocalPipeline:
        if self.endpoint:
            self._clients(endpoint_url=self.endpoint, **ENDPOINT_CREDENTIALS)
            self.values = _existing_machines(self.sfn, self.stage)
            return self
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        mock.start()
        self._stack.callback(mock.stop)
        # two runs' compare-and-swap of models/current.json: one wins, as on S3
        self._stack.enter_context(atomic_conditional_writes())
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._stack.callback(server.stop)
        host, port = server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._clients()
        local_stack.create_storage(
            self.dynamodb, self.s3, self.bucket, local_stack.REGION, self.stage
        )
        self.codebuild = self._run_build or local_codebuild(
            self.endpoint_url,
            self.bucket,
            lambda line: self.log(f"{'':9}| {line}"),
            self.stage,
            self.job_environment,
        )
        self.values = self._stack.enter_context(
            create_local_pipeline(
                self.endpoint_url,
                self.bucket,
                run_build=self.codebuild,
                retry_delay_scale=self.retry_delay_scale,
                stage=self.stage,
            )
        )
        return self

    def _clients(self, **options) -> None:
        region = local_stack.REGION
        self.s3 = boto3.client("s3", region_name=region, **options)
        self.sfn = boto3.client("stepfunctions", region_name=region, **options)
        self.dynamodb = boto3.client("dynamodb", region_name=region, **options)

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def machine_arn(self, key: str) -> str:
        return self.values[f"{key.capitalize()}StateMachine"]

    def run(
        self, payload: dict, machine: str = "main", name: str | None = None, timeout_s=3600
    ) -> ExecutionResult:
        """Start an execution (name = run id), print its states as they run, return the end."""
        name = name or new_run_id()
        arn = self.sfn.start_execution(
            stateMachineArn=self.machine_arn(machine), name=name, input=json.dumps(payload)
        )["executionArn"]
        self.log(f"{machine:8} started {name}")
        result = self._watch(arn, machine, time.monotonic() + timeout_s)
        self.log(f"{machine:8} {result.status}")
        return result

    def _watch(self, arn: str, machine: str, deadline: float) -> ExecutionResult:
        seen: dict[str, int] = {}
        states: list[tuple[str, str]] = []
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            new = []
            for run_arn, label in [(arn, machine), *self._children(arn)]:
                new += [(e["timestamp"], label, e) for e in self._new_events(run_arn, seen)]
            for _, label, event in sorted(new, key=lambda item: item[0]):
                self._print_event(label, event, states)
            if described["status"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=arn, error="Local.Timeout")
                raise TimeoutError(f"execution {arn} still running after its timeout")
            time.sleep(0.05)
        output = described.get("output")
        return ExecutionResult(
            status=described["status"],
            execution_arn=arn,
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            states=states,
        )

    def _children(self, parent_arn: str) -> list[tuple[str, str]]:
        children = []
        for key in ("collect", "retrain"):
            for ex in self.sfn.list_executions(stateMachineArn=self.machine_arn(key))["executions"]:
                described = self.sfn.describe_execution(executionArn=ex["executionArn"])
                started_by = json.loads(described.get("input") or "{}").get(
                    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
                )
                if started_by == parent_arn:
                    children.append((ex["executionArn"], key))
        return children

    def _new_events(self, arn: str, seen: dict[str, int]) -> list[dict]:
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        new = [e for e in events if e["id"] > seen.get(arn, 0)]
        if new:
            seen[arn] = new[-1]["id"]
        return new

    def _print_event(self, label: str, event: dict, states: list[tuple[str, str]]) -> None:
        if event["type"].endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
            states.append((label, state))
            self.log(f"{label:8} > {state}")
        for key in _FAILURE_DETAILS:
            if key in event:
                details = event[key]
                cause = (details.get("cause") or "").replace("\n", " ")
                self.log(f"{label:8} ! {details.get('error')}: {cause[:300]}")
