"""The lab's fault proxy: `faultproxy.py --port PORT --upstream HOST:PORT` serves 127.0.0.1:PORT
and forwards every request unchanged to the upstream (moto), except those a fault rule claims,
which it answers itself. Started by lab/up, stopped by lab/down (see lab/README.md, "The fault
proxy"). Standard library only; one thread per client connection (keep-alive), each with its
own connection to the upstream.

Control, on the same port (never forwarded):

    POST /__fault/throttle  {"target": "Logs_20140328.FilterLogEvents", "next": 3}
                            (optional "group": only requests for that log group)
                            the next 3 requests whose X-Amz-Target is target get AWS's
                            JSON-1.1 ThrottlingException (HTTP 400) instead of moto's answer
    GET  /__fault/stats     {"targets": {...}, "groups": {...}, "rules": [...]}
    POST /__fault/reset     no rules, all counters zero

A rule is a small object (what it matches, how many requests it still claims, what it answers
with): latency or dropped connections are meant to be more kinds of it. Logs one line per
request on stderr.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import sys
import threading
import time
import uuid

import serving

CONTROL = "/__fault/"
# The targets whose requests are also counted per log group (the group named in their body).
GROUP_TARGETS = {"Logs_20140328.FilterLogEvents"}
NO_TARGET = "(none)"  # the key of requests without X-Amz-Target (query protocol, moto-api)
# Not passed on (RFC 9110 7.6.1): they describe one connection, not the request. The body is
# forwarded whole, with a Content-Length of its own.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
}
THROTTLE_BODY = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


class Rule:
    """One fault: requests whose X-Amz-Target is `target` (and, if set, whose log group is
    `group`) are answered by the proxy, `remaining` more times."""

    def __init__(self, kind: str, target: str, remaining: int, group: str | None = None) -> None:
        self.kind, self.target, self.remaining, self.group = kind, target, remaining, group

    def matches(self, target: str, group: str | None) -> bool:
        return (
            self.remaining > 0
            and target == self.target
            and (self.group is None or group == self.group)
        )

    def to_json(self) -> dict:
        out = {"kind": self.kind, "target": self.target, "remaining": self.remaining}
        if self.group is not None:
            out["group"] = self.group
        return out


def _counter() -> dict:
    return {
        "requests": 0,
        "throttled": 0,
        "forwarded": 0,
        "upstream_errors": 0,
        "in_flight": 0,
        "max_in_flight": 0,
    }


class Faults:
    """The rules and the counters, behind one lock. A request is "in flight" from when its
    body has been read until its answer has been written (throttled ones too)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.rules: list[Rule] = []
            self.targets: dict[str, dict] = {}
            self.groups: dict[str, dict] = {}

    def _counters(self, target: str, group: str | None) -> list[dict]:
        out = [self.targets.setdefault(target, _counter())]
        if group is not None:
            out.append(self.groups.setdefault(group, _counter()))
        return out

    def begin(self, target: str, group: str | None) -> Rule | None:
        """Counts the request in; returns the rule that claims it (one of its `remaining`
        used up), or None to forward it."""
        with self.lock:
            for c in self._counters(target, group):
                c["requests"] += 1
                c["in_flight"] += 1
                c["max_in_flight"] = max(c["max_in_flight"], c["in_flight"])
            for rule in self.rules:
                if rule.matches(target, group):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.rules.remove(rule)
                    return rule
            return None

    def end(self, target: str, group: str | None, outcome: str) -> None:
        with self.lock:
            for c in self._counters(target, group):
                c["in_flight"] -= 1
                c[outcome] += 1

    def add(self, rule: Rule) -> None:
        """A new rule replaces the one of the same kind, target and group (next: 0 removes it)."""
        with self.lock:
            self.rules = [
                r
                for r in self.rules
                if (r.kind, r.target, r.group) != (rule.kind, rule.target, rule.group)
            ]
            if rule.remaining > 0:
                self.rules.append(rule)

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "targets": json.loads(json.dumps(self.targets)),
                "groups": json.loads(json.dumps(self.groups)),
                "rules": [r.to_json() for r in self.rules],
            }


class BadRequest(Exception):
    pass


def group_of(target: str, body: bytes) -> str | None:
    if target not in GROUP_TARGETS:
        return None
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    g = doc.get("logGroupName") or doc.get("logGroupIdentifier")
    return g if isinstance(g, str) else None


def parse_throttle(body: bytes) -> Rule:
    try:
        doc = json.loads(body or b"")
    except ValueError:
        raise BadRequest("the body must be JSON")
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = set(doc) - {"target", "next", "group"}
    if unknown:
        raise BadRequest(f"unknown keys {sorted(unknown)} (target, next, group)")
    target, n, group = doc.get("target"), doc.get("next"), doc.get("group")
    if not isinstance(target, str) or not target:
        raise BadRequest('"target" must be an X-Amz-Target, e.g. Logs_20140328.FilterLogEvents')
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise BadRequest('"next" must be a whole number of requests, 0 or more')
    if group is not None and not isinstance(group, str):
        raise BadRequest('"group" must be a log group name')
    return Rule("throttle", target, n, group)


