"""The console's analytics pages in headless Chromium against the real platform (issue 8 item 3):
national overview, province view and training coverage. Each chart's series equal the figures
the REST API returns for the same query; a provincial operator's pages show and request only its
own province; no page scrolls horizontally at 390x844; screenshots land in var/artifacts/browser."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest_names import BEIJING, MINISTRY
from tests.browser.seed_pages import REGION, SEEDED
from tests.browser.test_console import DESKTOP, PHONE, no_horizontal_scroll, shot, sign_in

PAGES = {
    "overview": ("全国概览", "#overview-incidence-table"),
    "province": ("省级视图", "#province-closure"),
    "coverage": ("培训覆盖", "#coverage-summary"),
    "filings": ("报送", "#filings-table, [data-page=filings] [data-state=empty]"),
    "projects": ("项目与预算", "#projects-table, [data-page=projects] [data-state=empty]"),
    "rates": ("费率浮动", "#rate-run-form"),
}
FILING_STATUSES = ["submitted", "acknowledged", "returned", "overdue"]
PROJECT_STATES = ["submitted", "under_review", "approved", "in_progress", "acceptance", "completed", "failed",
                  "rejected", "withdrawn"]
STATES = ["issued", "responded", "returned", "escalated", "closed"]


def js_round3(x: float) -> float:
    return math.floor(x * 1000 + 0.5) / 1000


def pooled(figures: list[dict]) -> float | None:
    injured = sum(f["injured_persons"] for f in figures)
    insured = sum(f["insured_persons"] for f in figures)
    return js_round3(injured * 100000 / insured) if insured else None


async def open_page(page, name: str) -> None:
    label, ready = PAGES[name]
    await page.get_by_role("link", name=label, exact=True).click()
    await page.wait_for_url(re.compile(rf".*#/{name}$"))
    await page.locator(f"{ready}, [data-page={name}] [data-state=error]").first.wait_for()
    assert await page.locator(f"[data-page={name}] [data-state=error]").count() == 0


async def series(page, chart: str) -> dict[str, list]:
    drawn = await page.evaluate(
        "(id) => window.preventionConsole.chart(id).getOption().series.map((s) => ({id: s.id, data: s.data}))", chart)
    return {s["id"]: s["data"] for s in drawn}


async def axis(page, chart: str, name: str = "yAxis") -> list[str]:
    return await page.evaluate(f"(id) => window.preventionConsole.chart(id).getOption().{name}[0].data", chart)


async def expected_overview(p, user: str) -> dict:
    latest = await p.get(user, "/v1/analytics/incidence")
    answers = [await p.get(user, "/v1/analytics/incidence", year=y)
               for y in range(latest["baseline_year"] + 1, latest["year"])] + [latest]
    rates = [pooled([k["baseline"] for k in latest["key_industries"]])]
    rates += [pooled([k["figures"] for k in a["key_industries"]]) for a in answers]
    target = next(k["target_change_pct"] for k in latest["key_industries"] if k["target_change_pct"] is not None)
    line = js_round3(rates[0] * (1 + target / 100))
    ranking = [r["incidence_per_100k_insured"] for r in reversed(latest["region_ranking"])]
    return {"incidence": rates, "target": [line] * len(rates), "ranking": ranking, "latest": latest}


def industry_rates(rows: list[dict], prefix: str) -> list[float | None]:
    divisions = sorted({r["industry_code"] for r in rows if r["tenant_code"].startswith(prefix)})
    return [pooled([r["figures"] for r in rows if r["tenant_code"].startswith(prefix) and r["industry_code"] == d])
            for d in divisions]


async def test_ministry_overview_matches_the_analytics_api(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    await open_page(s.page, "overview")
    expected = await expected_overview(p, MINISTRY)
    drawn = await series(s.page, "overview-incidence-chart")
    assert drawn == {"incidence": expected["incidence"], "target": expected["target"]}
    assert expected["incidence"][-1] is not None and expected["incidence"][-1] < expected["incidence"][0]
    assert await series(s.page, "overview-ranking-chart") == {"ranking": expected["ranking"]}
    keys = {r["key"] for r in expected["latest"]["region_ranking"]}
    assert {"110000", "120000"} <= keys
    names = await axis(s.page, "overview-ranking-chart")
    assert "北京市" in names and "天津市" in names
    await shot(s.page, artifacts, "ministry-overview")
    assert s.errors == []


async def test_ministry_province_view_narrows_to_the_chosen_province(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    page = s.page
    await open_page(page, "province")
    incidence = await p.get(MINISTRY, "/v1/analytics/incidence")
    await page.get_by_label("统计范围").select_option("120000")
    await page.locator("#province-industry-table").wait_for()
    assert await series(page, "province-industry-chart") == {"incidence": industry_rates(incidence["rows"], "12")}
    await page.get_by_label("统计范围").select_option("110000")
    beijing = industry_rates(incidence["rows"], "11")
    await page.wait_for_function(
        "(n) => window.preventionConsole.chart('province-industry-chart')?.getOption().series[0].data.length === n",
        arg=len(beijing))
    assert await series(page, "province-industry-chart") == {"incidence": beijing}
    year = datetime.now(UTC).year
    closure = await p.get(MINISTRY, "/v1/rectification-closure", year=year)
    due = sum(t["due"] for t in closure["tenants"] if t["tenant_code"].startswith("11"))
    text = await page.locator("#province-closure").inner_text()
    assert (str(due) in text) if due else ("暂无" in text)
    assert "仅对发出通知的部门" in await page.locator("main").inner_text()
    await shot(page, artifacts, "ministry-province-beijing")
    assert s.errors == []


async def test_provincial_operator_pages_show_and_request_only_its_province(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, BEIJING)
    page = s.page

    await open_page(page, "overview")
    expected = await expected_overview(p, BEIJING)
    national = await expected_overview(p, MINISTRY)
    assert await series(page, "overview-incidence-chart") == {"incidence": expected["incidence"],
                                                               "target": expected["target"]}
    assert expected["incidence"] != national["incidence"]
    assert {r["key"] for r in expected["latest"]["region_ranking"]} == {"110000"}
    assert await series(page, "overview-ranking-chart") == {"ranking": expected["ranking"]}
    await shot(page, artifacts, "beijing-overview")

    await open_page(page, "province")
    incidence = await p.get(BEIJING, "/v1/analytics/incidence")
    assert await series(page, "province-industry-chart") == {"incidence": industry_rates(incidence["rows"], "11")}
    notices = (await p.get(BEIJING, "/v1/rectification-notices", page_size=100))["rectification_notices"]
    assert notices and {n["tenant_code"] for n in notices} == {"110000"}
    assert await series(page, "province-notices-chart") == {
        "notices": [sum(n["state"] == st for n in notices) for st in STATES]}
    now = datetime.now(UTC)
    overdue = [n for n in notices if n["state"] in ("issued", "returned")
               and datetime.fromisoformat(n["due_time"].replace("Z", "+00:00")) < now]
    assert await page.locator("#province-overdue li").count() == len(overdue)
    assert await page.locator("#province").count() == 0, "no province switcher for a province"
    await shot(page, artifacts, "beijing-province")

    await open_page(page, "coverage")
    coverage = await p.get(BEIJING, "/v1/coverage", year=datetime.now(UTC).year)
    assert coverage["tenant_code"] == "110000"
    if coverage["required"]:
        assert await series(page, "coverage-province-chart") == {"coverage": [coverage["ratio"]]}
    else:
        assert await page.locator("[data-page=coverage] [data-state=empty]").count() >= 1
    await shot(page, artifacts, "beijing-coverage")

    text = await page.locator("main").inner_text()
    assert "天津" not in text and "Tianjin" not in text

    await check_assessment_pages(p, page, BEIJING, artifacts)
    for name in ("overview", "province", "filings", "projects"):
        await open_page(page, name)
        text = await page.locator("main").inner_text()
        assert "天津" not in text and "120000" not in text
    allowed = {"/v1/accidents", "/v1/notifications", "/v1/tenants/110000", "/v1/analytics/incidence",
               "/v1/rectification-closure", "/v1/rectification-notices", "/v1/coverage", "/v1/filings",
               "/v1/overdue-filings", "/v1/projects", "/v1/budget-status", "/v1/rate-runs",
               f"/v1/rate-runs/{SEEDED['rate_run']}",
               f"/v1/rate-runs/{SEEDED['rate_run']}/results"}
    for url in s.api_requests():
        parts = urlsplit(url)
        assert parts.path in allowed, url
        query = parse_qs(parts.query)
        assert "120000" not in url and "tenant" not in query and "tenant_code" not in query, url
    assert s.errors == []


async def test_ministry_coverage_per_province_matches_the_api(console_platform, chromium, artifacts):
    p = console_platform
    s = await sign_in(chromium, p, MINISTRY)
    await open_page(s.page, "coverage")
    year = datetime.now(UTC).year
    national = await p.get(MINISTRY, "/v1/coverage", year=year)
    provinces = [t for t in (await p.get(MINISTRY, "/v1/tenants", parent="100000", page_size=100))["tenants"]
                 if t["level"] == "province"]
    per = [await p.get(MINISTRY, "/v1/coverage", tenant_code=t["code"], year=year) for t in provinces]
    ratios = [c["ratio"] for c in per if c["required"]]
    if ratios:
        assert await series(s.page, "coverage-province-chart") == {"coverage": ratios}
    else:
        assert await s.page.locator("[data-page=coverage] [data-state=empty]").count() >= 1
    positions = [r["ratio"] for r in national["by_key_position"] if r["required"]]
    if positions:
        assert await series(s.page, "coverage-position-chart") == {"coverage": positions}
    await shot(s.page, artifacts, "ministry-coverage")
    assert s.errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
async def test_analytics_pages_do_not_scroll_horizontally(console_platform, chromium, artifacts, viewport):
    p = console_platform
    size = f"{viewport['width']}x{viewport['height']}"
    for user in (MINISTRY, BEIJING):
        s = await sign_in(chromium, p, user, viewport=viewport)
        for name in PAGES:
            await open_page(s.page, name)
            assert await no_horizontal_scroll(s.page), name
            await shot(s.page, artifacts, f"{user}-{name}-{size}")
        await s.page.locator("#language").click()
        await s.page.get_by_role("heading", name="Premium-rate results: tier distribution").wait_for()
        assert await no_horizontal_scroll(s.page), "the last page in English"
        await s.page.close()


async def all_items(p, user: str, path: str, key: str) -> list[dict]:
    token, items = "", []
    while True:
        page = await p.get(user, path, page_size=100, **({"page_token": token} if token else {}))
        items += page[key]
        token = page.get("next_page_token", "")
        if not token:
            return items


async def check_assessment_pages(p, page, user: str, artifacts) -> None:
    """Filings, projects with budget, and the rate run's tiers: drawn = the REST API's figures."""
    who = "ministry" if user == MINISTRY else "beijing"
    await open_page(page, "filings")
    filings = await all_items(p, user, "/v1/filings", "filings")
    overdue = (await p.get(user, "/v1/overdue-filings"))["overdue_filings"]
    counts = [len(overdue) if s == "overdue" else sum(f["state"] == s for f in filings) for s in FILING_STATUSES]
    assert await series(page, "filings-chart") == {"filings": counts}
    assert await page.locator("#filings-overdue-table tbody tr").count() == len(overdue)
    tenants = {f["tenant_code"] for f in filings} | {f["tenant_code"] for f in overdue}
    assert tenants == ({"110000"} if user == BEIJING else tenants) and "110000" in tenants
    await shot(page, artifacts, f"{who}-filings")

    await open_page(page, "projects")
    projects = await all_items(p, user, "/v1/projects", "projects")
    assert await series(page, "projects-chart") == {"projects": [sum(x["state"] == s for x in projects)
                                                                  for s in PROJECT_STATES]}
    budget = await p.get(user, "/v1/budget-status", pooling_region=REGION, year=datetime.now(UTC).year)
    assert await series(page, "budget-chart") == {"approved": [int(budget["approved_fen"]) / 100],
                                                  "cap": [int(budget["cap_fen"]) / 100]}
    assert int(budget["approved_fen"]) == 80_000_00
    await shot(page, artifacts, f"{who}-projects")

    await open_page(page, "rates")
    runs = (await p.get(user, "/v1/rate-runs", page_size=50))["rate_runs"]
    options = page.get_by_label("测算", exact=True).locator("option")
    await options.first.wait_for(state="attached")
    assert await options.evaluate_all("os => os.map(o => o.value)") == [r["name"].removeprefix("rateRuns/")
                                                                         for r in runs]
    assert {r["pooling_region"][:2] for r in runs} == ({"11"} if user == BEIJING else {r["pooling_region"][:2]
                                                                                       for r in runs})
    await page.get_by_label("测算", exact=True).select_option(SEEDED["rate_run"])
    await page.get_by_role("button", name="查看").click()
    await page.locator("#rate-run-summary", has_text=REGION).wait_for()
    await page.locator("#rates-table").wait_for()
    results = await all_items(p, user, f"/v1/rate-runs/{SEEDED['rate_run']}/results", "rate_results")
    tiers = sorted({r["tier"] for r in results}, key=lambda x: float(x.rstrip("%")))
    assert len(results) == 2
    assert await series(page, "rates-chart") == {"tiers": [sum(r["tier"] == x for r in results) for x in tiers]}
    assert await axis(page, "rates-chart", "xAxis") == tiers
    await shot(page, artifacts, f"{who}-rates")


async def test_ministry_assessment_pages_match_the_api(console_platform, chromium, artifacts):
    s = await sign_in(chromium, console_platform, MINISTRY)
    await check_assessment_pages(console_platform, s.page, MINISTRY, artifacts)
    assert s.errors == []


# WCAG 2.1 SC 1.4.3 (GB/T 37668 follows it): text against its composited background at least
# 4.5:1, large text (24 px, or 18.66 px bold) 3:1. Chart text is drawn on canvas and not checked here.
CONTRAST = """() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) bg = over(c, bg);
    }
    return bg;
  };
  const failures = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility !== 'visible' || box.width < 2 || box.height < 2) continue;
    if (el.closest('[hidden], :disabled')) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${el.tagName.toLowerCase()} "${text.slice(0, 40)}" ${ratio.toFixed(2)}:1`);
    }
  }
  return failures;
}"""


async def low_contrast(page) -> list[str]:
    return await page.evaluate(CONTRAST)


async def test_text_meets_the_contrast_minimum_on_every_page(console_platform, chromium):
    """Every page's text, in Chinese and in English, as a ministry and as a provincial operator."""
    p = console_platform
    for user in (MINISTRY, BEIJING):
        s = await sign_in(chromium, p, user)
        failures = {"inbox": await low_contrast(s.page)}
        for name in PAGES:
            await open_page(s.page, name)
            failures[name] = await low_contrast(s.page)
        await s.page.locator("#language").click()
        await s.page.get_by_role("heading", name="Premium-rate results: tier distribution").wait_for()
        failures["rates (English)"] = await low_contrast(s.page)
        assert {k: v for k, v in failures.items() if v} == {}, user
        await s.page.close()
