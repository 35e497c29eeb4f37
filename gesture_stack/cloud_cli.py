"""`up` and `devices`: the local cloud, and provisioning devices on it or on a deployed stage.

gesture-stack up [--port 8000] [--state build/local]
gesture-stack devices add NAME [--role device|dashboard] [--config-out FILE] WHERE
gesture-stack devices list|revoke NAME|rotate NAME WHERE
WHERE: --endpoint URL (the local cloud) or --stage STAGE (a deployed stage)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from localcloud.where import add_endpoint_or_stage

REPO = Path(__file__).resolve().parents[1]
CONFIG_EXAMPLE = REPO / "firmware" / "config.example.json"


def register(subparsers) -> None:
    up = subparsers.add_parser(
        "up",
        help="run the local cloud: API, AWS services, pipeline and dashboard on one port",
        description="Prints `local-cloud api=URL dashboard=URL`, then one line per request "
        "(method, path, device, status, ms). State is kept in --state across restarts.",
    )
    up.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    up.add_argument("--host", default="127.0.0.1", help="address to listen on")
    up.add_argument("--state", type=Path, default=Path("build") / "local", help="state folder")
    up.set_defaults(func=cmd_up)

    devices = subparsers.add_parser(
        "devices",
        help="provision devices: API key, usage plan, devices-table item",
        description="Add, list, revoke or rotate device keys on the local cloud (--endpoint) "
        "or a deployed stage (--stage).",
    )
    actions = devices.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=subparsers._parser_class
    )
    add = actions.add_parser(
        "add",
        help="a new device and its key (printed once)",
        description="Register a device: a new API key in the usage plan and a devices-table "
        "item. Prints the key once.",
    )
    add.add_argument("name", help="device id")
    add.add_argument(
        "--role", default="device", choices=("device", "dashboard"), help="what the key may do"
    )
    add.add_argument("--config-out", type=Path, help="write a firmware config.json for it")
    listing = actions.add_parser(
        "list",
        help="devices, roles and whether their key is enabled",
        description="List devices, their roles and whether their key is enabled.",
    )
    revoke = actions.add_parser(
        "revoke",
        help="disable the device's keys (again: marks keys revoked by older versions)",
        description="Disable the device's API keys and note revoked_at on their items, which "
        "GET /devices reads. Safe to repeat: a key disabled before revoked_at existed gets it.",
    )
    revoke.add_argument("name", help="device id")
    rotate = actions.add_parser(
        "rotate",
        help="a new key (printed once); the old one disabled",
        description="Give the device a new API key (printed once) and disable the old one.",
    )
    rotate.add_argument("name", help="device id")
    rotate.add_argument("--config-out", type=Path, help="write a firmware config.json for it")
    for parser in (add, listing, revoke, rotate):
        add_endpoint_or_stage(parser)
        parser.add_argument("--region", help="the stage's region (default: your AWS settings)")
        parser.add_argument(
            "--api-url", help="the API URL for --config-out (default: stack output)"
        )
        parser.set_defaults(func=cmd_devices)


def cmd_up(args: argparse.Namespace) -> int:
    from localcloud.server import serve_forever

    return serve_forever(args.host, args.port, args.state)


def _clients(args: argparse.Namespace):
    import boto3

    from localcloud.stack import REGION
    from localcloud.stepfunctions import ENDPOINT_CREDENTIALS

    if args.endpoint:
        options = {"endpoint_url": args.endpoint, "region_name": REGION, **ENDPOINT_CREDENTIALS}
        return boto3.session.Session(), options
    session = boto3.session.Session(region_name=args.region)
    return session, {}


def device_keys(args: argparse.Namespace):
    """(DeviceKeys, the API URL devices use) for --endpoint or --stage."""
    from functions.adapters.device_keys import DeviceKeys
    from localcloud.stack import LOCAL_STAGE, SERVICE, table_names, usage_plan_name

    session, options = _clients(args)
    stage = LOCAL_STAGE if args.endpoint else args.stage
    apigw = session.client("apigateway", **options)
    dynamodb = session.client("dynamodb", **options)
    plan = DeviceKeys.find_usage_plan(apigw, usage_plan_name(stage))
    keys = DeviceKeys(
        apigw, dynamodb, table_names(stage)["DevicesTable"], plan, f"{SERVICE}-{stage}"
    )
    api_url = args.api_url or args.endpoint
    if api_url is None:
        api_url = stack_api_url(session.client("cloudformation"), f"{SERVICE}-{stage}")
    return keys, api_url


def stack_api_url(cloudformation, stack: str) -> str | None:
    """The deployed API's base URL: the framework's `ServiceEndpoint` stack output."""
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception:  # no such stack or no permission: the caller says what to pass instead
        return None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return outputs.get("ServiceEndpoint")


def firmware_config(api_url: str, api_key: str) -> dict:
    """firmware/config.example.json with this device's API URL and key; Wi-Fi left to fill in.
    A plain-HTTP URL (the local cloud) needs no CA certificate but the firmware's explicit
    `allow_http`."""
    config = json.loads(CONFIG_EXAMPLE.read_text())
    config["api_url"] = api_url.rstrip("/")
    config["api_key"] = api_key
    if api_url.startswith("http://"):  # the local cloud: an explicit, logged choice
        config.pop("tls_ca", None)
        config["allow_http"] = True
    return config


def write_config(path: Path, config: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a key
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def cmd_devices(args: argparse.Namespace) -> int:
    from functions.exceptions import ApiError

    try:
        keys, api_url = device_keys(args)
        return ACTIONS[args.action](keys, api_url, args)
    except ApiError as exc:
        print(f"gesture-stack devices {args.action}: {exc.message}", file=sys.stderr)
        return 2


def _issued(issued, api_url, args) -> int:
    print(
        f"device {issued.device_id} role={issued.role} api_key_id={issued.api_key_id} "
        f"key={issued.value}"
    )
    if getattr(args, "config_out", None):
        if not api_url:
            print("no API URL for the config: pass --api-url", file=sys.stderr)
            return 2
        config = firmware_config(api_url, issued.value)
        write_config(args.config_out, config)
        print(f"config {args.config_out} (fill in wifi.ssid and wifi.password)")
        ca = config.get("tls_ca")
        if ca and not (args.config_out.parent / ca).is_file():
            print(f"put the CA certificate {ca} next to it (firmware/README.md, Flash)")
    return 0


def _add(keys, api_url, args) -> int:
    return _issued(keys.add(args.name, args.role), api_url, args)


def _rotate(keys, api_url, args) -> int:
    return _issued(keys.rotate(args.name), api_url, args)


def _list(keys, api_url, args) -> int:
    for record in keys.list():
        state = "enabled" if record.enabled else "revoked"
        print(
            f"{record.device_id}\trole={record.role}\t{state}\t"
            f"api_key_id={record.api_key_id}\tcreated={record.created_at or '-'}"
        )
    return 0


def _revoke(keys, api_url, args) -> int:
    for record in keys.revoke(args.name):
        done = "disabled" if record.enabled else "was disabled already; revoked_at noted"
        print(f"device {args.name} key {record.api_key_id} {done}")
    return 0


ACTIONS = {"add": _add, "list": _list, "revoke": _revoke, "rotate": _rotate}
