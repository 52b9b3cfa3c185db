"""Lab results in a real browser: a block pasted on the timeline is recorded, its chart drawn
under the Content Security Policy, the low value flagged with who was told, and a bad line
comes back named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from carecoord.models import OutgoingEmail
from labs.models import LabResult
from tests.browser import accessibility_violations, describe_violations, policy_violations, sign_in
from tests.helpers import World, infused, name_point_persons

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_paste_counts_on_the_timeline_and_see_the_chart_the_grade_and_the_flag(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    name_point_persons(world)
    today = timezone.localdate(timezone=world.practice.zone)
    infused(world, today - dt.timedelta(days=16), today - dt.timedelta(days=16))
    page = browser.new_page()
    problems = policy_violations(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))

    counts = page.locator("#counts")
    expect(counts).to_contain_text("No lab results yet.")
    counts.get_by_text("Paste results").click()
    box = counts.get_by_label("Results, one per line")
    # A line that cannot be read comes back named, with the block kept.
    box.fill("ANC 0.4\nANC 40")
    counts.get_by_role("button", name="Record the results").click()
    expect(page.locator("#id_paste_text_error")).to_contain_text("Line 2: 40 could be in cells/µL")
    expect(page.get_by_label("Results, one per line")).to_have_value("ANC 0.4\nANC 40")
    assert not LabResult.objects.exists()

    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    counts.get_by_text("Paste results").click()
    counts.get_by_label("Results, one per line").fill(
        "day +1\nANC 0.3\nPLT 60\nday +9\nANC 0.2\nPLT 15\nday +16\nANC 0.6\nIgG 3.2 g/L"
    )
    counts.get_by_role("button", name="Record the results").click()

    expect(page.get_by_text("Recorded 6 results.")).to_be_visible()
    expect(page).to_have_url(
        f"{base_url}{reverse('patient-timeline', kwargs={'patient_id': world.shared_patient.pk})}#counts"
    )
    chart = page.locator("#counts-anc svg")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(3)
    expect(page.locator("#counts-platelets svg circle[fill='#b3261e']")).to_have_count(1)  # 15,000 flagged
    expect(page.get_by_test_id("icaht-early")).to_have_text("grade 3")  # days 1-15 at or below 500
    flags = page.locator(".labs-flags")
    expect(flags).to_contain_text("IgG 320 mg/dL")
    expect(flags).to_contain_text("Told: ")
    expect(flags).to_contain_text("Nina Nurse")
    page.locator("#counts-anc summary").click()
    expect(page.locator("#counts-anc table")).to_contain_text("day +9")
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3
    violations = [v for v in accessibility_violations(page) if v["impact"] in ("serious", "critical")]
    assert not violations, describe_violations(violations)
    assert not problems, problems
