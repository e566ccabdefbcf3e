"""The site as `make run` serves it, over real sockets: keep-alive after a refused body, and
no gunicorn control socket shared between instances."""

from __future__ import annotations

import http.client
import json
import os
import socket
from urllib.parse import urlparse

import pytest

from frontend_service import MAX_REQUEST_BYTES
from tests.site import running_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def site(tmp_path_factory, home):
    environment = {name: value for name, value in os.environ.items() if name != "XDG_RUNTIME_DIR"}
    with running_site(tmp_path_factory.mktemp("data"), environment=environment | {"HOME": str(home)}) as site:
        address = urlparse(site.base)
        yield address.hostname, address.port


class Connection:
    """One TCP connection, its requests written by hand, its responses read one at a time."""

    def __init__(self, site):
        self.sock = socket.create_connection(site, timeout=10)
        self.cookie = ""

    def send(self, method: str, path: str, body: bytes = b"", headers: dict | None = None, chunked: bool = False):
        lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            parts = [body[start : start + 4096] for start in range(0, len(body), 4096)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"
        elif body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = http.client.HTTPResponse(self.sock, method=method)
        response.begin()
        data = response.read()
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";")[0]
        return response, data

    def closed_by_the_server(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def connection(site):
    opened = Connection(site)
    yield opened
    opened.close()


def json_body(size: int) -> bytes:
    """A scene of exactly `size` bytes of JSON (too long a text: answered 422 once read)."""
    empty = b'{"text": ""}'
    return b'{"text": "' + b"x" * (size - len(empty)) + b'"}'


def session(connection: Connection) -> dict:
    response, data = connection.send("GET", "/api/session")
    assert response.status == 200
    return {"X-CSRFToken": json.loads(data)["csrf_token"], "Content-Type": "application/json"}


def expect_closed(connection: Connection, site, response):
    """The rest of the body may be left unread: the server says so and closes (RFC 9112
    section 9.6), and a client opens a new connection rather than send on a lost one."""
    assert response.getheader("Connection") == "close"
    assert connection.closed_by_the_server()
    fresh = Connection(site)
    try:
        assert fresh.send("GET", "/healthz")[0].status == 200
    finally:
        fresh.close()


@pytest.mark.parametrize("token", [True, False], ids=["read", "refused-unread"])
def test_a_body_under_64_kib_keeps_the_connection_for_the_next_request(connection, token):
    headers = session(connection)
    if not token:
        del headers["X-CSRFToken"]  # refused before the body is read; gunicorn drains it
    response, data = connection.send("POST", "/api/scenes", json_body(MAX_REQUEST_BYTES - 1), headers)
    assert (response.status, json.loads(data)["error"]["code"]) == ((422, "invalid") if token else (400, "csrf"))
    assert response.getheader("Connection") == "keep-alive"
    response, data = connection.send("GET", "/healthz")
    assert (response.status, json.loads(data)) == (200, {"status": "ok"})


@pytest.mark.parametrize("token", [True, False], ids=["read", "refused-unread"])
def test_a_body_of_64_kib_is_accepted_and_the_connection_closed(connection, site, token):
    """gunicorn drains less than 64 KiB of an unread body; from there, it cannot tell
    beforehand whether the site will read the body, so it closes after answering."""
    headers = session(connection)
    if not token:
        del headers["X-CSRFToken"]
    response, data = connection.send("POST", "/api/scenes", json_body(MAX_REQUEST_BYTES), headers)
    assert (response.status, json.loads(data)["error"]["code"]) == ((422, "invalid") if token else (400, "csrf"))
    expect_closed(connection, site, response)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_one_byte_over_the_limit_is_refused_and_the_connection_closed(connection, site, chunked):
    headers = session(connection)
    response, data = connection.send("POST", "/api/scenes", json_body(MAX_REQUEST_BYTES + 1), headers, chunked)
    assert response.status == 413
    assert "at most 4,000 characters" in json.loads(data)["error"]["message"]
    expect_closed(connection, site, response)


def test_no_control_socket_in_the_home_folder(site, home):
    """gunicorn 25.1+ opens a control socket at ~/.gunicorn/gunicorn.ctl by default: every
    instance on the machine would take over the same one."""
    assert not (home / ".gunicorn").exists()
