"""The product as a user meets it: `calltui simulate` on a local socket, a config of accounts
pointed at it, and the real `calltui` on a pseudo-terminal whose bytes are read and timed on the
terminal's side.

Every product benchmark builds on these three pieces, so they all measure alike: a fresh Python
process per program, TERM=xterm-256color, the simulator on the real clock (a configured
account asks for the last hour of the real clock, so a fixed simulator clock would serve it
nothing), keys written to the
terminal the way a keyboard does (one escape sequence per key), and the screen read as the bytes
the program wrote with escape sequences removed.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = {"TERM": "xterm-256color"}
# The user's NO_COLOR would change the theme; with PYTHONDONTWRITEBYTECODE every run would
# compile calltui again while Textual comes compiled by pip, and the two would not compare alike.
UNSET = ("NO_COLOR", "PYTHONDONTWRITEBYTECODE", "COLUMNS", "LINES", "CALLTUI_SIM_NOW")
CALLTUI = "import sys; sys.argv[0] = 'calltui'; from calltui.__main__ import main; main()"
"""What the installed `calltui` command runs (its entry point in pyproject.toml)."""
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_].*?\x1b\\|\x1b[@-Z\\-_]",
    re.DOTALL,
)
KEYS = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
}


def calltui_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", CALLTUI, *args]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(ENV)
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Simulator:
    """`calltui simulate` in a process of its own on a free loopback port."""

    seed: int = 7
    latency_ms: float = 0
    faults: str | None = None
    rate_limits: bool = True
    """False: `--no-rate-limits`, every request answered at once."""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Simulator:
        argv = [*calltui_argv("simulate"), "--port", str(self.port), "--seed", str(self.seed)]
        if self.latency_ms:
            argv += ["--latency", str(self.latency_ms)]
        if self.faults:
            argv += ["--faults", self.faults]
        if not self.rate_limits:
            argv.append("--no-rate-limits")
        self.proc = subprocess.Popen(
            argv, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError as e:
                if self.proc.poll() is not None:
                    out = (
                        self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                    )
                    raise SystemExit(f"calltui simulate ended: {out[-400:]}") from e
                time.sleep(0.05)
        raise SystemExit("calltui simulate did not listen within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


@contextmanager
def simulator(**kw: Any) -> Iterator[Simulator]:
    sim = Simulator(**kw).start()
    try:
        yield sim
    finally:
        sim.stop()


@contextmanager
def config_file(text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="calltui-bench-") as d:
        path = Path(d) / "config.toml"
        path.write_text(text)
        path.chmod(0o600)
        yield path


class Terminal:
    """A program on a new pseudo-terminal of `size` (rows, columns). A thread reads everything
    it writes, each chunk with the time it arrived, so bytes can be counted over any span."""

    def __init__(
        self,
        argv: list[str],
        size: tuple[int, int] = (40, 120),
        env: Mapping[str, str] | None = None,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env(env),
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._new = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
            except (OSError, ValueError):
                return
            if not ready:
                if self.proc.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            with self._new:
                self.chunks.append((time.perf_counter(), chunk))
                self._new.notify_all()

    def now(self) -> float:
        """Seconds since the program was started."""
        return time.perf_counter() - self.started

    def written(self, since: float = 0.0, until: float | None = None) -> bytes:
        """What the program wrote between two `now()` readings."""
        a, b = self.started + since, self.started + until if until is not None else float("inf")
        with self._lock:
            return b"".join(c for t, c in self.chunks if a <= t <= b)

    def screen(self, since: float = 0.0) -> str:
        return ESCAPES.sub(b"", self.written(since)).decode(errors="replace")

    def wait_for(
        self, pattern: re.Pattern[bytes], timeout: float = 30.0, since: float = 0.0
    ) -> float:
        """Seconds since start when the text written after `since` first matched `pattern`."""
        deadline = time.perf_counter() + timeout
        seen = 0
        text = b""
        with self._new:
            while True:
                start = self.started + since
                for t, c in self.chunks[seen:]:
                    if t >= start:
                        text += c
                        if pattern.search(ESCAPES.sub(b"", text)):
                            return t - self.started
                seen = len(self.chunks)
                left = deadline - time.perf_counter()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    tail = ESCAPES.sub(b"", text)[-400:].decode(errors="replace")
                    raise SystemExit(f"never saw {pattern.pattern!r} on the screen: {tail!r}")
                self._new.wait(min(left, 0.5))

    def first_byte_after(self, t: float, timeout: float = 5.0) -> float | None:
        """Seconds from `t` until the program next wrote anything, or None."""
        deadline = time.perf_counter() + timeout
        with self._new:
            while True:
                after = [at for at, _ in self.chunks if at - self.started >= t]
                if after:
                    return after[0] - self.started - t
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self._new.wait(min(left, 0.1))

    def press(self, key: str) -> float:
        """Write one key (a name in KEYS or literal text); returns when, as `now()`."""
        t = self.now()
        os.write(self.master, KEYS.get(key, key.encode()))
        return t

    def settle(self, quiet_s: float = 0.5, timeout: float = 30.0) -> None:
        """Wait until the program has written nothing for `quiet_s`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                last = self.chunks[-1][0] if self.chunks else self.started
            if time.perf_counter() - last >= quiet_s:
                return
            time.sleep(quiet_s / 5)

    def rss_kb(self) -> int:
        """The program's resident set (its process only), in KiB, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def close(self) -> None:
        stop_process(self.proc)
        with suppress(OSError):
            os.close(self.master)
        self._reader.join(2)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM) if proc.pid == os.getpgid(
            proc.pid
        ) else proc.terminate()
        proc.wait(5)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
