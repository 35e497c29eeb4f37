"""A small HTTP/1.1 client over sockets for MicroPython (unix port and ESP32; TLS via ssl).

One request per connection (`Connection: close`), or a kept-alive Session; bodies by
Content-Length, chunked or until close. Errors: OSError for network faults and timeouts (and
TLS failures), HttpError (an OSError) for malformed or truncated responses.

HTTPS verifies the server against the CA given to `set_ca(der)`; with no CA it fails closed
(OSError, nothing sent). Skipping verification needs an explicit `set_unverified(True)`
(config `tls_verify: false`, which the app logs).
"""

import socket

_ca_der = None
_unverified = False


def set_ca(der):
    """Trust anchor (DER bytes) that HTTPS servers must chain to."""
    global _ca_der
    _ca_der = der


def set_unverified(flag):
    """True: HTTPS without a CA is encrypted but the server is not authenticated (explicit)."""
    global _unverified
    _unverified = bool(flag)


class HttpError(OSError):
    """The server's answer was not valid HTTP."""


class Response:
    """Status, lower-cased headers and the body (bytes, or None if it was streamed to a sink)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def ok(self):
        return 200 <= self.status < 300


def split_url(url):
    """(scheme, host, port, path) of an http(s) URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ValueError("not an http(s) URL: " + url)
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.partition(":")
    port = int(port) if colon else (443 if scheme == "https" else 80)
    return scheme, host, port, slash + path if slash else "/"


def _connect(scheme, host, port, timeout):
    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
    sock = socket.socket()
    try:
        sock.settimeout(timeout)
        sock.connect(addr)
        if scheme == "https":
            sock = _wrap_tls(sock, host)
        return sock
    except BaseException:
        sock.close()
        raise


def _wrap_tls(sock, host):
    import ssl

    if _ca_der is None and not _unverified:
        raise OSError("TLS: no CA configured to verify " + host + " (set tls_ca)")
    if not hasattr(ssl, "SSLContext"):  # MicroPython before 1.23: cannot verify
        if not _unverified:
            raise OSError("TLS: this MicroPython cannot verify servers (needs 1.23+)")
        return ssl.wrap_socket(sock, server_hostname=host)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if _ca_der is None:
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=_ca_der)
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except ValueError as exc:  # mbedtls reports a failed verification as ValueError
        raise OSError("TLS: " + str(exc).strip()) from None


def _read_exact(sock, n, sink, buf):
    mv = memoryview(buf)
    while n > 0:
        got = sock.readinto(mv[: min(n, len(buf))])
        if not got:
            raise HttpError("connection closed mid-body")
        sink(mv[:got])
        n -= got


def _read_to_close(sock, sink, buf):
    mv = memoryview(buf)
    while True:
        got = sock.readinto(mv)
        if not got:
            return
        sink(mv[:got])


def _read_chunked(sock, sink, buf):
    while True:
        line = sock.readline()
        if not line:
            raise HttpError("connection closed in chunked body")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while sock.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        _read_exact(sock, size, sink, buf)
        sock.readline()  # CRLF after each chunk


def _read_head(sock):
    line = sock.readline()
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise HttpError("bad status line: " + repr(line))
    status = int(parts[1])
    headers = {"": parts[0].decode()}  # the version, to decide about keep-alive
    while True:
        line = sock.readline()
        if not line:
            raise HttpError("connection closed in headers")
        if line in (b"\r\n", b"\n"):
            return status, headers
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()


def _exchange(sock, method, host, path, body, headers, sink, chunk, keep_alive):
    """Send one request on `sock` and read the whole answer: (Response, connection reusable)."""
    if isinstance(body, str):
        body = body.encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    head += "" if keep_alive else "Connection: close\r\n"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    sock.write(head.encode() + b"\r\n")
    if body:
        sock.write(body)
    status, resp_headers = _read_head(sock)
    parts = []
    collect = sink or (lambda mv: parts.append(bytes(mv)))
    buf = bytearray(chunk)
    reusable = keep_alive and resp_headers.get("connection", "").lower() != "close"
    if resp_headers.pop("") == "HTTP/1.0" and resp_headers.get("connection") != "keep-alive":
        reusable = False
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        pass
    elif resp_headers.get("transfer-encoding", "").lower() == "chunked":
        _read_chunked(sock, collect, buf)
    elif "content-length" in resp_headers:
        _read_exact(sock, int(resp_headers["content-length"]), collect, buf)
    else:
        _read_to_close(sock, collect, buf)
        reusable = False
    return Response(status, resp_headers, None if sink else b"".join(parts)), reusable


def request(method, url, body=None, headers=None, timeout=10, sink=None, chunk=512):
    """Send one request on a new connection; the body goes to sink(memoryview) in pieces if
    given, else is returned."""
    scheme, host, port, path = split_url(url)
    sock = _connect(scheme, host, port, timeout)
    try:
        return _exchange(sock, method, host, path, body, headers, sink, chunk, False)[0]
    finally:
        sock.close()


class Session:
    """Keeps one connection open between requests to the same host (HTTP/1.1 keep-alive), so
    a device sending a batch every few seconds does one TLS handshake, not one per batch.
    A kept connection the server has meanwhile closed is replaced once, transparently."""

    def __init__(self):
        self._sock = None
        self._origin = None

    def close(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._origin = None

    def request(self, method, url, body=None, headers=None, timeout=10, sink=None, chunk=512):
        scheme, host, port, path = split_url(url)
        origin = (scheme, host, port)
        reused = self._sock is not None and self._origin == origin
        if not reused:
            self.close()
            self._sock = _connect(scheme, host, port, timeout)
            self._origin = origin
        try:
            if reused and hasattr(self._sock, "settimeout"):  # TLS sockets keep the first one
                self._sock.settimeout(timeout)
            resp, keep = _exchange(self._sock, method, host, path, body, headers, sink, chunk, True)
        except Exception as exc:  # whatever happened, the connection's state is unknown now
            self.close()
            if not reused or sink is not None or not isinstance(exc, OSError):
                raise
            return self.request(method, url, body, headers, timeout, sink, chunk)
        if not keep:
            self.close()
        return resp
