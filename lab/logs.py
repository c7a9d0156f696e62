#!/usr/bin/env python3
"""Writes log lines into the running lab, for the console's log views to follow (lab/logs runs
this with the lab's venv python; see lab/README.md, "Logs").

    logs.py burst RATE SECONDS [--target cloudwatch|instances|both]
    logs.py append INSTANCE-ID TEXT
    logs.py put GROUP STREAM TEXT...

Also the one place that knows the shape of the lab's log lines: lab/seed.py imports the
formats below, so that what a burst writes looks like what the seed wrote.

Each command prints one JSON line on stdout; errors are one sentence on stderr, status 1.
CloudWatch Logs is always moto itself (seed.json's endpoint), never AWS_ENDPOINT_URL*: a test
that points the console at the fault proxy must not have the lab's own writes counted or
throttled there.
"""

from __future__ import annotations

import json
import os
import queue
import random
import secrets
import sys
import threading
import time

# The Phoenix application's log group (one stream per instance, named by its instance id).
PHOENIX_LOG_GROUP = "/qualitypost/phoenix/app"
# The process id of the phoenix service on the N-th instance, as journald would print it.
PHOENIX_PID_BASE, PHOENIX_PID_STEP = 812, 211
# PutLogEvents' limits: 10,000 events and 1,048,576 bytes (each event's message plus 26).
PUT_MAX_EVENTS, PUT_MAX_BYTES, PUT_EVENT_OVERHEAD = 10_000, 1_048_576, 26
# How often a burst sends what it has to CloudWatch (as an agent would: in batches).
FLUSH_SECONDS = 0.2


# --------------------------------------------------------------------------------------------
# The formats (shared with lab/seed.py).


def short_iso(t: float) -> str:
    """`journalctl -o short-iso`'s timestamp, in UTC as EC2 instances keep it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(t))


def instance_host(private_ip: str) -> str:
    """The hostname EC2 gives an instance: ip-10-20-1-4 for 10.20.1.4."""
    return "ip-" + private_ip.replace(".", "-")


def instance_pid(index: int) -> int:
    return PHOENIX_PID_BASE + PHOENIX_PID_STEP * index


def instance_line(t: float, host: str, pid: int, text: str) -> str:
    """One line of an instance's log file, as `journalctl -o short-iso -u phoenix` prints it."""
    return f"{short_iso(t)} {host} phoenix[{pid}]: {text}"


def tracking_number(rng: random.Random) -> str:
    return f"QP{rng.randrange(10**8, 10**9)}"


def request_text(rng: random.Random, instance_id: str, level: str = "INFO") -> str:
    """One application log line of Phoenix: an HTTP request, naming the instance it ran on."""
    if level == "ERROR":
        return (
            f"ERROR GET /track/{tracking_number(rng)} 502 {rng.randint(30000, 30100)}ms "
            f"upstream timeout (aurora writer) instance={instance_id}"
        )
    if level == "WARN":
        if rng.random() < 0.5:
            return (
                f"WARN GET /track/{tracking_number(rng)} 200 {rng.randint(1200, 2600)}ms "
                f"slow request instance={instance_id}"
            )
        return (
            f"WARN POST /api/parcels 429 {rng.randint(1, 4)}ms rate limited "
            f"client=203.0.113.{rng.randint(2, 254)} instance={instance_id}"
        )
    r = rng.random()
    if r < 0.70:
        req = f"GET /track/{tracking_number(rng)} 200 {rng.randint(8, 60)}ms"
    elif r < 0.82:
        req = f"POST /api/parcels 201 {rng.randint(20, 90)}ms"
    elif r < 0.92:
        req = "GET /health 200 1ms"
    else:
        req = f"GET /track/{tracking_number(rng)} 404 {rng.randint(5, 20)}ms"
    return f"INFO {req} instance={instance_id}"


# --------------------------------------------------------------------------------------------
# The commands.


class Fail(Exception):
    """A one-sentence error for the user."""


def load_seed(state: str) -> dict:
    try:
        with open(os.path.join(state, "seed.json")) as f:
            seed = json.load(f)
    except (OSError, ValueError):
        raise Fail("the lab is not seeded (no lab/state/seed.json): run lab/up first")
    if "logs" not in seed:
        raise Fail("lab/state/seed.json has no logs (an older seed): run lab/up --reseed")
    return seed


def logs_client(seed: dict):
    # Never the user's AWS files or credentials: only moto, with the lab's fixed test keys.
    for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(var, None)
    os.environ.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    import boto3
    import botocore.config

    return boto3.client(
        "logs",
        region_name=seed.get("region", "us-east-1"),
        endpoint_url=seed["emulators"]["moto"]["endpoint"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=30
        ),
    )


