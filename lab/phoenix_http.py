"""A Phoenix instance's health endpoint for the lab: `phoenix_http.py --index N --port PORT
--instance-id ID` serves 127.0.0.1:PORT, answering `GET /health` (and HEAD) with 200 and the
body `ok ID` (no newline); any other path is 404. Started and stopped by lab/phoenix-http
(lab/up starts one per Phoenix instance in seed.json); --index is only there so that
lab/phoenix-http can tell its servers apart by their command lines. Logs each request on
stderr.
"""

import argparse
import http.server
import sys

import serving


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--instance-id", required=True)
    args = ap.parse_args()
    body = f"ok {args.instance_id}".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "qpconsole-lab-phoenix"

        def _answer(self, with_body: bool) -> None:
            if self.path.split("?", 1)[0] == "/health":
                status, payload = 200, body
            else:
                status, payload = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if with_body:
                self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(False)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    return serving.run(server, f"phoenix-http {args.index}: {args.instance_id} on 127.0.0.1:{args.port}")


if __name__ == "__main__":
    sys.exit(main())
