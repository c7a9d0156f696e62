#!/usr/bin/env python3
"""The IAM actions the console asks of the lab, and whether README's policies grant them.

The lab's emulators (lab/moto_server.py, lab/ministack_server.py) record the action of every
request the console makes into STATE/aws-actions-<emulator>.log, one `prefix:Action` a line,
each once. The console is told from the lab's own clients by its User-Agent: the Rust SDK's
says `aws-sdk-rust`; boto3's, the AWS CLI's and lab scripts' do not. An action is named by
its SigV4 signing name, mapped to the IAM prefix where the two differ, and the operation the
request carries (X-Amz-Target, the Query protocol's Action, the RPC v2 CBOR path, or a REST
route of the service's botocore model).

    iam.py check [--readme README.md] [--state lab/state]

checks every recorded action against README's two policies (the JSON blocks with a statement
of Sid QpconsoleRead, the read-only one, and QpconsoleChange): a read must be in either, a
change in the change policy. It fails
with one sentence naming each action that is not, and the policy it belongs in. lab/test runs
it after the test suite, on the actions recorded since the lab run began.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import io
import json
import os
import re
import sys
import threading
import urllib.parse

# Where the SigV4 signing name is not the IAM prefix.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# Where the signing name is not botocore's service name (for REST routes).
BOTOCORE_NAME = {"monitoring": "cloudwatch", "elasticloadbalancing": "elbv2"}
# Every principal may call these: they need no policy.
NO_PERMISSION = {"sts:GetCallerIdentity"}
# The verbs of actions that only read. Logs Insights queries and live tails read too.
READ_VERBS = ("Describe", "List", "Get", "Filter", "Download", "Search", "Lookup", "BatchGet")
READS = {"logs:StartQuery", "logs:StopQuery", "logs:StartLiveTail"}
POLICIES = {"QpconsoleRead": "read-only policy", "QpconsoleChange": "change policy"}
CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
# Set by lab/up for the emulators it starts: the state folder the records go to.
STATE_VAR = "QPCONSOLE_LAB_STATE"


def from_console(headers: dict[str, str]) -> bool:
    agents = headers.get("user-agent", "") + " " + headers.get("x-amz-user-agent", "")
    return "aws-sdk-rust" in agents


def action_of(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str | None:
    """The IAM action of a request (`headers` with lower-case names), or None for an unsigned
    one (an emulator's own API)."""
    m = CREDENTIAL.search(headers.get("authorization", ""))
    if not m:
        return None
    signing = m.group(1)
    path = raw_path.split("?", 1)[0]
    if headers.get("x-amz-target"):
        op = headers["x-amz-target"].rpartition(".")[2]
    elif headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        op = path.rstrip("/").rpartition("/")[2]
    elif headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        op = (form.get("Action") or ["?"])[0]
    else:
        op = rest_operation(BOTOCORE_NAME.get(signing, signing), method, path)
    return f"{IAM_PREFIX.get(signing, signing)}:{op}"


_routes: dict[str, list[tuple[str, re.Pattern, int, str]]] = {}


def rest_operation(service: str, method: str, path: str) -> str:
    """The operation of a REST request by the routes of the service's botocore model: the one
    whose URI template matches the whole path, the most literal where several do."""
    if service not in _routes:
        import botocore.session

        model = botocore.session.get_session().get_service_model(service)
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            template = http["requestUri"].split("?", 1)[0].rstrip("/")
            parts = re.split(r"(\{[^}]+\})", template)
            # A label matches one path segment; a greedy one ({key+}) the rest of the path.
            pattern = "".join(
                (".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p)
                for p in parts
            )
            literal = sum(len(p) for p in parts if not p.startswith("{"))
            routes.append((http["method"], re.compile(pattern + "/?"), literal, name))
        _routes[service] = routes
    matches = [
        (literal, name)
        for verb, pattern, literal, name in _routes[service]
        if verb == method and pattern.fullmatch(path)
    ]
    return max(matches)[1] if matches else f"{method} {path}"


class Recorder:
    """Appends each action the console asks of one emulator to STATE/aws-actions-NAME.log, once
    per file: when the file is removed (lab/test starts a run so), it is written afresh."""

    def __init__(self, emulator: str) -> None:
        state = os.environ.get(STATE_VAR)
        self.path = os.path.join(state, f"aws-actions-{emulator}.log") if state else None
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.inode: int | None = None

    def record(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> None:
        if self.path is None or not from_console(headers):
            return
        action = action_of(method, raw_path, headers, body)
        if action is None:
            return
        with self.lock:
            try:
                inode = os.stat(self.path).st_ino
            except FileNotFoundError:
                inode = None
            if inode != self.inode:
                self.seen.clear()
            if action in self.seen:
                return
            with open(self.path, "a") as f:
                f.write(action + "\n")
            self.seen.add(action)
            self.inode = os.stat(self.path).st_ino

    def wsgi(self, environ: dict) -> None:
        """Records a WSGI request, leaving its body to be read again."""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        if not from_console(headers):
            return
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        self.record(environ.get("REQUEST_METHOD", ""), raw, headers, body)

    def asgi(self, app):
        """An ASGI app that records each request and hands it to `app`, body and all."""

        async def recorded(scope, receive, send):
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in scope.get("headers", [])
            }
            if scope["type"] != "http" or not from_console(headers):
                return await app(scope, receive, send)
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False) and message["type"] == "http.request"
            body = b"".join(chunks)
            raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            self.record(scope["method"], raw, headers, body)
            replayed = False

            async def replay():
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await app(scope, replay, send)

        return recorded


# --------------------------------------------------------------------------------------------
# The check.


def policies(readme: str) -> dict[str, list[str]]:
    """The actions README's JSON policy blocks allow, by the Sid that names the policy (a
    block is one policy: every Allow statement of it counts)."""
    out: dict[str, list[str]] = {}
    for block in re.findall(r"```json\n(.*?)```", readme, re.S):
        try:
            doc = json.loads(block)
        except ValueError:
            continue
        statements = doc.get("Statement", []) if isinstance(doc, dict) else []
        sids = [s.get("Sid") for s in statements if s.get("Sid") in POLICIES]
        if not sids:
            continue
        for s in statements:
            if s.get("Effect") == "Allow":
                actions = s.get("Action", [])
                listed = [actions] if isinstance(actions, str) else actions
                out.setdefault(sids[0], []).extend(listed)
    return out


def grants(policy: list[str], action: str) -> bool:
    # IAM matches actions case-insensitively, with * and ? wildcards.
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in policy)