def ensure_stream(client, group: str, stream: str) -> None:
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    except client.exceptions.ResourceNotFoundException:
        raise Fail(f"moto has no log group {group} (lab/logs makes streams, not groups)")


def put_events(client, group: str, stream: str, events: list[dict]) -> int:
    """PutLogEvents in batches within AWS's limits; returns how many moto accepted."""
    accepted, batch, size = 0, [], 0

    def send() -> int:
        r = client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        info = r.get("rejectedLogEventsInfo") or {}
        rejected = 0
        if "tooOldLogEventEndIndex" in info:
            rejected += info["tooOldLogEventEndIndex"] + 1
        if "tooNewLogEventStartIndex" in info:
            rejected += len(batch) - info["tooNewLogEventStartIndex"]
        return len(batch) - rejected

    for e in events:
        n = len(e["message"].encode()) + PUT_EVENT_OVERHEAD
        if batch and (len(batch) >= PUT_MAX_EVENTS or size + n > PUT_MAX_BYTES):
            accepted += send()
            batch, size = [], 0
        batch.append(e)
        size += n
    if batch:
        accepted += send()
    return accepted


def instance_files(seed: dict) -> dict:
    return seed["logs"]["instance_files"]["files"]


def cmd_append(seed: dict, args: list[str]) -> dict:
    if len(args) != 2:
        raise Fail(
            "append takes an instance id and one TEXT (quote it): lab/logs append INSTANCE-ID TEXT"
        )
    iid, text = args
    files = instance_files(seed)
    if iid not in files:
        raise Fail(f"no Phoenix instance {iid} in the seed (there are {', '.join(files)})")
    if "\n" in text or "\r" in text:
        raise Fail("TEXT must be one line (an instance log line has no newline in it)")
    f = files[iid]
    line = instance_line(time.time(), f["host"], f["pid"], text)
    append_line(f["path"], line)
    return {"instance": iid, "path": f["path"], "line": line}


def append_line(path: str, line: str) -> None:
    # O_APPEND with one write per line: lines from concurrent writers never interleave.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        raise Fail(f"{path} is missing: run lab/up (it writes the instance log files)")
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def cmd_put(seed: dict, args: list[str]) -> dict:
    if len(args) < 3:
        raise Fail(
            "put takes a group, a stream and at least one TEXT: lab/logs put GROUP STREAM TEXT..."
        )
    group, stream, texts = args[0], args[1], args[2:]
    client = logs_client(seed)
    ensure_stream(client, group, stream)
    # One millisecond apart, the last one now: distinct timestamps keep their order in every
    # reader, as a single batch from one writer would have it.
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now - (len(texts) - 1) + i, "message": t} for i, t in enumerate(texts)
    ]
    accepted = put_events(client, group, stream, events)
    if accepted != len(events):
        raise Fail(f"moto accepted {accepted} of {len(events)} events")
    return {
        "group": group,
        "stream": stream,
        "events": len(events),
        "first_ms": events[0]["timestamp"],
        "last_ms": events[-1]["timestamp"],
    }


def parse_burst(args: list[str]) -> tuple[float, float, str]:
    pos, target, i = [], "both", 0
    while i < len(args):
        a = args[i]
        if a == "--target":
            if i + 1 >= len(args):
                raise Fail("--target needs a value: cloudwatch, instances or both")
            target = args[i + 1]
            i += 2
            continue
        if a.startswith("--target="):
            target = a.split("=", 1)[1]
        elif a.startswith("-") and not _is_number(a):
            raise Fail(f"unknown option for burst: {a} (see lab/logs --help)")
        else:
            pos.append(a)
        i += 1
    if len(pos) != 2:
        raise Fail(
            "burst takes RATE and SECONDS: "
            "lab/logs burst RATE SECONDS [--target cloudwatch|instances|both]"
        )
    if target not in ("cloudwatch", "instances", "both"):
        raise Fail(f"unknown --target {target} (cloudwatch, instances or both)")
    rate, seconds = _positive(pos[0], "RATE"), _positive(pos[1], "SECONDS")
    if rate * seconds < 1:
        raise Fail(f"a burst of {pos[0]} lines a second for {pos[1]} s writes no line at all")
    return rate, seconds, target


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _plain(v: float) -> float | int:
    """200 rather than 200.0 in the JSON, when it is whole."""
    return int(v) if v.is_integer() else v


