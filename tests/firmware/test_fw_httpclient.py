"""The firmware's HTTP client under micropython against raw answers: each body framing
(Content-Length, chunked, read-until-close) reads the whole body, for one request and on a
kept-alive Session; a body cut short in any framing is an error (OSError), never a short body."""

import socket
import threading

import pytest
from fw_harness import run_micropython

BODY = b'{"device_id":"dev-1","accepted":2,"ids":["1-1","1-2"],"pad":"' + b"x" * 1500 + b'"}'


def chunked(body, size=97):
    out = b""
    for i in range(0, len(body), size):
        part = body[i : i + size]
        out += b"%x;ext=1\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
ANSWERS = {
    "content-length": HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "chunked": HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(BODY),
    "until-close": HEAD + b"Connection: close\r\n\r\n" + BODY,
    "http-1.0-until-close": b"HTTP/1.0 200 OK\r\n\r\n" + BODY,
}
CUT = {
    "content-length-cut": HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY[:700]),
    "chunked-cut": HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(BODY)[:900],
    "chunked-no-last-chunk": HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(BODY)[:-20],
    "headers-cut": HEAD + b"Content-Len",
    "no-answer": b"",
}

SCRIPT = """
import sys
from gesture import httpclient
url, n = sys.argv[1], int(sys.argv[2])
session = httpclient.Session() if sys.argv[3] == "session" else None
for i in range(n):
    try:
        send = session.request if session else httpclient.request
        r = send("POST", url, b'{"events":[]}', {"x-api-key": "k"}, timeout=3)
        print("status", r.status, len(r.body), r.body[-20:].decode())
    except OSError as exc:
        print("error", type(exc).__name__, exc)
"""


@pytest.fixture
def raw_server():
    """Serve `answer` bytes to each request, then close the connection."""
    state = {"answer": b"", "served": 0}
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(rest) < length:
                    rest += conn.recv(4096)
                conn.sendall(state["answer"])
                state["served"] += 1

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/events", state
    srv.close()


@pytest.mark.parametrize("mode", ["request", "session"])
@pytest.mark.parametrize("framing", list(ANSWERS))
def test_every_framing_reads_the_whole_body(tmp_path, raw_server, framing, mode):
    url, state = raw_server
    state["answer"] = ANSWERS[framing]
    (tmp_path / "try.py").write_text(SCRIPT)
    result = run_micropython(["try.py", url, "2", mode], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = f"status 200 {len(BODY)} {BODY[-20:].decode()}"
    assert result.stdout.splitlines() == [expected, expected]


@pytest.mark.parametrize("framing", list(CUT))
def test_an_answer_cut_short_is_an_error_not_a_short_body(tmp_path, raw_server, framing):
    url, state = raw_server
    state["answer"] = CUT[framing]
    (tmp_path / "try.py").write_text(SCRIPT)
    result = run_micropython(["try.py", url, "1", "request"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("error "), result.stdout
