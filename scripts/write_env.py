"""Write .env with fresh random secrets, once. Never overwrites an existing file."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path


def key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    if path.exists():
        return 0
    path.write_text(
        "# Local secrets written by `make`; git ignores this file. Keep KHM_FIELD_KEY and\n"
        "# KHM_LOOKUP_KEY safe: without them the national IDs in the database cannot be read.\n"
        f"KHM_SECRET_KEY={secrets.token_urlsafe(48)}\n"
        f"KHM_FIELD_KEY={key()}\n"
        f"KHM_LOOKUP_KEY={key()}\n"
        "KHM_DEBUG=0\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    print(f"wrote {path} with new random keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
