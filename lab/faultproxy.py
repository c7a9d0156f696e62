"""The lab's fault proxy: `faultproxy.py --port PORT --upstream HOST:PORT
[--route SERVICE=HOST:PORT]... [--relay NAME:PORT=HOST:PORT]...` serves 127.0.0.1:PORT and
forwards every request unchanged to the emulator that serves its service (the signing name
in its Authorization header: `--route` where given, else `--upstream`), except those a fault
rule claims. Started by lab/up, stopped by lab/down (see
lab/README.md, "The fault proxy"); driven by `lab/fault`. Standard library only; one thread
per client connection (keep-alive), each with its own connections to the upstreams.

Control, on the same port (never forwarded):

    POST /__fault/mode      {"mode": "throttle"|"503"|"reset"|"slow"|"answer"|"ok",
                             "service": "rds", "operation": "DescribeDBInstances", "ms": 500,
                             "next": 3}
                            every request of the service and operation (each optional: any)
                            is throttled with the service's own error, answered 503, reset
                            (TCP RST, nothing answered), delayed by ms before it is
                            forwarded, or ("answer", with "body", "status" and
                            "content_type") answered with that body instead of the
                            emulator's: what an emulator cannot stage; "next": only that
                            many requests, else until "ok".
                            "ok" lifts the rules of that service (all rules without one).
    POST /__fault/throttle  {"target": "Logs_20140328.FilterLogEvents", "next": 3}
                            (optional "group": only requests for that log group)
                            the next 3 requests whose X-Amz-Target is target are throttled
    POST /__fault/route     {"service": "autoscaling", "to": "127.0.0.1:27102"}: that
                            service's requests go there from now on (until a reset)
    GET  /__fault/stats     counters by X-Amz-Target, log group, service, service:operation,
                            and requests per service per second; the rules
    POST /__fault/relay     {"name": "bastion", "mode": "drop"|"pass"}: the TCP relay of that
                            name (lab/tcprelay.py) stalls every connection, or passes again
    POST /__fault/reset     no rules, all counters zero, the routes given at start, every
                            relay passing

Logs one line per request on stderr.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import io
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

import serving
import tcprelay

CONTROL = "/__fault/"
# The targets whose requests are also counted per log group (the group named in their body).
GROUP_TARGETS = {"Logs_20140328.FilterLogEvents"}
NO_TARGET = "(none)"  # the key of requests without X-Amz-Target (query protocol, moto-api)
UNSIGNED = "(unsigned)"  # the service of requests without a SigV4 signature (moto-api)
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
KINDS = ("throttle", "503", "reset", "slow", "answer")
# What each kind counts as, in a counter.
OUTCOME = {
    "throttle": "throttled",
    "503": "unavailable",
    "reset": "reset",
    "slow": "slowed",
    "answer": "answered",
}
# How many seconds of per-second counts are kept.
SECONDS_KEPT = 3600
CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def service_of(headers) -> str:
    """The SigV4 signing name of a request (rds, ec2, monitoring, ...)."""
    m = CREDENTIAL.search(headers.get("Authorization") or "")
    return m.group(1) if m else UNSIGNED


def protocol_of(headers, service: str) -> str:
    """The AWS protocol a request speaks: its errors are told in the same one."""
    if (headers.get("smithy-protocol") or "").lower() == "rpc-v2-cbor":
        return "cbor"
    if headers.get("X-Amz-Target"):
        return "json"
    if (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
        return "ec2" if service == "ec2" else "query"
    return "rest-json"


def operation_of(protocol: str, headers, path: str, body: bytes, method: str) -> str:
    if protocol == "json":
        return headers.get("X-Amz-Target", "").rpartition(".")[2]
    if protocol in ("query", "ec2"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or ["?"])[0]
        # EC2's preflight changes nothing: counted apart from the call itself.
        dry = (form.get("DryRun") or [""])[0].lower() == "true"
        return f"{action} (dry run)" if dry else action
    if protocol == "cbor":
        return path.split("?", 1)[0].rstrip("/").rpartition("/")[2]
    first = path.split("?", 1)[0].strip("/").split("/", 1)[0]
    return f"{method} /{first}"


def cbor_text(s: str) -> bytes:
    b = s.encode()
    if len(b) < 24:
        return bytes([0x60 + len(b)]) + b
    if len(b) < 256:
        return bytes([0x78, len(b)]) + b
    return bytes([0x79]) + struct.pack(">H", len(b)) + b


def cbor_map(pairs: dict[str, str]) -> bytes:
    assert len(pairs) < 24
    out = bytes([0xA0 + len(pairs)])
    for k, v in pairs.items():
        out += cbor_text(k) + cbor_text(v)
    return out


def error_answer(protocol: str, kind: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """The answer AWS gives when it throttles (kind "throttle") or is unavailable ("503"), in
    the request's protocol: Query's `Throttling`, EC2's `RequestLimitExceeded`, JSON's
    `ThrottlingException`, CloudWatch's CBOR `Throttling`."""
    request_id = str(uuid.uuid4())
    throttle = kind == "throttle"
    words = "Rate exceeded" if throttle else "Service unavailable"
    if protocol == "ec2":
        code = "RequestLimitExceeded" if throttle else "Unavailable"
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{words}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        # EC2 throttles with 503 as well.
        return 503, body, [("Content-Type", "text/xml;charset=UTF-8")]
    if protocol == "query":
        code = "Throttling" if throttle else "ServiceUnavailable"
        status = 400 if throttle else 503
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{words}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
        return status, body, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    if protocol == "cbor":
        code = "Throttling" if throttle else "ServiceUnavailable"
        status = 400 if throttle else 503
        body = cbor_map({"__type": f"com.amazonaws.cloudwatch#{code}", "message": words})
        return (
            status,
            body,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", f"{code};Sender"),
                ("x-amzn-RequestId", request_id),
            ],
        )
    code = "ThrottlingException" if throttle else "ServiceUnavailableException"
    status = (400 if protocol == "json" else 429) if throttle else 503
    ctype = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    body = json.dumps({"__type": code, "message": words}).encode()
    return (
        status,
        body,
        [("Content-Type", ctype), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)],
    )


