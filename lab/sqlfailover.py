"""The lab's cluster failing over at the SQL layer, as Aurora's does: run by lab/sqlfailover.

The emulator swaps the members' roles in its API at once, and the lab's two MariaDB servers
keep theirs. This watcher serves the cluster's writer and reader endpoints itself, as two TCP
relays (lab/tcprelay.py's, as the fault proxy's), and polls the emulator's cluster: when its
writer member changes, it

1. makes the old writer read-only (writes in flight are refused with a read-only error),
2. a second later refuses new connections to the writer endpoint and ends those open,
3. lets the new writer catch up with the old one's binary log, stops its replication and
   makes it writable, and has the old writer replicate from it,
4. once the gap (drawn from --gap MIN-MAX seconds, counted from step 1) has passed, points
   the writer endpoint at the new writer and the reader endpoint at the old one.

The reader endpoint keeps answering throughout. Every step is a JSON line in --events (what a
test compares the console's measurement with). On TERM the original roles come back: the
primary writable, the replica replicating from it, the endpoints as at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import boto3

from tcprelay import Relay


def say(event: str, **fields) -> None:
    line = json.dumps({"at": time.time(), "event": event, **fields})
    with open(ARGS.events, "a") as f:
        f.write(line + "\n")
    print(line, file=sys.stderr, flush=True)


def sql(server: str, statement: str) -> str:
    """Runs `statement` on the lab's server (primary or replica) as the lab's admin."""
    out = subprocess.run(
        ["mariadb", "--no-defaults", "--protocol=socket", f"--socket={ARGS.sockets[server]}",
         f"--user={ARGS.user}", "--connect-timeout=5", "--batch", "--skip-column-names", "-e", statement],
        capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{server}: {statement.split()[0]} ...: {out.stderr.strip()}")
    return out.stdout.strip()


def replicate(server: str, source: str) -> None:
    """`server` replicates from `source` from the end of its binary log (which `server` holds
    all of: it has just caught up, or wrote it)."""
    status = sql(source, "SHOW MASTER STATUS").split("\t")
    sql(server, "STOP SLAVE; RESET SLAVE ALL; "
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={ARGS.ports[source]}, "
        f"MASTER_USER='repl', MASTER_PASSWORD='{ARGS.repl_password}', MASTER_USE_GTID=no, "
        f"MASTER_LOG_FILE='{status[0]}', MASTER_LOG_POS={status[1]}, MASTER_CONNECT_RETRY=1; "
        "SET GLOBAL read_only=ON; START SLAVE")


def promote(new: str, old: str) -> None:
    """`new` catches up with `old` (read-only by now), stops replicating and takes writes;
    `old` replicates from it."""
    pos = sql(old, "SELECT @@gtid_binlog_pos")
    waited = sql(new, f"SELECT MASTER_GTID_WAIT('{pos}', 20)")
    if waited != "0":
        say("catch-up-timeout", server=new, gtid=pos)
    sql(new, "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=OFF")
    replicate(old, new)


# What the writer endpoint's name "resolves to" in the lab, per server: text for the resolve
# command to print, never dialled (the relays carry the traffic on 127.0.0.1).
ADDRESSES = {"primary": "10.20.1.11", "replica": "10.20.2.12"}


def answer(server: str) -> None:
    """Writes the writer endpoint's DNS answer as getent prints it, atomically."""
    path = os.path.join(ARGS.dns, ARGS.writer_endpoint)
    with open(path + ".tmp", "w") as f:
        f.write(f"{ADDRESSES[server]}      STREAM {ARGS.writer_endpoint}\n")
    os.replace(path + ".tmp", path)


def writer_member(rds, cluster: str) -> str | None:
    members = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["DBClusterMembers"]
    return next((m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]), None)


def main() -> None:
    rds = boto3.client("rds", endpoint_url=ARGS.moto, region_name="us-east-1")
    first = writer_member(rds, ARGS.cluster)
    others = [m for m in ARGS.members if m != first]
    if first is None or len(others) != 1:
        sys.exit(f"sqlfailover: cluster {ARGS.cluster} has writer {first!r} and members {ARGS.members!r}")
    # The emulator's writer now is the lab's primary (as lab/up maps it); the other member the replica.
    server_of = {first: "primary", others[0]: "replica"}
    writer = "primary"
    lo, hi = ARGS.gap
    w = Relay("writer", ARGS.writer_port, ("127.0.0.1", ARGS.ports["primary"]))
    r = Relay("reader", ARGS.reader_port, ("127.0.0.1", ARGS.ports["replica"]))
    for relay in (w, r):
        relay.start()
    answer("primary")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    say("ready", writer=first, writer_port=ARGS.writer_port, reader_port=ARGS.reader_port, gap=[lo, hi])
    while not stopping.is_set():
        try:
            member = writer_member(rds, ARGS.cluster)
        except Exception as e:  # the emulator restarting: look again
            say("poll-failed", error=str(e))
            member = None
        new = server_of.get(member)
        if new is not None and new != writer:
            old, gap = writer, random.uniform(lo, hi)
            started = time.time()
            say("failover-seen", member=member, old=old, new=new, gap_s=round(gap, 3))
            sql(old, "SET GLOBAL read_only=ON")
            say("read-only", server=old)
            time.sleep(min(1.0, gap))
            w.refuse()
            say("writes-refused")
            promote(new, old)
            time.sleep(max(0.0, started + gap - time.time()))
            w.point(("127.0.0.1", ARGS.ports[new]))
            r.point(("127.0.0.1", ARGS.ports[old]))
            answer(new)
            say("dns", server=new, address=ADDRESSES[new])
            writer = new
            say("switched", writer=new, gap_s=round(time.time() - started, 3))
        time.sleep(0.2)
    if writer != "primary":
        sql("replica", "SET GLOBAL read_only=ON")
        promote("primary", "replica")
        say("restored", writer="primary")
    w.point(("127.0.0.1", ARGS.ports["primary"]))
    r.point(("127.0.0.1", ARGS.ports["replica"]))
    answer("primary")
    say("stopped")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moto", required=True)
    p.add_argument("--cluster", required=True)
    p.add_argument("--members", required=True, type=lambda s: s.split(","))
    p.add_argument("--writer-port", required=True, type=int)
    p.add_argument("--reader-port", required=True, type=int)
    p.add_argument("--primary", required=True, help="PORT:SOCKET")
    p.add_argument("--replica", required=True, help="PORT:SOCKET")
    p.add_argument("--user", required=True)
    p.add_argument("--repl-password-file", required=True)
    p.add_argument("--gap", default="20-30", help="seconds of refused writes: N or MIN-MAX")
    p.add_argument("--events", required=True)
    p.add_argument("--dns", required=True, help="directory of the endpoint names' answers")
    p.add_argument("--writer-endpoint", required=True)
    a = p.parse_args()
    lo, _, hi = a.gap.partition("-")
    a.gap = (float(lo), float(hi or lo))
    if not 0 < a.gap[0] <= a.gap[1]:
        sys.exit(f"sqlfailover: --gap {a.gap}: expected N or MIN-MAX seconds, MIN <= MAX")
    a.ports, a.sockets = {}, {}
    for name in ("primary", "replica"):
        port, _, sock = getattr(a, name).partition(":")
        a.ports[name], a.sockets[name] = int(port), sock
    a.repl_password = open(a.repl_password_file).read().strip()
    return a


if __name__ == "__main__":
    ARGS = parse()
    main()
