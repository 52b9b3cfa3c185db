"""A coordinator's day, for locust: signed-in people reading and writing as they do in a browser.

Started by bench/load/run.py, which writes the plan (bench/load/plan.py) and names it in the
environment with the rest of the run's settings:

    LOAD_PLAN     the plan file (people, their authenticators, patients, referrals, hand-offs)
    LOAD_HOSTS    comma-separated base URLs; user n goes to host n mod their number
    LOAD_USERS    how many users the run starts (the sign-in phase waits for all of them)
    LOAD_WAIT     "min,max" seconds a person pauses between two actions
    LOAD_WARMUP   seconds of work after everyone signed in before measuring starts
    LOAD_MEASURE  seconds measured; then the run stops
    LOAD_PHASES   a file this writes the phases' times and the sign-in figures to

Every user signs in through the pages as a person does: the password form, then a code from
their authenticator (bench/load/codes.py, from the plan's key); the work starts once everyone
is in (a morning's sign-ins, then the day). The statistics are reset when measuring starts,
so the figures are the work of signed-in people only; the sign-in figures go to the phases
file. Every page must answer 200 (a redirect to the sign-in page would be a lost session)
and every write its expected status.

This module imports no Django: it is the browsers' side.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import Cookie, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]  # no stubs; locust runs on it
import gevent.event  # type: ignore[import-untyped]
from locust import FastHttpUser, between, events, task
from locust.env import Environment

from bench.load.codes import code_at
from bench.load.routes import route_of

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text()) if "LOAD_PLAN" in os.environ else {}
HOSTS = os.environ.get("LOAD_HOSTS", "http://127.0.0.1:8000").split(",")
USERS = int(os.environ.get("LOAD_USERS", "1"))
WAIT = tuple(float(x) for x in os.environ.get("LOAD_WAIT", "2,8").split(","))
WARMUP = float(os.environ.get("LOAD_WARMUP", "30"))
MEASURE = float(os.environ.get("LOAD_MEASURE", "60"))
PHASES = Path(os.environ.get("LOAD_PHASES", "phases.json"))
SIGN_IN_PATIENCE = 300.0  # seconds the sign-in phase may take before measuring starts anyway
CODE_ATTEMPTS = 3

LOOPBACK = ("127.0.0.1", "localhost")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OPEN_ALERT_EVENTS = re.compile(r'href="/toxicity/events/(\d+)/"')
ACKNOWLEDGE = re.compile(r'action="/toxicity/alerts/(\d+)/acknowledge/"')


@dataclass
class Progress:
    numbers: itertools.count[int] = field(default_factory=itertools.count)
    signed_in: int = 0
    refused: list[str] = field(default_factory=list)  # why a sign-in failed, per user
    late_codes: int = 0  # codes refused, then a newer one typed (a code waited too long in a queue)
    everyone_in: gevent.event.Event = field(default_factory=gevent.event.Event)


PROGRESS = Progress()


class LoopbackIsTrustworthy(DefaultCookiePolicy):
    """Sends `Secure` cookies to 127.0.0.1 over plain HTTP, as browsers do for a loopback
    address: with DEBUG off the session and CSRF cookies are `Secure`, and the servers here
    speak HTTP behind no TLS proxy."""

    def return_ok_secure(self, cookie: Cookie, request: urllib.request.Request) -> bool:
        return request.host.split(":")[0] in LOOPBACK or super().return_ok_secure(cookie, request)


class Person(FastHttpUser):
    """One coordinator or nurse of the dataset at work; the tasks' weights are how often each
    action comes in a day (about one request in twelve is a write)."""

    host = HOSTS[0]
    wait_time = between(WAIT[0], WAIT[1])
    # Timing starts when the request is sent; a slow answer is measured, not cut short.
    network_timeout = 120.0
    connection_timeout = 120.0

    def __init__(self, environment: Environment) -> None:
        number = next(PROGRESS.numbers)
        self.host = HOSTS[number % len(HOSTS)]
        super().__init__(environment)
        self.client.cookiejar.set_policy(LoopbackIsTrustworthy())
        self.persona: dict[str, Any] = PLAN["personas"][number % len(PLAN["personas"])]
        self.rng = random.Random(number)

    # --- signing in -------------------------------------------------------------------------

    def on_start(self) -> None:
        try:
            self._sign_in()
        except SignInRefused as refusal:
            PROGRESS.refused.append(str(refusal))
            gevent.sleep(10**7)  # a person who cannot sign in does nothing more (no respawn)
        else:
            PROGRESS.signed_in += 1
            # The morning's sign-ins first, then the day's work, all at once.
            PROGRESS.everyone_in.wait(SIGN_IN_PATIENCE)

    def _sign_in(self) -> None:
        token = self._form_token("/login/", "sign-in: password form")
        with self.client.post(
            "/login/",
            data={"username": self.persona["email"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            name="sign-in: password",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"password refused ({answer.status_code})")
                raise SignInRefused(f"{self.persona['email']}: password refused ({answer.status_code})")
        # A code is good for about a minute: one that waited longer in a queue of sign-ins is
        # refused, and the person types the newest one, as people do.
        for attempt in range(CODE_ATTEMPTS):
            token = self._form_token("/two-factor/", "sign-in: code form")
            with self.client.post(
                "/two-factor/",
                data={"code": code_at(self.persona["authenticator"], time.time()), "csrfmiddlewaretoken": token},
                name="sign-in: code",
                allow_redirects=False,
                catch_response=True,
            ) as answer:
                if answer.status_code == 302:
                    return
                if attempt + 1 == CODE_ATTEMPTS:
                    answer.failure(f"code refused ({answer.status_code})")
                    raise SignInRefused(f"{self.persona['email']}: code refused {CODE_ATTEMPTS} times")
                answer.success()
                PROGRESS.late_codes += 1
            gevent.sleep(2 + attempt)  # django-otp's wait after a wrong code: 1 s, then 2 s

    def _form_token(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            found = CSRF.search(answer.text or "") if answer.status_code == 200 else None
            if found is None:
                answer.failure(f"no form ({answer.status_code})")
                raise SignInRefused(f"{self.persona['email']}: {path} answered {answer.status_code} without a form")
            return found.group(1)

    # --- helpers ----------------------------------------------------------------------------

    def page(self, path: str) -> str:
        """GET a page that must answer 200: a redirect means the session was lost."""
        with self.client.get(path, name=route_of(path), allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.headers.get('Location', '') if answer.headers else ''}")
            return answer.text or ""

    def send(self, path: str, expected: int, **kwargs: Any) -> None:
        """POST a write with the session's CSRF token; it must answer `expected`."""
        headers = {"X-CSRFToken": self.csrf_token(), **kwargs.pop("headers", {})}
        with self.client.post(
            path, name=route_of(path), headers=headers, allow_redirects=False, catch_response=True, **kwargs
        ) as answer:
            if answer.status_code != expected:
                answer.failure(f"{answer.status_code}, expected {expected}: {(answer.text or '')[:200]}")

    def csrf_token(self) -> str:
        return next((c.value or "" for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def patient(self) -> dict[str, Any]:
        return self.rng.choice(self.persona["patients"])

    # --- the day ------------------------------------------------------------------------------

    @task(15)
    def dashboard(self) -> None:
        self.page("/")

    @task(20)
    def timeline(self) -> None:
        self.page(f"/patients/{self.patient()['id']}/timeline/")

    @task(8)
    def patient_page(self) -> None:
        self.page(f"/patients/{self.patient()['id']}/")

    @task(8)
    def referral_list(self) -> None:
        self.page("/referrals/")

    @task(5)
    def referral(self) -> None:
        if self.persona["referrals"]:
            self.page(f"/referrals/{self.rng.choice(self.persona['referrals'])}/")

    @task(8)
    def alerts(self) -> None:
        """The alert list; one time in three, open the newest waiting alert and acknowledge it."""
        text = self.page("/toxicity/alerts/")
        waiting = text.split('id="seen-heading"')[0]
        found = OPEN_ALERT_EVENTS.search(waiting)
        if found is None or self.rng.random() >= 1 / 3:
            return
        event = self.page(f"/toxicity/events/{found.group(1)}/")
        button = ACKNOWLEDGE.search(event)
        if button is not None:
            self.send(f"/toxicity/alerts/{button.group(1)}/acknowledge/", 302)

    @task(4)
    def handoffs(self) -> None:
        self.page(f"/handoffs/patients/{self.patient()['id']}/")

    @task(3)
    def handoff(self) -> None:
        if self.persona["handoffs"]:
            self.page(f"/handoffs/{self.rng.choice(self.persona['handoffs'])}/")

    @task(4)
    def api_patients(self) -> None:
        self.page("/api/patients/")

    @task(3)
    def api_referrals(self) -> None:
        self.page("/api/referrals/")

    @task(3)
    def api_alerts(self) -> None:
        self.page("/api/alerts/")

    @task(4)
    def api_timeline(self) -> None:
        self.page(f"/api/patients/{self.patient()['id']}/timeline/")

    @task(4)
    def comment(self) -> None:
        """A message on the timeline, posted from the page's form (htmx answers the thread)."""
        patient = self.patient()
        self.send(
            f"/patients/{patient['id']}/comments/",
            200,
            data={"body": "Seen in clinic today; labs to follow.", "site": str(patient["site"])},
            headers={"HX-Request": "true"},
        )

    @task(1)
    def record_toxicity(self) -> None:
        """A grade 1 infection recorded through the API: alerts and their emails (the worker)."""
        patient = self.patient()
        onset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        self.send(
            "/api/toxicity-events/",
            201,
            json={
                "patient": patient["id"],
                "site": patient["site"],
                "kind": "infection",
                "onset_at": onset,
                "grade": 1,
                "infection_site": "Urinary tract",
            },
        )


class SignInRefused(Exception):
    pass


# --- the phases: sign in, warm up, measure ----------------------------------------------------


@events.test_start.add_listener
def _start_phases(environment: Environment, **_: Any) -> None:
    gevent.spawn(_phases, environment)


def _phases(environment: Environment) -> None:
    started = time.time()
    while PROGRESS.signed_in + len(PROGRESS.refused) < USERS and time.time() - started < SIGN_IN_PATIENCE:
        gevent.sleep(0.5)
    PROGRESS.everyone_in.set()
    phases: dict[str, Any] = {
        "signed_in_at": time.time(),
        "sign_in_seconds": time.time() - started,
        "signed_in": PROGRESS.signed_in,
        "refused": PROGRESS.refused,
        "late_codes": PROGRESS.late_codes,
    }
    phases["sign_in"] = [
        {
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
        }
        for entry in environment.stats.entries.values()
        if entry.name.startswith("sign-in")
    ]
    _write(phases)
    gevent.sleep(WARMUP)
    environment.stats.reset_all()
    phases["measure_start"] = time.time()
    _write(phases)
    gevent.sleep(MEASURE)
    phases["measure_end"] = time.time()
    _write(phases)
    assert environment.runner is not None
    environment.runner.quit()


def _write(phases: dict[str, Any]) -> None:
    PHASES.write_text(json.dumps(phases, indent=1))
