"""The operator console in headless Chromium against the real platform (SPEC GW-5, issue 8):
sign-in through the issuer's login page with TOTP, the inbox, the accidents chart against the
REST API's numbers, tenant scoping in what is drawn and what is requested, language switch,
sign-out, idle timeout and token renewal, and no horizontal scrolling at 390x844."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import BEIJING, MINISTRY, TIANJIN

SEVERITIES = ("minor", "serious", "fatal")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def years() -> list[int]:
    now = datetime.now(UTC).year  # the page uses the CST year; tests never run at New Year's midnight
    return list(range(now - 4, now + 1))


def expected_series(accidents: list[dict], prefix: str = "") -> dict[str, list[int]]:
    counts = Counter((int(a["occurred_at"][:4]), a["severity"]) for a in accidents
                     if a["status"] == "active" and a["tenant_code"].startswith(prefix))
    return {s: [counts[(y, s)] for y in years()] for s in SEVERITIES}


class Session:
    """One signed-in page with every request it made and every console error it logged."""

    def __init__(self, page):
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status} {r.url}"))

    def api_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).path.startswith("/v1/")]


async def sign_in(browser, p, username: str, *, viewport=DESKTOP, clock: bool = False) -> Session:
    context = await browser.new_context(viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    session = Session(page)
    if clock:
        await page.clock.install()
    await page.goto(f"{p.url}/console")
    await page.locator("#sign-in").click()
    await page.wait_for_url(re.compile(r".*/openid-connect/auth\?.*"))
    assert await no_horizontal_scroll(page), "the issuer's login page"
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(p.credentials[username]["password"])
    await page.get_by_label("动态口令").fill(p.totp(username))
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{p.url}/console#/inbox")
    await inbox_loaded(page)
    return session


async def inbox_loaded(page) -> None:
    done = "[data-page=inbox] .inbox, [data-page=inbox] [data-state=empty], [data-page=inbox] [data-state=error]"
    await page.locator(done).first.wait_for()


async def open_accidents(page) -> None:
    await page.get_by_role("link", name=re.compile("事故统计|Accident statistics")).click()
    await page.wait_for_url(re.compile(r".*#/accidents$"))
    await page.locator("#accidents-table, [data-state=empty], [data-state=error]").first.wait_for()


async def drawn_series(page) -> dict[str, list[int]]:
    series = await page.evaluate(
        "() => window.preventionConsole.chart('accidents-chart').getOption().series"
        ".map((s) => ({id: s.id, data: s.data}))")
    return {s["id"]: s["data"] for s in series}


async def no_horizontal_scroll(page) -> bool:
    return await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


async def shot(page, artifacts, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


async def test_ministry_operator_sees_inbox_and_the_national_chart(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    page = s.page
    inbox = await p.get(MINISTRY, "/v1/notifications")
    items = page.locator(".inbox li")
    assert await items.count() == len(inbox["notifications"]) == 2
    assert await items.nth(0).locator("h2").inner_text() == inbox["notifications"][0]["title"]
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await shot(page, artifacts, "ministry-inbox")

    # Mark one read: the API agrees, and the page says one fewer is unread.
    unread_before = inbox["unread_count"]
    assert unread_before >= 1 and await page.locator(".inbox li.unread").count() == unread_before
    await page.locator(".inbox li.unread").first.get_by_role("button").click()
    await page.locator(".inbox li.unread").nth(unread_before - 1).wait_for(state="detached")
    after = await p.get(MINISTRY, "/v1/notifications")
    assert after["unread_count"] == unread_before - 1
    assert str(after["unread_count"]) in await page.locator("#unread-count").inner_text()

    await open_accidents(page)
    national = await p.all_accidents(MINISTRY, occurred_from=f"{years()[0]}-01-01")
    assert await drawn_series(page) == expected_series(national)
    assert {a["tenant_code"] for a in national} == {"110000", "120000"}
    await shot(page, artifacts, "ministry-accidents-national")

    # The province switcher narrows to one province; the figures are that province's own.
    await page.get_by_label("统计范围").select_option("120000")
    tianjin_own = await p.all_accidents(TIANJIN, occurred_from=f"{years()[0]}-01-01")
    assert await drawn_series(page) == expected_series(tianjin_own) == expected_series(national, "12")
    table = page.locator("#accidents-table tbody tr")
    assert await table.count() == 5
    await shot(page, artifacts, "ministry-accidents-tianjin")
    assert s.errors == [], "no script, CSP or network errors in the console"


async def test_provincial_operator_never_sees_or_requests_another_province(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, BEIJING)
    page = s.page
    await open_accidents(page)
    own = await p.all_accidents(BEIJING, occurred_from=f"{years()[0]}-01-01")
    assert {a["tenant_code"] for a in own} == {"110000"}
    drawn = await drawn_series(page)
    assert drawn == expected_series(own)
    national = await p.all_accidents(MINISTRY, occurred_from=f"{years()[0]}-01-01")
    assert drawn != expected_series(national) and drawn != expected_series(national, "12")
    assert await page.locator("#province").count() == 0, "no province switcher for a province"
    text = await page.locator("main").inner_text()
    assert "天津" not in text and "Tianjin" not in text
    await shot(page, artifacts, "beijing-accidents")

    # The network: only its own tenant, never a tenant list or another tenant's code.
    calls = s.api_requests()
    assert any(urlsplit(u).path == "/v1/accidents" for u in calls)
    for url in calls:
        parts = urlsplit(url)
        assert parts.path in {"/v1/accidents", "/v1/notifications", "/v1/tenants/110000"}, url
        assert "120000" not in url and "tenant" not in parse_qs(parts.query), url
    assert s.errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
async def test_no_page_scrolls_horizontally(console_platform, chromium, artifacts, viewport):
    p = console_platform
    name = f"{viewport['width']}x{viewport['height']}"
    context = await chromium.new_context(viewport=viewport)
    signed_out = await context.new_page()
    await signed_out.goto(f"{p.url}/console")
    await signed_out.locator("#sign-in").wait_for()
    assert await no_horizontal_scroll(signed_out)
    await shot(signed_out, artifacts, f"signed-out-{name}")
    for user in (MINISTRY, BEIJING):
        s = await sign_in(chromium, p, user, viewport=viewport)
        assert await no_horizontal_scroll(s.page), "inbox"
        await shot(s.page, artifacts, f"{user}-inbox-{name}")
        await open_accidents(s.page)
        assert await no_horizontal_scroll(s.page), "accidents"
        await s.page.locator("#language").click()
        await s.page.get_by_text("Data table: accidents per year by severity").wait_for()
        assert await no_horizontal_scroll(s.page), "accidents in English"
        await shot(s.page, artifacts, f"{user}-accidents-{name}")


async def test_english_switch_uses_english_words_and_formats(console_platform, chromium):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    page = s.page
    await open_accidents(page)
    await page.locator("#language").click()
    await page.get_by_text("Data table: accidents per year by severity").wait_for()
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("link", name="Notifications").count() == 1
    names = await page.evaluate(
        "() => window.preventionConsole.chart('accidents-chart').getOption().series.map((s) => s.name)")
    assert names == ["Minor", "Serious", "Fatal"]
    await page.get_by_role("link", name="Notifications").click()
    await page.get_by_role("heading", name="Notifications", exact=True).wait_for()
    stamp = await page.locator(".inbox time").first.inner_text()
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", stamp), stamp  # en: "Nov 29, 2026, 3:04 PM"
    await page.locator("#language").click()
    await page.get_by_role("heading", name="通知", exact=True).wait_for()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", await page.locator(".inbox time").first.inner_text())


async def test_sign_out_ends_the_session_at_the_issuer(console_platform, chromium):
    p = console_platform
    s = await sign_in(chromium, p, BEIJING)
    page = s.page
    async with page.expect_request(lambda r: r.url.endswith("/openid-connect/logout")) as logout:
        await page.locator("#sign-out").click()
    refresh_token = parse_qs((await logout.value).post_data)["refresh_token"][0]
    await page.locator("[data-reason=logout]").wait_for()
    assert await page.locator("#sign-in").is_visible()
    # The refresh token the console held no longer works.
    reply = await p.client.post("/realms/prevention/protocol/openid-connect/token", data={
        "grant_type": "refresh_token", "client_id": "prevention-console", "refresh_token": refresh_token})
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
    # Tokens were in memory only: nothing in the browser's storage.
    local, session = await page.evaluate("() => [Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert set(local) <= {"prevention-console-locale"} and session == []


async def test_tokens_are_renewed_before_expiry_and_idle_signs_out(console_platform, chromium):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY, clock=True)
    page = s.page
    access = p.settings.token_access_seconds
    async with page.expect_request(lambda r: r.url.endswith("/openid-connect/token")
                                   and "grant_type=refresh_token" in (r.post_data or "")):
        await page.clock.run_for(access * 1000)
    # Activity keeps the session; then idle time signs the user out.
    await page.locator("#main").press("Tab")
    assert await page.locator("#sign-out").count() == 1
    await page.clock.run_for((p.settings.console_idle_timeout_seconds + 1) * 1000)
    await page.locator("[data-reason=idle]").wait_for()
    assert "15" in await page.locator("[data-reason=idle]").inner_text()


async def test_keyboard_skip_link_and_focus(console_platform, chromium):
    p = console_platform
    s = await sign_in(chromium, p, BEIJING)
    page = s.page
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.id") == "skip-link"
    box = await page.locator("#skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, "the skip link is visible when focused"
    await page.keyboard.press("Enter")
    assert await page.evaluate("() => document.activeElement.id") == "main"
    assert page.url.endswith("#/inbox"), "skipping does not navigate"
    # The navigation works from the keyboard, and the new page's heading takes the focus.
    await page.get_by_role("link", name="事故统计").focus()
    await page.keyboard.press("Enter")
    await page.locator("#accidents-table").wait_for()
    assert await page.evaluate("() => document.activeElement.tagName") == "H1"


async def test_error_and_empty_states_say_what_to_do(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    page = s.page

    async def unavailable(route):
        await route.fulfill(status=503, content_type="application/problem+json",
                            body='{"title": "Service Unavailable", "status": 503, "request_id": "req-123"}')

    await page.route("**/v1/accidents?*", unavailable)
    await open_accidents(page)
    alert = page.locator("[data-state=error]")
    assert "重试" in await alert.inner_text() and "req-123" in await alert.inner_text()
    await shot(page, artifacts, "accidents-error")
    await page.unroute("**/v1/accidents?*")
    await alert.get_by_role("button", name="重试").click()
    await page.locator("#accidents-table").wait_for()
    # A province without records: the empty state says where figures come from.
    await page.get_by_label("统计范围").select_option("310000")
    empty = page.locator("[data-state=empty]")
    assert "上报" in await empty.inner_text()
    await shot(page, artifacts, "accidents-empty")
