"""OTA release checks, probation, the trial record and the cooperative download's framings
under micropython; and the pins between the device's copies of the version format and model
file names and their homes in the API and the manifest."""

import json
import re
import socket
import threading
import time

import pytest
from fw_harness import mp_test_names, run_micropython, run_mp_test
from pydantic import TypeAdapter, ValidationError

from functions import storage_layout
from functions.models.common import Version
from training import manifest as training_manifest


@pytest.mark.parametrize("name", mp_test_names("mp_ota"))
def test_ota_units(name, tmp_path):
    run_mp_test("mp_ota", name, tmp_path)


# -- one version format: the firmware agrees with the API and the manifest ----------------------
CANDIDATES = [
    "20260101000000-0000a000",
    "v1",
    "a.b_c-D9",
    "x" * 64,
    "x" * 65,
    "",
    "a:b",
    "a/b",
    "../x",
    "a b",
    "v1\n",
    "\nv1",
    "v1%2F",
    "ä",
    "v1;rm",
    '"v1"',
    "v1,v2",
]


def firmware_verdicts(tmp_path, values):
    script = tmp_path / "check.py"
    script.write_text(
        "import json\nfrom gesture import modelstore\n"
        f"for v in json.loads({json.dumps(json.dumps(values))}):\n"
        "    print(json.dumps(modelstore.valid_version(v)))\n"
        "print(json.dumps(modelstore.MODEL_FILES))\n"
    )
    result = run_micropython([str(script)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    *verdicts, files = result.stdout.splitlines()
    return [json.loads(v) for v in verdicts], tuple(json.loads(files))


def api_accepts(value) -> bool:
    try:
        TypeAdapter(Version).validate_python(value, strict=True)
        return True
    except ValidationError:
        return False


def test_firmware_version_check_agrees_with_the_api_and_the_manifest(tmp_path):
    values = [*CANDIDATES, 20260101, None]
    verdicts, files = firmware_verdicts(tmp_path, values)
    manifest_pattern = training_manifest.Manifest.model_fields["version"].metadata
    manifest_re = next(m.pattern for m in manifest_pattern if hasattr(m, "pattern"))
    for value, device in zip(values, verdicts, strict=True):
        assert device == api_accepts(value), value
        if isinstance(value, str):
            assert device == bool(re.fullmatch(storage_layout.VERSION_PATTERN, value)), value
            if re.fullmatch(manifest_re, value):  # every trained version is one devices take
                assert device, value
    assert set(files) == set(storage_layout.MODEL_FILE_NAMES) == set(training_manifest.MODEL_FILES)


def test_model_prefix_refuses_a_trailing_newline():
    """`$` matches before a final newline under re.match: the layout checks the whole string."""
    with pytest.raises(ValueError):
        storage_layout.model_prefix("v1\n")
    assert storage_layout.model_prefix("v1") == "models/v1/"


# -- the cooperative download reads every framing, in pieces ------------------------------------
BODY = bytes(range(256)) * 12


def _chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nTrailer: x\r\n\r\n"


FRAMINGS = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,
    "until-close": b"HTTP/1.0 200 OK\r\n\r\n" + BODY,
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(BODY, 700),
}


def serve_raw(answer: bytes, piece: int, pause: float):
    """A one-shot server writing `answer` in `piece`-byte writes `pause` s apart."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        conn.recv(4096)
        try:
            for i in range(0, len(answer), piece):
                conn.sendall(answer[i : i + piece])
                time.sleep(pause)
        except OSError:  # the client hung up (a refused or finished answer)
            pass
        conn.close()
        srv.close()

    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]


GET_SCRIPT = """
import hashlib, binascii, sys
from gesture import download
sha = hashlib.sha256()
get = download.Get("http://127.0.0.1:%d/m", sink=sha.update, chunk=%d, max_bytes=%d)
steps = 0
while not get.step():
    steps += 1
print("status", get.status, "size", get.size, "steps", steps)
print("sha", binascii.hexlify(sha.digest()).decode())
"""


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("piece", [1, 97, 5000])
def test_download_reads_every_framing_in_any_pieces(tmp_path, framing, piece):
    import hashlib

    port = serve_raw(FRAMINGS[framing], piece, 0.0005 if piece == 1 else 0.01)
    (tmp_path / "get.py").write_text(GET_SCRIPT % (port, 128, len(BODY)))
    result = run_micropython([str(tmp_path / "get.py")], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"status 200 size {len(BODY)}" in result.stdout
    assert f"sha {hashlib.sha256(BODY).hexdigest()}" in result.stdout
    steps = int(result.stdout.split("steps ")[1].split()[0])
    assert steps >= len(BODY) // 128 - 1  # never more than one 128-byte read per step


@pytest.mark.parametrize("framing", FRAMINGS)
def test_download_refuses_a_body_longer_than_allowed(tmp_path, framing):
    port = serve_raw(FRAMINGS[framing], 5000, 0.01)
    (tmp_path / "get.py").write_text(GET_SCRIPT % (port, 128, len(BODY) - 1))
    result = run_micropython([str(tmp_path / "get.py")], cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "body longer than" in out, out


@pytest.mark.parametrize("cut", ["head", "content-length", "chunked"])
def test_download_reports_a_connection_closed_early(tmp_path, cut):
    answer = {
        "head": b"HTTP/1.1 200 OK\r\nContent-Le",
        "content-length": FRAMINGS["content-length"][:-10],
        "chunked": FRAMINGS["chunked"][:-30],
    }[cut]
    port = serve_raw(answer, 5000, 0.01)
    (tmp_path / "get.py").write_text(GET_SCRIPT % (port, 128, 10**6))
    result = run_micropython([str(tmp_path / "get.py")], cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "HttpError" in out, out