def _positive(s: str, name: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise Fail(f"{name} must be a number, not {s}")
    if not (v > 0 and v < float("inf")):
        raise Fail(f"{name} must be more than 0, not {s}")
    return v


class CloudWatchWriter(threading.Thread):
    """Sends a burst's lines to their instances' streams every FLUSH_SECONDS, one stream after
    the other, so that a slow moto (busy with a reader's FilterLogEvents) delays the batches
    but never the schedule of the lines themselves."""

    def __init__(self, client, group: str, streams: list[str]) -> None:
        super().__init__(daemon=True)
        self.client, self.group, self.streams = client, group, streams
        self.q: queue.Queue = queue.Queue()
        self.counts = {s: 0 for s in streams}
        self.error: str | None = None

    def run(self) -> None:
        pending: dict[str, list[dict]] = {s: [] for s in self.streams}
        next_flush = time.monotonic() + FLUSH_SECONDS
        done = False
        while not done:
            try:
                item = self.q.get(timeout=max(0.0, next_flush - time.monotonic()))
                if item is None:
                    done = True
                else:
                    pending[item[0]].append({"timestamp": item[1], "message": item[2]})
            except queue.Empty:
                pass
            if done or time.monotonic() >= next_flush:
                for s in self.streams:
                    if pending[s] and self.error is None:
                        try:
                            self.counts[s] += put_events(self.client, self.group, s, pending[s])
                        except Exception as e:  # reported once the burst ends
                            self.error = f"PutLogEvents to {self.group} {s} failed: {e}"
                    pending[s] = []
                next_flush = time.monotonic() + FLUSH_SECONDS


def cmd_burst(seed: dict, args: list[str]) -> tuple[dict, int]:
    rate, seconds, target = parse_burst(args)
    total = int(round(rate * seconds))
    files = instance_files(seed)
    ids = [i["id"] for i in seed["phoenix"]["instances"]]
    group = seed["logs"]["phoenix_group"]
    to_cw, to_files = target in ("cloudwatch", "both"), target in ("instances", "both")
    fds = {}
    if to_files:
        for iid in ids:
            try:
                fds[iid] = os.open(files[iid]["path"], os.O_WRONLY | os.O_APPEND)
            except (KeyError, FileNotFoundError):
                raise Fail(f"the log file of {iid} is missing: run lab/up")
    writer = None
    if to_cw:
        client = logs_client(seed)
        for iid in ids:
            ensure_stream(client, group, iid)
        writer = CloudWatchWriter(client, group, ids)
        writer.start()
    burst_id = secrets.token_hex(3)
    rng = random.Random(burst_id)
    counts_files = {iid: 0 for iid in ids} if to_files else {}
    first_ms = last_ms = None
    written = 0
    status = 0
    # Line n is due at n/RATE seconds after the start and carries that time (not the moment the
    # loop got to it), so the lines are spread evenly whatever the scheduler does.
    t0, m0 = time.time(), time.monotonic()
    try:
        for n in range(total):
            due = n / rate
            wait = due - (time.monotonic() - m0)
            if wait > 0:
                time.sleep(wait)
            t = t0 + due
            ms = int(t * 1000)
            iid = ids[n % len(ids)]
            text = f"{request_text(rng, iid)} burst={burst_id} seq={n + 1}"
            if to_files:
                f = files[iid]
                os.write(fds[iid], (instance_line(t, f["host"], f["pid"], text) + "\n").encode())
                counts_files[iid] += 1
            if writer:
                writer.q.put((iid, ms, text))
            if first_ms is None:
                first_ms = ms
            last_ms = ms
            written += 1
    except KeyboardInterrupt:
        status = 130  # what was written so far is still flushed and reported
    finally:
        for fd in fds.values():
            os.close(fd)
        if writer:
            writer.q.put(None)
            writer.join()
    if writer and writer.error:
        print(f"lab: error: {writer.error}", file=sys.stderr)
        status = status or 1
    out = {
        "cloudwatch": writer.counts if writer else {},
        "instances": counts_files,
        "first_ms": first_ms,
        "last_ms": last_ms,
        "group": group if writer else None,
        "burst": burst_id,
        "lines": written,
        "rate": _plain(rate),
        "seconds": _plain(seconds),
    }
    return out, status


def main(argv: list[str]) -> int:
    state = os.path.join(os.path.dirname(os.path.abspath(__file__)), "state")
    try:
        if not argv:
            raise Fail("no command: burst, append or put (see lab/logs --help)")
        cmd, args = argv[0], argv[1:]
        if cmd not in ("burst", "append", "put"):
            raise Fail(f"unknown command: {cmd} (burst, append or put; see lab/logs --help)")
        seed = load_seed(state)
        status = 0
        if cmd == "burst":
            out, status = cmd_burst(seed, args)
        elif cmd == "append":
            out = cmd_append(seed, args)
        else:
            out = cmd_put(seed, args)
    except Fail as e:
        print(f"lab: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
