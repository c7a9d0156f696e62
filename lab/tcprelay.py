"""A TCP relay whose traffic can be dropped on command: the fault proxy runs one per
`--relay NAME:PORT=HOST:PORT` (lab/up: one in front of the bastion sshd), and `lab/fault
bastion drop|pass` drives it through the proxy's control port.

Dropping stalls both directions of every connection, open and new: nothing read is passed on
and nothing more is read until the relay passes again. That is what a TCP stream sees when
the network between its ends drops every packet: its peer falls silent, no FIN and no RST,
and once packets pass again the retransmitted bytes arrive, in order, none lost, unless one
end gave up meanwhile. (A relay that threw bytes away would corrupt the stream instead,
which no lost packet does.) New connections are accepted, as the kernel would complete
their handshake anyway, and then hear nothing.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

CHUNK = 65536


class Relay:
    def __init__(self, name: str, port: int, upstream: tuple[str, int]) -> None:
        self.name, self.port, self.upstream = name, port, upstream
        self.passing = threading.Event()
        self.passing.set()
        self.lock = threading.Lock()
        # Refusing (lab/sqlfailover's writer endpoint during a failover): new connections are
        # closed at once. `ends` holds both sockets of every connection open, to end them.
        self.refusing = False
        self.ends: set[socket.socket] = set()
        self.counts = {"connections": 0, "open": 0, "up_bytes": 0, "down_bytes": 0}
        self.listener = socket.create_server(("127.0.0.1", port), backlog=64)

    def start(self) -> None:
        threading.Thread(target=self._accept, name=f"relay-{self.name}", daemon=True).start()

    def drop(self) -> None:
        self.passing.clear()
        print(f"relay {self.name}: dropping", file=sys.stderr, flush=True)

    def pass_(self) -> None:
        self.passing.set()
        print(f"relay {self.name}: passing", file=sys.stderr, flush=True)

    def point(self, upstream: tuple[str, int]) -> None:
        """New connections go to `upstream`, and are taken again."""
        with self.lock:
            self.upstream, self.refusing = upstream, False

    def refuse(self) -> None:
        """New connections are closed at once, and those open are ended."""
        with self.lock:
            self.refusing = True
            ending, self.ends = self.ends, set()
        for s in ending:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reset(self) -> None:
        """Passing again, every counter zero but the connections still open."""
        self.pass_()
        with self.lock:
            for k in ("connections", "up_bytes", "down_bytes"):
                self.counts[k] = 0

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "port": self.port,
                "upstream": f"{self.upstream[0]}:{self.upstream[1]}",
                "mode": "pass" if self.passing.is_set() else "drop",
                **self.counts,
            }

    def _count(self, key: str, n: int) -> None:
        with self.lock:
            self.counts[key] += n

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError as e:  # out of descriptors, say: the relay keeps listening
                print(f"relay {self.name}: accept: {e}", file=sys.stderr, flush=True)
                time.sleep(0.1)
                continue
            with self.lock:
                refusing, upstream = self.refusing, self.upstream
            if refusing:
                client.close()
                continue
            self._count("connections", 1)
            threading.Thread(target=self._join, args=(client, upstream), daemon=True).start()

    def _join(self, client: socket.socket, upstream: tuple[str, int]) -> None:
        try:
            server = socket.create_connection(upstream, timeout=10)
        except OSError as e:
            print(f"relay {self.name}: upstream {upstream}: {e}", file=sys.stderr, flush=True)
            client.close()
            return
        server.settimeout(None)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._count("open", 1)
        with self.lock:
            self.ends.update((client, server))
        ends = threading.Semaphore(0)
        for src, dst, key in ((client, server, "up_bytes"), (server, client, "down_bytes")):
            threading.Thread(target=self._pump, args=(src, dst, key, ends), daemon=True).start()
        ends.acquire()
        ends.acquire()
        with self.lock:
            self.ends.difference_update((client, server))
        client.close()
        server.close()
        self._count("open", -1)

    def _pump(self, src, dst, key: str, ends: threading.Semaphore) -> None:
        try:
            while True:
                self.passing.wait()
                data = src.recv(CHUNK)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    break
                # What was read as the drop began is held with the rest.
                self.passing.wait()
                dst.sendall(data)
                self._count(key, len(data))
        except OSError:
            # One end reset or went away: so does the other, as a router in between would not.
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        finally:
            ends.release()


def parse(text: str) -> Relay:
    """`NAME:PORT=HOST:PORT`, as given to `--relay`."""
    left, sep, right = text.partition("=")
    name, _, port = left.partition(":")
    host, _, up = right.rpartition(":")
    if not (sep and name and port.isdigit() and host and up.isdigit()):
        raise SystemExit(f"--relay {text}: expected NAME:PORT=HOST:PORT, e.g. bastion:27114=127.0.0.1:27110")
    return Relay(name, int(port), (host, int(up)))
