"""A throw-away Virtuoso server on 127.0.0.1 for tests and benchmarks.

Debian's ``virtuoso-opensource`` is installed with apt when ``virtuoso-t`` is missing. Each server
gets its own database directory, two free loopback ports (SQL and HTTP) and a config written here,
so it never touches a system-wide Virtuoso; :meth:`VirtuosoServer.stop` kills it and the directory
can be deleted. The HTTP endpoint allows SPARQL Update only with digest auth (``/sparql-auth``,
user ``dba``), as a production server would.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

log = logging.getLogger(__name__)

BINARY = "virtuoso-t"
PACKAGE = "virtuoso-opensource"
ISQL = "isql-vt"
VAD_DIR = "/usr/share/virtuoso-opensource-7/vad"
VSP_DIR = "/var/lib/virtuoso-opensource-7/vsp"
PASSWORD = "dba"  # the factory password of a fresh database; the database is thrown away after


def ensure_installed() -> str:
    """Path of ``virtuoso-t``, installing Debian's package first when it is missing."""
    found = shutil.which(BINARY)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            f"{BINARY} is missing and cannot be installed here: run 'apt-get install {PACKAGE}'"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGE],
        check=True,
        env=env,
        capture_output=True,
    )
    found = shutil.which(BINARY)
    if not found:
        raise RuntimeError(f"apt installed {PACKAGE} but {BINARY} is still not on PATH")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
AllowOSCalls = 0
DirsAllowed = ., {dir}, {vad}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
VADInstallDir = {vad}/
MaxQueryMem = 2G
VectorSize = 1000
MaxVectorSize = 1000000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
TransactionAfterImageLimit = 1500000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 20
ServerThreads = 20
MaxKeepAlives = 10
KeepAliveTimeout = 10
HTTPThreadSize = 280000
Charset = UTF-8
EnabledGzipContent = 0
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
MaxSortedTopRows = {max_rows}
"""


@dataclass
class VirtuosoServer:
    """One ``virtuoso-t`` process with its own database directory."""

    directory: Path
    buffers: int = 20000  # 8 KiB pages: 160 MiB of cache, plenty for the test graphs
    max_rows: int = 100_000_000
    sql_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def store_url(self) -> str:
        """The kgedit store URL: reads and updates through the digest-authenticated endpoint."""
        return f"sparql+http://dba:{PASSWORD}@127.0.0.1:{self.http_port}/sparql-auth?auth=digest"

    def start(self, timeout: float = 180.0) -> VirtuosoServer:
        binary = ensure_installed()
        self.directory.mkdir(parents=True, exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        ini.write_text(
            _INI.format(
                dir=self.directory,
                vad=VAD_DIR,
                vsp=VSP_DIR,
                sql_port=self.sql_port,
                http_port=self.http_port,
                buffers=self.buffers,
                dirty=self.buffers * 3 // 4,
                max_rows=self.max_rows,
            )
        )
        log_file = open(self.directory / "stdout.log", "ab")  # noqa: SIM115  (owned by the process)
        self.process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)],
            cwd=self.directory,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}: {self.log_tail()}")
            try:
                reply = requests.get(self.endpoint, params={"query": "ASK { }"}, timeout=5)
                if reply.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"virtuoso-t did not answer on {self.endpoint} within {timeout:.0f}s: {self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        path = self.directory / "virtuoso.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash would: the database directory is left as it was."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_peak_kib(self) -> int:
        """The server's peak resident memory (VmHWM) in KiB, read from /proc."""
        if self.process is None:
            return 0
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0
