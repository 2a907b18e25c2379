"""A private, throwaway PostgreSQL server for the tests: ``initdb`` into a folder, ``pg_ctl start``, stop, remove.

The same code starts the server that ``.ci/run`` exports as
``HYGIENE_TEST_POSTGRES_URL`` and the one the ``postgres_url`` fixture starts
for a session when that variable is unset, so the two cannot drift apart.
It needs only the standard library and the server binaries (Debian's
``postgresql`` package puts them in ``/usr/lib/postgresql/<version>/bin``,
outside ``PATH``).

PostgreSQL refuses to run as root. Run as root, the server's processes run as
an unprivileged account instead: ``postgres`` (which Debian's package
creates) or, when that does not exist, a system account made for the
purpose, ``hygiene-postgres``.

The server listens on 127.0.0.1 on a free port and on a Unix socket in its
own folder, trusts local connections (it holds nothing but test data and
lives as long as one test run) and runs with ``fsync`` off, since a crash
only loses a database that is thrown away anyway.

From a shell::

    python3 tests/_postgres_server.py start FOLDER   # prints the SQLAlchemy URL
    python3 tests/_postgres_server.py stop FOLDER    # stops the server, removes FOLDER
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The superuser ``initdb`` creates and the database the URL names.
ROLE = "hygiene"
DATABASE = "hygiene"

#: The account the server runs as when we are root, tried in this order.
SERVER_ACCOUNTS = ("postgres", "hygiene-postgres")

#: Debian keeps each major version's binaries here, not on PATH.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")

#: Ports are picked free, but another process may take one before the server binds it.
START_ATTEMPTS = 3


class PostgresServerError(RuntimeError):
    """The server could not be started or stopped; the message says why, with its log."""


def find_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: from ``PATH``, else Debian's newest version; ``None`` when absent."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        folder = Path(on_path).resolve().parent
        if (folder / "initdb").is_file():
            return folder
    versions = []
    for folder in DEBIAN_BINARIES.glob("*/bin"):
        if (folder / "pg_ctl").is_file() and (folder / "initdb").is_file() and re.fullmatch(r"\d+", folder.parent.name):
            versions.append((int(folder.parent.name), folder))
    return max(versions)[1] if versions else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Account:
    """Who the server's processes run as: ``None`` ids mean the current user."""

    name: str
    uid: int | None = None
    gid: int | None = None


def server_account() -> Account:
    """The current user, or (when that is root) an unprivileged account, created if none exists."""
    if os.geteuid() != 0:
        return Account(pwd.getpwuid(os.geteuid()).pw_name)
    for name in SERVER_ACCOUNTS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return Account(name, entry.pw_uid, entry.pw_gid)
    name = SERVER_ACCOUNTS[-1]
    created = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise PostgresServerError(f"PostgreSQL refuses to run as root and no account could be created for it: {created.stderr.strip()}")
    entry = pwd.getpwnam(name)
    return Account(name, entry.pw_uid, entry.pw_gid)


class PostgresServer:
    """One server whose data, socket and log all live in ``folder``.

    ``folder`` must exist and be empty; :meth:`start` hands it to the
    server's account, and :meth:`stop` removes it.
    """

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = Path(folder)
        self.binaries = binaries
        self.port: int | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the server's ``hygiene`` database, as its superuser."""
        if self.port is None:
            raise PostgresServerError("the server has not been started")
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> str:
        """Create the cluster and the database, start the server; returns :attr:`url`."""
        account = server_account()
        if account.uid is not None:
            os.chown(self.folder, account.uid, account.gid)
        self.folder.chmod(0o700)
        self._run(
            account,
            "initdb",
            "--pgdata",
            self.data,
            "--username",
            ROLE,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{self.folder}' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = self._run(account, "pg_ctl", "start", "--pgdata", self.data, "--log", self.log, "--wait", "--options", options, check=False)
            if started.returncode == 0:
                self.port = port
                break
            if attempt == START_ATTEMPTS:
                raise PostgresServerError(f"pg_ctl start failed {START_ATTEMPTS} times:\n{started.stdout}{started.stderr}{self._log_tail()}")
        self._run(account, "createdb", "--host", "127.0.0.1", "--port", str(self.port), "--username", ROLE, DATABASE)
        return self.url

    def stop(self) -> None:
        """Stop the server if it runs (fast shutdown: open sessions are ended) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").is_file():
                self._run(server_account(), "pg_ctl", "stop", "--pgdata", self.data, "--mode", "fast", "--wait")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, account: Account, program: str, *arguments: object, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.binaries / program), *map(str, arguments)]
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.folder)}
        completed = subprocess.run(
            command,
            cwd=self.folder,
            env=environment,
            user=account.uid,
            group=account.gid,
            extra_groups=[] if account.uid is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and completed.returncode != 0:
            raise PostgresServerError(f"{program} failed (exit {completed.returncode}):\n{completed.stdout}{completed.stderr}{self._log_tail()}")
        return completed

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "server log:\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def main(arguments: list[str]) -> int:
    if len(arguments) != 2 or arguments[0] not in ("start", "stop"):
        print("usage: _postgres_server.py start|stop FOLDER", file=sys.stderr)
        return 2
    action, folder = arguments
    binaries = find_binaries()
    if binaries is None:
        print("PostgreSQL server binaries not found (install Debian's postgresql package)", file=sys.stderr)
        return 1
    server = PostgresServer(Path(folder), binaries)
    try:
        if action == "start":
            print(server.start())
        else:
            server.stop()
    except PostgresServerError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
