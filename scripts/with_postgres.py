"""Run a command against a throw-away PostgreSQL server in a temporary directory.

    python scripts/with_postgres.py -- pytest ...

Starts initdb + postgres on a free loopback port (as the ``postgres`` system user when run
as root, because PostgreSQL refuses to run as root), exports DB=postgres and PG* variables
to the command, and always stops the server and deletes the directory afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if found:
        return found[0]
    path = shutil.which(name)
    if path:
        return path
    raise SystemExit(f"{name} not found: install PostgreSQL (make installs the 'postgresql' package)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        print(__doc__)
        return 2
    root = os.geteuid() == 0
    tmp = Path(tempfile.mkdtemp(prefix="khm-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if root:
        pw = pwd.getpwnam("postgres")
        for p in (tmp, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    log = tmp / "server.log"
    try:
        subprocess.run(
            [*prefix, pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            [*prefix, pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        env = os.environ | {
            "DB": "postgres",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(port),
            "PGUSER": "postgres",
            "PGPASSWORD": "",
            "PGDATABASE": "khm",
        }
        subprocess.run(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "khm"], check=True, env=env
        )
        print(f"PostgreSQL running on 127.0.0.1:{port} (temporary, {tmp})", flush=True)
        return subprocess.run(args, env=env).returncode
    finally:
        subprocess.run(
            [*prefix, pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.2)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