def make_handler(faults: Faults, upstream: tuple[str, int]):
    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.1: keep-alive, as the SDKs' connection pools expect.
        protocol_version = "HTTP/1.1"
        server_version = "qpconsole-lab-faultproxy"
        sys_version = ""

        conn: http.client.HTTPConnection | None = None

        def log_message(self, fmt: str, *args) -> None:
            print(f"faultproxy: {fmt % args}", file=sys.stderr, flush=True)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n > 0 else b""

        def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()

        def _json(self, status: int, doc) -> None:
            self._answer(
                status, json.dumps(doc).encode(), [("Content-Type", "application/json")]
            )

        def _handle(self) -> None:
            started = time.monotonic()
            body = self._read_body()
            if self.path.startswith(CONTROL) or self.path == CONTROL.rstrip("/"):
                self._control(body)
                return
            target = self.headers.get("X-Amz-Target") or NO_TARGET
            group = group_of(target, body)
            rule = faults.begin(target, group)
            outcome, status = "forwarded", 0
            try:
                if rule is not None:
                    outcome, status = "throttled", 400
                    self._answer(
                        400,
                        THROTTLE_BODY,
                        [
                            ("x-amzn-RequestId", str(uuid.uuid4())),
                            ("x-amzn-ErrorType", "ThrottlingException"),
                            ("Content-Type", "application/x-amz-json-1.1"),
                        ],
                    )
                else:
                    status, reached = self._forward(body)
                    if not reached:
                        outcome = "upstream_errors"
            finally:
                faults.end(target, group, outcome)
                self.log_message(
                    "%s %s%s -> %s %s (%.0f ms)",
                    self.command,
                    target,
                    f" {group}" if group else "",
                    status,
                    outcome,
                    (time.monotonic() - started) * 1000,
                )

        def _forward(self, body: bytes) -> tuple[int, bool]:
            """Sends the request to the upstream and its answer back: (status, whether the
            upstream answered)."""
            for attempt in (1, 2):
                reused = self.conn is not None
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(*upstream, timeout=120)
                try:
                    self.conn.putrequest(
                        self.command, self.path, skip_host=True, skip_accept_encoding=True
                    )
                    for k, v in self.headers.items():
                        if k.lower() not in HOP_BY_HOP:
                            self.conn.putheader(k, v)
                    if body or self.command in ("POST", "PUT", "PATCH"):
                        self.conn.putheader("Content-Length", str(len(body)))
                    self.conn.endheaders(body or None)
                    resp = self.conn.getresponse()
                    data = resp.read()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # The upstream closed a kept-alive connection between two requests: the
                    # request never reached it, so once more on a new connection.
                    self.conn.close()
                    self.conn = None
                    if reused and attempt == 1:
                        continue
                    return self._upstream_down()
                except OSError:
                    if self.conn is not None:
                        self.conn.close()
                    self.conn = None
                    return self._upstream_down()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                headers = [
                    (k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP
                ]
                self._answer(resp.status, data, headers)
                return resp.status, True
            return self._upstream_down()

        def _upstream_down(self) -> tuple[int, bool]:
            self._answer(
                502,
                f"faultproxy: upstream {upstream[0]}:{upstream[1]} did not answer".encode(),
                [("Content-Type", "text/plain; charset=utf-8")],
            )
            return 502, False

        def _control(self, body: bytes) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/__fault/stats":
                    if self.command != "GET":
                        return self._json(405, {"error": "GET /__fault/stats"})
                    return self._json(200, faults.snapshot())
                if path == "/__fault/throttle":
                    if self.command != "POST":
                        return self._json(405, {"error": "POST /__fault/throttle"})
                    faults.add(parse_throttle(body))
                    return self._json(200, {"rules": faults.snapshot()["rules"]})
                if path == "/__fault/reset":
                    if self.command != "POST":
                        return self._json(405, {"error": "POST /__fault/reset"})
                    faults.reset()
                    return self._json(200, {"reset": True})
                return self._json(
                    404,
                    {
                        "error": f"no {path}: POST /__fault/throttle, GET /__fault/stats, "
                        "POST /__fault/reset"
                    },
                )
            except BadRequest as e:
                return self._json(400, {"error": str(e)})
            finally:
                self.log_message("%s %s (control)", self.command, path)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

        def finish(self) -> None:
            super().finish()
            if self.conn is not None:
                self.conn.close()

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Many clients at once (a console following several groups, a test's parallel callers).
    request_queue_size = 128


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the emulator")
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    upstream = (host or "127.0.0.1", int(port))
    server = Server(("127.0.0.1", args.port), make_handler(Faults(), upstream))
    return serving.run(server, f"faultproxy: 127.0.0.1:{args.port} -> {upstream[0]}:{upstream[1]}")


if __name__ == "__main__":
    sys.exit(main())
