"""A small local SIEM with the REST API plugin_logic.Siem speaks, for trying the
plugin in real lgc and for its tests. Rules live in memory; nothing is saved.

    make test-siem PORT=8080 TOKEN=change-me   (in the foreground, on 127.0.0.1)

then set the service's `url` to http://127.0.0.1:8080 and its `token` to the same
token (`lgc services configure <service>`). Python standard library only.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class Siem(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, token: str):
        super().__init__(("127.0.0.1", port), Handler)
        self.token = token
        self.rules: dict[str, dict] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Siem

    def answer(self, status: int, body=None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def route(self, method: str) -> None:
        if self.headers.get("authorization") != f"Bearer {self.server.token}":
            return self.answer(401, {"error": "missing or wrong bearer token"})
        path = urlsplit(self.path).path
        if path == "/health" and method == "GET":
            return self.answer(200, {"status": "ok"})
        if path == "/rules" and method == "GET":
            with self.server.lock:
                return self.answer(200, sorted(self.server.rules.values(), key=lambda rule: rule["title"]))
        if not path.startswith("/rules/") or len(path) == len("/rules/"):
            return self.answer(404, {"error": f"no route {method} {path}"})
        title = unquote(path[len("/rules/"):])
        with self.server.lock:
            if method == "GET":
                rule = self.server.rules.get(title)
                return self.answer(200, rule) if rule else self.answer(404, {"error": "no such rule"})
            if method == "DELETE":
                found = self.server.rules.pop(title, None)
                return self.answer(204) if found else self.answer(404, {"error": "no such rule"})
            length = int(self.headers.get("content-length") or 0)
            try:
                rule = json.loads(self.rfile.read(length))
            except ValueError:
                return self.answer(400, {"error": "the body is not JSON"})
            if not isinstance(rule, dict) or rule.get("title") != title or not rule.get("query"):
                return self.answer(400, {"error": "a rule is a JSON object with this path's title and a query"})
            created = title not in self.server.rules
            # Fields a real SIEM adds: the plugin's read() leaves them out.
            self.server.rules[title] = {**rule, "id": title, "updated_at": time.time()}
            return self.answer(201 if created else 200, self.server.rules[title])

    def do_GET(self) -> None:
        self.route("GET")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def log_message(self, format: str, *args) -> None:
        sys.stderr.write(f"test-siem: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--token", default="change-me", help="the bearer token it accepts")
    args = parser.parse_args()
    siem = Siem(args.port, args.token)
    print(f"test SIEM listening on {siem.url}", flush=True)
    try:
        siem.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
