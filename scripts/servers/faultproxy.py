"""A fault-injecting HTTP proxy for the download tests: forwards GET and HEAD to an upstream (the
test nginx), with its Range and If-Range headers, and on request breaks a response on purpose.

    python3 faultproxy.py PORT UPSTREAM_HOST:PORT LOG_FILE

Control (JSON bodies, answered with JSON):
    POST /_fault  {"path": "/a/b.iso", "cut_after": N}    close the connection after N body bytes
                  {"path": ..., "stall_after": N}          send N body bytes, then nothing (until
                                                           the client gives up, at most 10 min)
                  optional "times": K                       only the next K responses (default 1)
                  optional "no_validators": true            from now on, every response for the path
                                                           goes without ETag and Last-Modified (a
                                                           server that names no validator)
    GET  /_log?path=/a/b.iso   [{"status", "range", "if_range", "sent"}, ...] for that path

Each fault counts down per path, so tests running at once use their own paths. Every proxied
response is also logged to LOG_FILE as one JSON line.
"""

import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = ("127.0.0.1", 80)
LOG_FILE = None
LOCK = threading.Lock()
FAULTS = {}  # path -> {"cut_after"|"stall_after": N, "times": K}
LOG = {}  # path -> [entries]
NO_VALIDATORS = set()  # paths whose responses lose ETag and Last-Modified
CHUNK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: LOG_FILE has what matters
        pass

    def _json(self, code, value):
        body = json.dumps(value).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/_fault":
            return self._json(404, {"error": "unknown control path"})
        length = int(self.headers.get("Content-Length", "0"))
        spec = json.loads(self.rfile.read(length) or b"{}")
        with LOCK:
            if spec.pop("no_validators", False):
                NO_VALIDATORS.add(spec["path"])
            if "cut_after" in spec or "stall_after" in spec:
                FAULTS[spec["path"]] = {k: v for k, v in spec.items() if k != "path"} | {"times": spec.get("times", 1)}
        self._json(200, {"ok": True})

    def do_HEAD(self):
        self._proxy(head=True)

    def do_GET(self):
        if self.path.startswith("/_log"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            with LOCK:
                return self._json(200, LOG.get(query.get("path", [""])[0], []))
        self._proxy(head=False)

    def _fault_for(self, path):
        with LOCK:
            f = FAULTS.get(path)
            if not f or f["times"] <= 0:
                return None
            f["times"] -= 1
            return dict(f)

    def _proxy(self, head):
        path = urllib.parse.urlsplit(self.path).path
        fault = None if head else self._fault_for(path)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("range", "if-range", "accept-encoding", "user-agent")}
        conn = http.client.HTTPConnection(*UPSTREAM, timeout=60)
        conn.request("HEAD" if head else "GET", self.path, headers=headers)
        resp = conn.getresponse()
        self.send_response(resp.status)
        dropped = ["connection", "keep-alive", "transfer-encoding", "server", "date"]
        with LOCK:
            if path in NO_VALIDATORS:
                dropped += ["etag", "last-modified"]
        for k, v in resp.getheaders():
            if k.lower() not in dropped:
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        sent = 0
        limit = None
        if fault:
            limit = fault.get("cut_after", fault.get("stall_after"))
        try:
            while not head:
                want = CHUNK if limit is None else min(CHUNK, limit - sent)
                if want <= 0:
                    break
                data = resp.read(want)
                if not data:
                    break
                self.wfile.write(data)
                sent += len(data)
            self.wfile.flush()
            if fault and "stall_after" in fault and limit is not None and sent >= limit:
                # Send nothing more; wait for the client to give up (or 10 minutes).
                deadline = time.time() + 600
                self.connection.settimeout(1)
                while time.time() < deadline:
                    try:
                        if self.connection.recv(1) == b"":
                            break
                    except socket.timeout:
                        continue
                    except OSError:
                        break
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            conn.close()
            if fault and "cut_after" in fault:
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        entry = {
            "status": resp.status,
            "range": self.headers.get("Range"),
            "if_range": self.headers.get("If-Range"),
            "sent": sent,
            "fault": fault,
        }
        with LOCK:
            LOG.setdefault(path, []).append(entry)
            with open(LOG_FILE, "a") as f:
                f.write(json.dumps({"path": path} | entry) + "\n")


def main():
    global UPSTREAM, LOG_FILE
    port = int(sys.argv[1])
    host, up_port = sys.argv[2].rsplit(":", 1)
    UPSTREAM = (host, int(up_port))
    LOG_FILE = sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