def is_read(action: str) -> bool:
    return action in READS or action.partition(":")[2].startswith(READ_VERBS)


def problems(actions: set[str], granted: dict[str, list[str]]) -> list[str]:
    """What is wrong with README's policies for these actions, each with where it belongs."""
    found = [f"README has no {sid} policy" for sid in POLICIES if sid not in granted]
    if found:
        return found
    read, change = granted["QpconsoleRead"], granted["QpconsoleChange"]
    for a in sorted(actions - NO_PERMISSION):
        if is_read(a) and not (grants(read, a) or grants(change, a)):
            found.append(f"{a} (read-only policy)")
        elif not is_read(a) and not grants(change, a):
            where = ", not the read-only one" if grants(read, a) else ""
            found.append(f"{a} (change policy{where})")
    return found


def recorded(state: str) -> set[str]:
    actions: set[str] = set()
    for path in glob.glob(os.path.join(state, "aws-actions-*.log")):
        with open(path) as f:
            actions.update(line.strip() for line in f if line.strip())
    return actions


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["check"])
    ap.add_argument("--readme", default=os.path.join(here, "..", "README.md"))
    ap.add_argument("--state", default=os.path.join(here, "state"))
    args = ap.parse_args()
    actions = recorded(args.state)
    if not actions:
        print(
            f"iam: no AWS action of the console was recorded in {args.state}/aws-actions-*.log: "
            "were the emulators started by this lab/up (else restart them: lab/down; lab/up), "
            "and did the console run against them?",
            file=sys.stderr,
        )
        return 1
    with open(args.readme) as f:
        found = problems(actions, policies(f.read()))
    if found:
        print(
            "iam: README's IAM policies do not grant what the console asked in the lab run: "
            + "; ".join(found)
            + ".",
            file=sys.stderr,
        )
        return 1
    print(
        f"iam: README's policies grant all {len(actions)} actions the console asked",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