class Request:
    """What the rules and counters know of one request."""

    def __init__(self, target: str, group: str | None, service: str, operation: str) -> None:
        self.target, self.group, self.service, self.operation = target, group, service, operation


class Rule:
    """One fault: the requests it matches (each field, when set) get `kind`, `remaining` more
    times (None: until lifted)."""

    def __init__(
        self,
        kind: str,
        remaining: int | None,
        target: str | None = None,
        group: str | None = None,
        service: str | None = None,
        operation: str | None = None,
        ms: int = 0,
        answer: tuple[int, str, str] | None = None,
    ) -> None:
        self.kind, self.remaining, self.ms = kind, remaining, ms
        # (status, content type, body) of a canned answer
        self.answer = answer
        self.target, self.group, self.service, self.operation = target, group, service, operation

    def key(self) -> tuple:
        return (self.kind, self.target, self.group, self.service, self.operation)

    def matches(self, r: Request) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and self.target in (None, r.target)
            and self.group in (None, r.group)
            and self.service in (None, r.service)
            and self.operation in (None, r.operation)
        )

    def to_json(self) -> dict:
        out = {"kind": self.kind, "remaining": self.remaining}
        for k in ("target", "group", "service", "operation"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.kind == "slow":
            out["ms"] = self.ms
        if self.answer is not None:
            out["status"] = self.answer[0]
        return out


def _counter() -> dict:
    return {
        "requests": 0,
        "forwarded": 0,
        "throttled": 0,
        "unavailable": 0,
        "reset": 0,
        "slowed": 0,
        "answered": 0,
        "upstream_errors": 0,
        "in_flight": 0,
        "max_in_flight": 0,
    }


class Faults:
    """The rules and the counters, behind one lock. A request is "in flight" from when its
    body has been read until its answer has been written (faulted ones too)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.rules: list[Rule] = []
            self.targets: dict[str, dict] = {}
            self.groups: dict[str, dict] = {}
            self.services: dict[str, dict] = {}
            self.operations: dict[str, dict] = {}
            self.seconds: dict[str, dict[int, int]] = {}

    def _counters(self, r: Request) -> list[dict]:
        out = [
            self.targets.setdefault(r.target, _counter()),
            self.services.setdefault(r.service, _counter()),
            self.operations.setdefault(f"{r.service}:{r.operation}", _counter()),
        ]
        if r.group is not None:
            out.append(self.groups.setdefault(r.group, _counter()))
        return out

    def begin(self, r: Request) -> Rule | None:
        """Counts the request in; returns the rule that claims it (one of its `remaining`
        used up), or None to forward it untouched."""
        now = int(time.time())
        with self.lock:
            for c in self._counters(r):
                c["requests"] += 1
                c["in_flight"] += 1
                c["max_in_flight"] = max(c["max_in_flight"], c["in_flight"])
            per_second = self.seconds.setdefault(r.service, {})
            per_second[now] = per_second.get(now, 0) + 1
            for old in [s for s in per_second if s < now - SECONDS_KEPT]:
                del per_second[old]
            for rule in self.rules:
                if rule.matches(r):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self.rules.remove(rule)
                    return rule
            return None

    def end(self, r: Request, outcomes: list[str]) -> None:
        with self.lock:
            for c in self._counters(r):
                c["in_flight"] -= 1
                for o in outcomes:
                    c[o] += 1

    def add(self, rule: Rule) -> None:
        """A new rule replaces the one that matches the same requests with the same kind
        (next: 0 removes it)."""
        with self.lock:
            self.rules = [r for r in self.rules if r.key() != rule.key()]
            if rule.remaining is None or rule.remaining > 0:
                self.rules.append(rule)

    def lift(self, service: str | None) -> None:
        with self.lock:
            self.rules = [r for r in self.rules if service is not None and r.service != service]

    def snapshot(self) -> dict:
        with self.lock:
            copy = lambda d: json.loads(json.dumps(d))  # noqa: E731
            return {
                "targets": copy(self.targets),
                "groups": copy(self.groups),
                "services": copy(self.services),
                "operations": copy(self.operations),
                "seconds": {s: {str(k): v for k, v in c.items()} for s, c in self.seconds.items()},
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


def _object(body: bytes, allowed: set[str]) -> dict:
    try:
        doc = json.loads(body or b"")
    except ValueError:
        raise BadRequest("the body must be JSON")
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = set(doc) - allowed
    if unknown:
        raise BadRequest(f"unknown keys {sorted(unknown)} ({', '.join(sorted(allowed))})")
    return doc


def _count(doc: dict, key: str) -> int | None:
    n = doc.get(key)
    if n is None:
        return None
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise BadRequest(f'"{key}" must be a whole number, 0 or more')
    return n


def _name(doc: dict, key: str, what: str) -> str | None:
    v = doc.get(key)
    if v is not None and (not isinstance(v, str) or not v):
        raise BadRequest(f'"{key}" must be {what}')
    return v


def parse_throttle(body: bytes) -> Rule:
    doc = _object(body, {"target", "next", "group"})
    target = _name(doc, "target", "an X-Amz-Target, e.g. Logs_20140328.FilterLogEvents")
    if target is None:
        raise BadRequest('"target" must be an X-Amz-Target, e.g. Logs_20140328.FilterLogEvents')
    n = _count(doc, "next")
    if n is None:
        raise BadRequest('"next" must be a whole number of requests, 0 or more')
    return Rule("throttle", n, target=target, group=_name(doc, "group", "a log group name"))


def parse_mode(body: bytes) -> Rule | str | None:
    """A rule to add, or (for "ok") the service whose rules are lifted (None: all)."""
    doc = _object(
        body, {"mode", "service", "operation", "ms", "next", "status", "content_type", "body"}
    )
    mode = doc.get("mode")
    service = _name(doc, "service", "a signing name such as rds, ec2 or monitoring")
    if mode == "ok":
        return ("ok", service)
    if mode not in KINDS:
        raise BadRequest(f'"mode" must be one of {", ".join(KINDS)} or ok')
    ms = _count(doc, "ms") or 0
    if mode == "slow" and ms <= 0:
        raise BadRequest('"slow" needs "ms", the delay in milliseconds')
    answer = None
    if mode == "answer":
        text, status = doc.get("body"), _count(doc, "status") or 200
        kind = doc.get("content_type") or "text/xml"
        if not isinstance(text, str) or not isinstance(kind, str) or not 100 <= status <= 599:
            raise BadRequest('"answer" needs "body" (text), and takes "status" and "content_type"')
        answer = (status, kind, text)
    return Rule(
        mode,
        _count(doc, "next"),
        service=service,
        operation=_name(doc, "operation", "an operation name such as DescribeDBInstances"),
        ms=ms,
        answer=answer,
    )


class Upstreams:
    """Where each service's requests go: the routes given at start, and those set since (until
    a reset)."""

    def __init__(self, default: tuple[str, int], routes: dict[str, tuple[str, int]]) -> None:
        self.default, self.given, self.routes = default, dict(routes), dict(routes)
        self.lock = threading.Lock()

    def of(self, service: str) -> tuple[str, int]:
        with self.lock:
            return self.routes.get(service, self.default)

    def set(self, service: str, to: tuple[str, int]) -> None:
        with self.lock:
            self.routes[service] = to

    def reset(self) -> None:
        with self.lock:
            self.routes = dict(self.given)


def parse_route(body: bytes) -> tuple[str, tuple[str, int]]:
    doc = _object(body, {"service", "to"})
    service = _name(doc, "service", "a signing name such as autoscaling")
    to = doc.get("to")
    if service is None or not isinstance(to, str) or not re.fullmatch(r"127\.0\.0\.1:\d+", to):
        raise BadRequest('a route needs "service" and "to": "127.0.0.1:PORT" (loopback only)')
    return service, host_port(to)


def parse_relay(body: bytes, relays: dict[str, tcprelay.Relay]) -> tuple[tcprelay.Relay, str]:
    doc = _object(body, {"name", "mode"})
    name = _name(doc, "name", "a relay's name, e.g. bastion")
    if name not in relays:
        raise BadRequest(f"no relay {name!r}: the relays are {', '.join(relays) or 'none'}")
    mode = doc.get("mode")
    if mode not in ("drop", "pass"):
        raise BadRequest(f'"mode" must be "drop" or "pass", not {mode!r}')
    return relays[name], mode


def make_handler(faults: Faults, upstreams: Upstreams, relays: dict[str, tcprelay.Relay]):
    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.1: keep-alive, as the SDKs' connection pools expect.
        protocol_version = "HTTP/1.1"
        server_version = "qpconsole-lab-faultproxy"
        sys_version = ""

        def setup(self) -> None:
            super().setup()
            self.conns: dict[tuple[str, int], http.client.HTTPConnection] = {}

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

        def _reset(self) -> None:
            """Closes the connection with a TCP RST, answering nothing."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.wfile = io.BytesIO()  # what the server would still flush goes nowhere
            self.connection.close()

        def _handle(self) -> None:
            started = time.monotonic()
            body = self._read_body()
            if self.path.startswith(CONTROL) or self.path == CONTROL.rstrip("/"):
                self._control(body)
                return
            target = self.headers.get("X-Amz-Target") or NO_TARGET
            service = service_of(self.headers)
            protocol = protocol_of(self.headers, service)
            operation = operation_of(protocol, self.headers, self.path, body, self.command)
            request = Request(target, group_of(target, body), service, operation)
            rule = faults.begin(request)
            outcomes, status = [], 0
            try:
                if rule is not None:
                    outcomes.append(OUTCOME[rule.kind])
                if rule is not None and rule.kind in ("throttle", "503"):
                    status, answer, headers = error_answer(protocol, rule.kind)
                    self._answer(status, answer, headers)
                elif rule is not None and rule.kind == "reset":
                    self._reset()
                elif rule is not None and rule.answer is not None:
                    status, kind, text = rule.answer
                    self._answer(status, text.encode(), [("Content-Type", kind)])
                else:
                    if rule is not None:
                        time.sleep(rule.ms / 1000)
                    status, reached, answer, headers = self._forward(upstreams.of(service), body)
                    # Counted before the answer is written: a client killed meanwhile does not
                    # undo what the emulator did.
                    outcomes.append("forwarded" if reached else "upstream_errors")
                    self._answer(status, answer, headers)
            finally:
                faults.end(request, outcomes)
                self.log_message(
                    "%s %s:%s%s -> %s %s (%.0f ms)",
                    self.command,
                    service,
                    operation,
                    f" {request.group}" if request.group else "",
                    status or "-",
                    "+".join(outcomes),
                    (time.monotonic() - started) * 1000,
                )

        def _forward(self, upstream: tuple[str, int], body: bytes):
            """Sends the request to the upstream: (status, whether the upstream answered, the
            answer's body and headers)."""
            for attempt in (1, 2):
                conn = self.conns.get(upstream)
                reused = conn is not None
                if conn is None:
                    conn = self.conns[upstream] = http.client.HTTPConnection(*upstream, timeout=120)
                try:
                    conn.putrequest(
                        self.command, self.path, skip_host=True, skip_accept_encoding=True
                    )
                    for k, v in self.headers.items():
                        if k.lower() not in HOP_BY_HOP:
                            conn.putheader(k, v)
                    if body or self.command in ("POST", "PUT", "PATCH"):
                        conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body or None)
                    resp = conn.getresponse()
                    data = resp.read()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # The upstream closed a kept-alive connection between two requests: the
                    # request never reached it, so once more on a new connection.
                    self._drop(upstream)
                    if reused and attempt == 1:
                        continue
                    return self._upstream_down(upstream)
                except OSError:
                    self._drop(upstream)
                    return self._upstream_down(upstream)
                if resp.will_close:
                    self._drop(upstream)
                headers = [
                    (k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP
                ]
                return resp.status, True, data, headers
            return self._upstream_down(upstream)

        def _drop(self, upstream: tuple[str, int]) -> None:
            conn = self.conns.pop(upstream, None)
            if conn is not None:
                conn.close()

        def _upstream_down(self, upstream: tuple[str, int]):
            body = f"faultproxy: upstream {upstream[0]}:{upstream[1]} did not answer".encode()
            return 502, False, body, [("Content-Type", "text/plain; charset=utf-8")]

        def _control(self, body: bytes) -> None:
            path = self.path.split("?", 1)[0]
            posts = {
                "/__fault/mode",
                "/__fault/throttle",
                "/__fault/route",
                "/__fault/relay",
                "/__fault/reset",
            }
            try:
                if path == "/__fault/stats":
                    if self.command != "GET":
                        return self._json(405, {"error": "GET /__fault/stats"})
                    relaying = {name: r.snapshot() for name, r in relays.items()}
                    return self._json(200, {**faults.snapshot(), "relays": relaying})
                if path in posts and self.command != "POST":
                    return self._json(405, {"error": f"POST {path}"})
                if path == "/__fault/mode":
                    parsed = parse_mode(body)
                    if isinstance(parsed, Rule):
                        faults.add(parsed)
                    else:
                        faults.lift(parsed[1])
                    return self._json(200, {"rules": faults.snapshot()["rules"]})
                if path == "/__fault/throttle":
                    faults.add(parse_throttle(body))
                    return self._json(200, {"rules": faults.snapshot()["rules"]})
                if path == "/__fault/route":
                    upstreams.set(*parse_route(body))
                    return self._json(200, {"routed": True})
                if path == "/__fault/relay":
                    relay, mode = parse_relay(body, relays)
                    if mode == "drop":
                        relay.drop()
                    else:
                        relay.pass_()
                    return self._json(200, relay.snapshot())
                if path == "/__fault/reset":
                    faults.reset()
                    upstreams.reset()
                    for relay in relays.values():
                        relay.reset()
                    return self._json(200, {"reset": True})
                return self._json(
                    404,
                    {
                        "error": f"no {path}: POST /__fault/mode, POST /__fault/throttle, "
                        "POST /__fault/route, POST /__fault/relay, GET /__fault/stats, "
                        "POST /__fault/reset"
                    },
                )
            except BadRequest as e:
                return self._json(400, {"error": str(e)})
            finally:
                self.log_message("%s %s (control)", self.command, path)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:
                pass  # the client went away first (or was reset)
            for conn in self.conns.values():
                conn.close()

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Many clients at once (a console following several groups, a test's parallel callers).
    request_queue_size = 128


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the emulator")
    ap.add_argument(
        "--route",
        action="append",
        default=[],
        help="SERVICE=HOST:PORT: that signing name's requests go there instead",
    )
    ap.add_argument(
        "--relay",
        action="append",
        default=[],
        help="NAME:PORT=HOST:PORT: a TCP relay from 127.0.0.1:PORT that can drop its traffic",
    )
    args = ap.parse_args()
    routes = {}
    for r in args.route:
        service, _, to = r.partition("=")
        routes[service] = host_port(to)
    upstreams = Upstreams(host_port(args.upstream), routes)
    relays = {r.name: r for r in map(tcprelay.parse, args.relay)}
    server = Server(("127.0.0.1", args.port), make_handler(Faults(), upstreams, relays))
    for relay in relays.values():
        relay.start()
    told = ", ".join(f"{s} -> {h}:{p}" for s, (h, p) in routes.items())
    told += "".join(
        f"; relay {r.name} 127.0.0.1:{r.port} -> {r.upstream[0]}:{r.upstream[1]}"
        for r in relays.values()
    )
    return serving.run(
        server,
        f"faultproxy: 127.0.0.1:{args.port} -> {upstreams.default[0]}:{upstreams.default[1]}"
        + (f" ({told})" if told else ""),
    )


if __name__ == "__main__":
    sys.exit(main())
