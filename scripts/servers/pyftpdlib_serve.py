"""One pyftpdlib FTP or FTPS server for scripts/servers.sh.

Why not `python -m pyftpdlib`: its command line cannot turn off the 3 s pause after a failed
login (FTPHandler.auth_failed_timeout), which would make every wrong-password test slow.
With --certfile/--keyfile it is FTPS with explicit AUTH TLS, required on both the control and
the data connection (a plain client gets 550). Passive ports come from a fixed range so two
instances never pick the same one.
"""

import argparse
import logging

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def port_range(text):
    first, _, last = text.partition("-")
    first, last = int(first), int(last or first)
    if not 0 < first <= last < 65536:
        raise argparse.ArgumentTypeError(f"bad port range {text!r}")
    return list(range(first, last + 1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True, help="the user's home directory (read-write)")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--passive-ports", type=port_range, required=True, metavar="FIRST-LAST")
    p.add_argument("--certfile", help="server certificate (PEM): makes it FTPS")
    p.add_argument("--keyfile", help="its private key (PEM)")
    a = p.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    authorizer = DummyAuthorizer()
    authorizer.add_user(a.user, a.password, a.root, perm="elradfmwMT")

    if a.certfile:
        from pyftpdlib.handlers import TLS_FTPHandler  # needs pyOpenSSL

        class Handler(TLS_FTPHandler):
            certfile = a.certfile
            keyfile = a.keyfile
            tls_control_required = True
            tls_data_required = True
    else:

        class Handler(FTPHandler):
            pass

    Handler.authorizer = authorizer
    Handler.passive_ports = a.passive_ports
    Handler.auth_failed_timeout = 0
    Handler.banner = "imagesmith test server ready"

    server = FTPServer((a.host, a.port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
