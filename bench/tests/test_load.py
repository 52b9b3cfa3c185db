"""The load run's plain pieces: the codes its people type, route names, CPU windows, the report."""

from __future__ import annotations

import time
from pathlib import Path

from django_otp.oath import TOTP

from bench.load.codes import code_at
from bench.load.cpu import Sample, Sampler
from bench.load.report import server_times
from bench.load.routes import route_of

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, "12345678901234567890"


def test_the_codes_are_those_django_otp_accepts():
    authenticator: dict[str, int | str] = {"key": KEY, "step": 30, "t0": 0, "digits": 6, "drift": 0}
    for at in (59, 1_111_111_109, time.time()):
        generator = TOTP(bytes.fromhex(KEY), step=30, t0=0, digits=6, drift=0)
        generator.time = at
        assert code_at(authenticator, at) == f"{generator.token():06d}"
    assert code_at(authenticator, 59) == "287082"  # RFC 6238, appendix B, truncated to six digits
    assert code_at({**authenticator, "drift": 1}, 59) != code_at(authenticator, 59)


def test_a_route_names_ids_and_drops_the_query():
    assert route_of("/patients/c9a11afe-d940-4e6a-909e-652723fa7e50/timeline/") == "/patients/[id]/timeline/"
    assert route_of("/toxicity/alerts/123/acknowledge/?next=/") == "/toxicity/alerts/[id]/acknowledge/"
    assert route_of("/api/patients/") == "/api/patients/"
    assert route_of("/") == "/"


def _sample(at: float, **groups: dict[int, float]) -> Sample:
    return Sample(at=at, busy=int(at * 100), total=int(at * 200), groups=groups)


def test_a_window_counts_each_process_once_even_when_it_ends_or_starts_inside():
    sampler = Sampler(groups={"database": list})
    sampler.samples = [
        _sample(0, database={1: 10.0, 2: 5.0}),
        _sample(1, database={1: 10.5, 2: 6.0}),
        _sample(2, database={1: 11.0, 3: 0.5}),  # 2 closed its connection, 3 opened one
        _sample(3, database={1: 11.5, 3: 1.0}),
    ]
    window = sampler.window(0.1, 2.9)
    assert window.seconds == 3
    assert window.groups["database"] == 1.5 + 1.0 + 1.0  # 1's, 2's until it ended, 3's since it began
    assert window.cores("database") == 3.5 / 3
    assert window.machine_busy == 0.5


def test_gunicorns_times_are_read_by_route_within_the_window(tmp_path: Path):
    log = tmp_path / "access-0.log"
    log.write_text(
        "[03/Dec/2026:10:00:00 +0000]|GET|/patients/c9a11afe-d940-4e6a-909e-652723fa7e50/|200|120000\n"
        "[03/Dec/2026:10:00:05 +0000]|GET|/patients/0a11afe0-d940-4e6a-909e-652723fa7e50/|200|80000\n"
        "[03/Dec/2026:10:00:06 +0000]|POST|/patients/c9a11afe-d940-4e6a-909e-652723fa7e50/comments/|200|50000\n"
        "[03/Dec/2026:10:01:00 +0000]|GET|/|200|999000\n"
    )
    start = 1_796_292_000.0  # 2026-12-03 10:00:00 UTC
    times = server_times([log], start, start + 10)
    assert times[("GET", "/patients/[id]/")] == [120.0, 80.0]
    assert times[("POST", "/patients/[id]/comments/")] == [50.0]
    assert ("GET", "/") not in times  # after the window
    assert sorted(times[("", "")]) == [50.0, 80.0, 120.0]
