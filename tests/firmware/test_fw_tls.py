"""HTTPS from the firmware's client under micropython: a server chaining to the configured CA
is accepted, any other is refused with OSError (so the uplink backs off and keeps the events)."""

import datetime
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fw_harness import run_micropython

SCRIPT = """
import sys
from gesture import httpclient
if sys.argv[2] == "unverified":
    httpclient.set_unverified(True)
elif sys.argv[2] != "-":
    with open(sys.argv[2], "rb") as f:
        httpclient.set_ca(f.read())
try:
    r = httpclient.request("POST", sys.argv[1], b'{"a":1}', {"x-api-key": "k"}, timeout=5)
    print("status", r.status, r.body.decode())
except OSError as exc:
    print("refused", exc)
"""


def self_signed(folder, name):
    """A self-signed certificate for `localhost` (PEM cert + key, and the cert as DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / f"{name}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))


@pytest.fixture
def https_url(tmp_path):
    self_signed(tmp_path, "server")
    self_signed(tmp_path, "stranger")

    connections = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def setup(self):
            super().setup()
            connections.append(1)

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_address[1]}/events", connections
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("ca", "expected", "handshakes"),
    [
        ("server.der", 'status 200 {"a":1}', 1),
        ("stranger.der", "refused TLS", 1),
        ("-", "refused TLS: no CA configured", 0),  # fails closed: nothing even connects TLS
        ("unverified", 'status 200 {"a":1}', 1),  # only as an explicit choice
    ],
    ids=["trusted-ca", "wrong-ca", "no-ca-fails-closed", "explicitly-unverified"],
)
def test_https_verifies_the_server_against_the_configured_ca(
    tmp_path, https_url, ca, expected, handshakes
):
    url, connections = https_url
    (tmp_path / "try.py").write_text(SCRIPT)
    result = run_micropython(["try.py", url, ca], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(expected), result.stdout
    if not handshakes:
        assert connections == []  # no TLS handshake was even attempted


def test_the_app_logs_an_explicit_choice_of_weaker_transport(tmp_path):
    """tls_verify false and an http:// URL are explicit settings, said on the console;
    an http:// URL without allow_http is a configuration error."""
    from gesture import config

    base = {"api_url": "http://127.0.0.1:9/", "api_key": "k"}
    with pytest.raises(ValueError, match="allow_http"):
        config.validate(config.merge(config.DEFAULTS, base))
    script = tmp_path / "cfg.py"
    script.write_text(
        "from gesture import config\n"
        "from gesture.app import App\n"
        "from gesture.hal import SimulatedBoard\n"
        "import sys\n"
        "cfg = config.load(sys.argv[1])\n"
        "App(cfg, SimulatedBoard(cfg, samples=[]))\n"
    )
    conf = tmp_path / "c.json"
    settings = {"allow_http": True, "tls_verify": False, "model_dir": "none"}
    conf.write_text(json.dumps(base | settings | {"data_dir": str(tmp_path / "d")}))
    result = run_micropython([str(script), str(conf)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gs-insecure tls_verify=false" in result.stdout
    assert "gs-insecure allow_http=true" in result.stdout


SESSION_SCRIPT = """
import sys
from gesture import httpclient
with open(sys.argv[2], "rb") as f:
    httpclient.set_ca(f.read())
session = httpclient.Session()
for i in range(4):
    r = session.request("POST", sys.argv[1], b'{"n":%d}' % i, timeout=5)
    print("status", r.status, r.body.decode())
"""


def test_a_session_does_one_tls_handshake_for_many_requests(tmp_path, https_url):
    url, connections = https_url
    (tmp_path / "session.py").write_text(SESSION_SCRIPT)
    result = run_micropython(["session.py", url, "server.der"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f'status 200 {{"n":{i}}}' for i in range(4)]
    assert len(connections) == 1
