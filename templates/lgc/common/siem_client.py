"""A blocking HTTP client over wasi-http, for use inside the component only.

lgc links `wasi:http/outgoing-handler` for every plugin (TLS included; it accepts
self-signed certificates), and Python's own sockets do not exist in a component:
this is how the plugin reaches its SIEM. `send` has the signature
`plugin_logic.Transport` expects; the tests use a urllib one instead.
"""

from urllib.parse import urlsplit

from componentize_py_types import Err
from wit_world.imports import outgoing_handler
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    Method_Delete,
    Method_Get,
    Method_Post,
    Method_Put,
    OutgoingBody,
    OutgoingRequest,
    RequestOptions,
    Scheme_Http,
    Scheme_Https,
)

import plugin_logic as logic

METHODS = {"GET": Method_Get, "PUT": Method_Put, "POST": Method_Post, "DELETE": Method_Delete}
CHUNK = 65536  # the most one write() hands over


def send(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise logic.PluginError(f"url must be http:// or https:// with a host: {url!r}")
    try:
        return _send(method, parts, headers, body, timeout)
    except Err as error:
        # An Err escaping an export must carry a string: wasi-http's own error
        # values would make componentize-py trap instead.
        raise logic.PluginError(f"{method} {url}: {_describe(error.value)}") from None


def _send(method: str, parts, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
    url = parts.geturl()
    fields = [(name.lower(), value.encode()) for name, value in headers.items()]
    fields.append(("content-length", str(len(body)).encode()))
    request = OutgoingRequest(Fields.from_list(fields))
    request.set_method(METHODS[method]())
    request.set_scheme(Scheme_Https() if parts.scheme == "https" else Scheme_Http())
    request.set_authority(parts.netloc)
    request.set_path_with_query((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    options = RequestOptions()
    nanoseconds = int(timeout * 1_000_000_000)
    options.set_connect_timeout(nanoseconds)
    options.set_first_byte_timeout(nanoseconds)
    options.set_between_bytes_timeout(nanoseconds)

    outgoing = request.body()
    future = outgoing_handler.handle(request, options)
    with outgoing.write() as stream:
        # write() as the stream has room, never flush(): once content-length bytes
        # are in, the host may end the body at once, and a flush then fails
        # "closed" although everything was sent (seen in lgc 1.1.1, wasmtime 30).
        sent = 0
        while sent < len(body):
            room = stream.check_write()
            if room == 0:
                with stream.subscribe() as ready:
                    ready.block()
                continue
            stream.write(body[sent:sent + min(room, CHUNK)])
            sent += min(room, CHUNK)
    OutgoingBody.finish(outgoing, None)

    with future.subscribe() as ready:
        ready.block()
    outcome = future.get()
    if outcome is None or isinstance(outcome.value, Err):
        error = outcome.value.value if outcome is not None else "no response"
        raise logic.PluginError(f"cannot reach {parts.scheme}://{parts.netloc}: {_describe(error)}")
    response = outcome.value.value
    status = response.status()
    incoming = response.consume()
    data = bytearray()
    with incoming.stream() as stream:
        while True:
            try:
                data += stream.blocking_read(65536)
            except Err as error:
                if isinstance(error.value, StreamError_Closed):
                    break
                raise logic.PluginError(f"reading the answer of {url}: {_describe(error.value)}") from None
    IncomingBody.finish(incoming)
    return status, bytes(data)


def _describe(error) -> str:
    """wasi-http's ErrorCode_ConnectionRefused() as 'connection refused'."""
    name = type(error).__name__.removeprefix("ErrorCode_")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    payload = getattr(error, "value", None)
    return f"{words} ({payload})" if payload not in (None, "") else words
