"""CPU time from /proc: the machine's, and each group of processes' (web, workers, database,
load generator), sampled during a run so that a window's share can be read afterwards.

Linux only. A process's CPU time counts while it lives; the groups here are long-lived
(gunicorn and Celery workers, PostgreSQL backends kept open by CONN_MAX_AGE, locust).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all cores since boot; busy leaves out idle and I/O wait."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already inside user time
    return total - fields[3] - fields[4], total


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after the command name, which may hold spaces


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User and system CPU seconds each process used so far (those that are gone left out)."""
    seconds = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return seconds


def rss_mib(pid: int) -> float:
    """The process's resident memory now, in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


@dataclass
class Sample:
    at: float
    busy: int
    total: int
    groups: dict[str, dict[int, float]]  # per group, each process's CPU seconds so far


@dataclass
class Sampler:
    """Samples every `every` seconds, in a thread, the CPU seconds of each group; a group is a
    function giving its processes' ids at that moment."""

    groups: Mapping[str, Callable[[], Iterable[int]]]
    every: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy, total = machine_ticks()
            groups = {name: cpu_seconds(pids()) for name, pids in self.groups.items()}
            self.samples.append(Sample(time.time(), busy, total, groups))
            self._stop.wait(self.every)

    def window(self, start: float, end: float) -> Window:
        """What was used between the samples nearest to `start` and `end`."""
        first = min(range(len(self.samples)), key=lambda n: abs(self.samples[n].at - start))
        last = min(range(len(self.samples)), key=lambda n: abs(self.samples[n].at - end))
        inside = self.samples[first : last + 1]
        return Window(
            seconds=inside[-1].at - inside[0].at,
            machine_busy=(inside[-1].busy - inside[0].busy) / max(1, inside[-1].total - inside[0].total),
            groups={name: _used(name, inside) for name in self.groups},
        )


def _used(group: str, samples: list[Sample]) -> float:
    """CPU seconds the group used over the samples: each process's last value seen, less its
    value at the first sample (0 for a process started since); a process that ended between
    two samples loses only its time since the one before (a connection closed and opened
    again, say)."""
    start = samples[0].groups[group]
    latest: dict[int, float] = {}
    for sample in samples:
        latest.update(sample.groups[group])
    return sum(seconds - start.get(pid, 0.0) for pid, seconds in latest.items())


@dataclass(frozen=True)
class Window:
    seconds: float
    machine_busy: float  # share of all cores busy, 0-1, whoever used them
    groups: dict[str, float]  # CPU seconds per group

    def cores(self, group: str) -> float:
        """How many cores the group kept busy on average."""
        return self.groups[group] / self.seconds if self.seconds else 0.0
