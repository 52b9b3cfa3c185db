"""The demo's program history: the moments left at the time of seeding are dated back into
the stories, the metrics page has figures over the months, and seeding again moves nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from carecoord.models import User
from handoffs.models import Handoff
from metrics.demo import seed_program_history
from metrics.scope import Cohort, Period
from metrics.tables import every_block
from referrals.models import Referral, ReferralMove
from referrals.workflow import State
from toxicity.models import Alert

pytestmark = pytest.mark.django_db


def test_the_demo_tells_its_times_over_the_months() -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=StringIO())
    a_day_ago = timezone.now() - dt.timedelta(days=1)
    for referral in Referral.objects.filter(acknowledged_at__isnull=False):
        move = ReferralMove.objects.get(referral=referral, to_state=State.RECEIVED)
        assert referral.acknowledged_at == move.at
    alerts = Alert.objects.all()
    assert alerts and all(alert.created_at < a_day_ago for alert in alerts)
    delays = {
        a.acknowledged_at - a.created_at for a in alerts.filter(acknowledged_on_recording=False) if a.acknowledged_at
    }
    assert len(delays) > 1
    sent = Handoff.objects.filter(state__in=["sent", "acknowledged"])
    assert sent and all(h.sent_at is not None and h.sent_at <= timezone.now() for h in sent)
    assert any(h.sent_at is not None and h.sent_at < a_day_ago for h in sent)
    assert seed_program_history() == 0

    center = User.objects.get(email="coordinator@greatlakes-cart.test")
    today = timezone.localdate()
    cohort = Cohort.for_user(center, Period(today - dt.timedelta(days=365), today, ZoneInfo("UTC")), timezone.now())
    access = every_block(cohort)[0]
    times = {row[0]: row[1:] for row in access.table("access-times").rows}
    assert times["Referral submitted → acknowledged"][1].endswith("hours")
    months = [row for row in access.table("access-months").rows if row[1] != "0"]
    assert len(months) >= 3
    # The referred patients' histories: most met a criterion weeks or months before the
    # referral, some were referred early (candidates.demo.seed_referred_histories).
    *practices, every = access.table("access-criterion-to-referral").rows
    assert len(practices) == 2 and every[0] == "All practices"
    assert every[3].endswith("days") and every[4].endswith("days") and every[5] != "0"
