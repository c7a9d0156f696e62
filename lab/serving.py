"""How the lab's small HTTP servers (lab/phoenix_http.py, lab/faultproxy.py) run: until
SIGTERM (lab/down, their own stop scripts), their one line of banner on stderr first."""

import signal
import sys


def run(server, banner: str) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(banner, file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
