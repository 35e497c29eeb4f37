"""A cooperative HTTP GET: `step()` does one bounded piece of work (at most one read of `chunk`
bytes, waiting at most `wait_ms` for it), so the main loop keeps its period while a model
trickles in at 64 B/s. Bodies by Content-Length, chunked or until close.

    get = Get(url, headers, sink, on_head)  # connects and sends (blocking: DNS, TCP, TLS)
    while not get.step():                   # once per loop iteration
        ...
    get.status, get.headers, get.size

`sink(memoryview)` gets the body in pieces; `on_head(get)` runs once the status line and
headers are in, before any body byte reaches the sink, and may raise to refuse the answer.
`max_bytes` bounds the body: one byte more raises before it reaches the sink.
"""

import select

from gesture import httpclient

HEAD_MAX = 4096
LINE_MAX = 128


class Get:
    """One GET on its own connection; `close()` it when done or abandoned."""

    def __init__(
        self,
        url,
        headers=None,
        sink=None,
        on_head=None,
        max_bytes=None,
        chunk=1024,
        wait_ms=20,
        timeout_s=10,
    ):
        scheme, host, port, path = httpclient.split_url(url)
        self.sink = sink
        self.on_head = on_head
        self.max_bytes = max_bytes
        self.wait_ms = wait_ms
        self.status = None
        self.headers = None
        self.size = 0  # body bytes handed to the sink
        self.done = False
        self._head = b""
        self._left = None  # Content-Length bytes still due; None: until close (or chunked)
        self._chunked = False
        self._chunk_left = 0  # >0: in chunk data; 0: size line due; -1: CRLF after data due
        self._line = b""
        self._buf = bytearray(chunk)
        self._mv = memoryview(self._buf)
        head = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
        for name, value in (headers or {}).items():
            head += name + ": " + value + "\r\n"
        self.sock = httpclient._connect(scheme, host, port, timeout_s)
        try:
            self.sock.write(head.encode() + b"\r\n")
            self.sock.setblocking(False)
            self._poll = select.poll()
            self._poll.register(self.sock, select.POLLIN)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _read(self):
        """Bytes read now (None: nothing has arrived yet, 0: the server closed)."""
        try:
            n = self.sock.readinto(self._mv)
        except OSError as exc:
            if exc.errno not in (11, 110):  # EAGAIN, ETIMEDOUT: nothing yet
                raise
            n = None
        return n

    def step(self):
        """Read once (waiting at most wait_ms); True when the whole answer is in."""
        if self.done:
            return True
        n = self._read()
        if n is None and self.wait_ms:
            self._poll.poll(self.wait_ms)
            n = self._read()
        if n is None:
            return False
        if n == 0:
            self._eof()
            return True
        data = self._mv[:n]
        if self.status is None:
            self._take_head(bytes(data))
        else:
            self._take_body(data)
        return self.done

    def _eof(self):
        if self.status is None:
            raise httpclient.HttpError("connection closed in headers")
        if self._chunked or (self._left is not None and self._left > 0):
            raise httpclient.HttpError("connection closed mid-body")
        self._finish()

    def _finish(self):
        self.done = True
        self.close()

    def _take_head(self, data):
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > HEAD_MAX:
                raise httpclient.HttpError("response head too long")
            return
        lines = self._head[:end].split(b"\r\n")
        rest = self._head[end + 4 :]
        self._head = b""
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise httpclient.HttpError("bad status line: " + repr(lines[0]))
        self.status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        self.headers = headers
        if headers.get("transfer-encoding", "").lower() == "chunked":
            self._chunked = True
        elif "content-length" in headers:
            self._left = int(headers["content-length"])
        if self.on_head is not None:
            self.on_head(self)
        if self._left == 0 or self.status in (204, 304):
            self._finish()
        elif rest:
            self._take_body(memoryview(rest))

    def _emit(self, mv):
        if self.max_bytes is not None and self.size + len(mv) > self.max_bytes:
            raise httpclient.HttpError("body longer than " + str(self.max_bytes) + " bytes")
        self.size += len(mv)
        if self.sink is not None:
            self.sink(mv)

    def _take_body(self, mv):
        if not self._chunked:
            if self._left is not None:
                mv = mv[: self._left]
                self._left -= len(mv)
            self._emit(mv)
            if self._left == 0:
                self._finish()
            return
        i, n = 0, len(mv)
        while i < n and not self.done:
            if self._chunk_left > 0:
                k = min(self._chunk_left, n - i)
                self._emit(mv[i : i + k])
                i += k
                self._chunk_left -= k
                if self._chunk_left == 0:
                    self._chunk_left = -1
                continue
            rest = bytes(mv[i:])
            nl = rest.find(b"\n")
            if nl < 0:
                self._line += rest
                i = n
            else:
                self._line += rest[: nl + 1]
                i += nl + 1
                self._chunk_line()
            if len(self._line) > LINE_MAX:
                raise httpclient.HttpError("chunk line too long")

    def _chunk_line(self):
        line, self._line = self._line, b""
        if self._chunk_left == -1:  # the CRLF that ends a chunk's data
            self._chunk_left = 0
            return
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:  # last chunk; trailers (if any) are not needed
            self._chunked = False
            self._finish()
        else:
            self._chunk_left = size
