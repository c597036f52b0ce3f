"""HTTP/1.1 over a bare socket: the requests httpx will not send (lies, huge lines, requests that never end)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from launcher import checkout_token


@dataclass
class RawResponse:
    """A response as it came off the wire."""

    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value
    body: bytes


def connect(base_url: str, timeout: float = 10.0) -> socket.socket:
    """Open a TCP connection to the server behind `base_url`."""
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)


def send_quietly(connection: socket.socket, data: bytes) -> None:
    """Send what the server will take: one that answers early and closes may refuse the rest (EPIPE, reset)."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.sendall(data)


def read_response(connection: socket.socket, deadline_seconds: float = 15.0, head: bool = False) -> RawResponse | None:
    """Read one response (to a HEAD request: no body); None if the server closed (or reset) without answering."""
    connection.settimeout(deadline_seconds)
    buffer = b""
    while True:
        try:
            while b"\r\n\r\n" not in buffer:
                chunk = connection.recv(65536)
                if not chunk:
                    return None
                buffer += chunk
        except ConnectionResetError:
            return None
        head_bytes, _, body = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
        if not 100 <= int(status_line.split()[1]) < 200:
            break
        buffer = body  # an interim answer (100 Continue): the final one follows
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head else int(headers.get("content-length", -1))
    try:
        while len(body) < length or length < 0:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
    except ConnectionResetError:
        pass
    return RawResponse(int(status_line.split()[1]), headers, body[:length] if length >= 0 else body)


def exchange(base_url: str, request: bytes, deadline_seconds: float = 15.0) -> RawResponse | None:
    """Send `request` as it is on a new connection and read the answer (None: closed without one)."""
    with connect(base_url) as connection:
        # read while a large request is still being sent: a server that answers early and closes with
        # unread bytes resets the connection, and a reset can discard an answer not yet read
        sender = threading.Thread(target=send_quietly, args=(connection, request), daemon=True)
        sender.start()
        try:
            return read_response(connection, deadline_seconds, head=request.startswith(b"HEAD "))
        finally:
            sender.join(deadline_seconds)


def closed_within(connection: socket.socket, deadline_seconds: float) -> bool:
    """Wait for the server to close the connection (EOF or reset): True if it did before the deadline."""
    deadline = time.monotonic() + deadline_seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(65536):
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return False


def get(path: str = "/public/test", headers: str = "") -> bytes:
    """A GET request, with any extra header lines (each ending in CRLF)."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode()


def post(body: bytes, headers: str) -> bytes:
    """A POST /merge with the checkout's token, the header lines given (each ending in CRLF, framing included)
    and `body` as it is."""
    head = "POST /merge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    return f"{head}Authorization: Bearer {checkout_token()}\r\n{headers}\r\n".encode() + body
