"""Premium-rate floating (SPEC AS-6, 7.7) through the public RPCs, against hand-computed cases at
each threshold edge of the default rule set and each SPEC 7.7 edge case; rule-set versions (old
results keep theirs); resumable, re-runnable runs; CSV/XLSX import with per-row errors; export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import grpc
import pytest
from openpyxl import Workbook, load_workbook
from prevention.assessment.v1 import rates_pb2

from tests.assessment.helpers import assessment, code_of, unique_region
from tests.isolation.resources import harness_uscc

TENANT = "320000"  # Jiangsu: no other test runs rates there
P = 100_000_00  # premiums paid per year, fen


def years(benefits_total: int, *, injuries=0, fatal=0, risk_class=3, span=(2023, 2024, 2025), premiums=P,
          months=12) -> list[dict]:
    """Inputs spread over ``span``: the premiums each year, the benefits all in the last year."""
    rows = []
    for year in span:
        last = year == span[-1]
        rows.append(dict(year=year, risk_class=risk_class, premiums_paid_fen=premiums,
                         benefits_paid_fen=benefits_total if last else 0, injuries=injuries if last else 0,
                         fatal_accidents=fatal if last else 0, months_insured=months))
    return rows


# name -> (inputs, expected tier, expected rate, a phrase the factors must contain). Base class 3 = 0.7 %.
CASES = {
    "ratio exactly 120 %, no injury: down": (years(360_000_00), "80%", "0.0056", "no injury"),
    "ratio just above 120 %: first step up": (years(360_000_01 + 29), "120%", "0.0084", "above 120%"),
    "injury with ratio <= 120 %: base": (years(300_000_00, injuries=2), "100%", "0.007", "injuries"),
    "ratio exactly 300 %: first step up": (years(900_000_00), "120%", "0.0084", "at most 300%"),
    "ratio just above 300 %: second step up": (years(900_000_30), "150%", "0.0105", "above 300%"),
    "fatal accident blocks the down float": (years(0, fatal=1), "100%", "0.007", "fatal"),
    "class 1 never below base": (years(0, risk_class=1), "100%", "0.002", "risk class 1 never"),
    "class 1 floats up": (years(1_000_000_00, risk_class=1), "150%", "0.003", "above 300%"),
    "class 8 first step up": (years(600_000_00, risk_class=8), "120%", "0.0228", "above 120%"),
    "no premium paid: base": (years(0, premiums=0), "100%", "0.007", "no premium history"),
    "two years: the years available": (years(0, span=(2024, 2025)), "80%", "0.0056", "2 of 3 years"),
    "less than 1 year: base": (years(0, span=(2025,), months=11), "100%", "0.007", "less than 1 year"),
    "exactly 12 months over two years": (years(0, span=(2024, 2025), months=6), "80%", "0.0056", "no injury"),
    "years outside the cycle are ignored": (
        [*years(0), dict(year=2022, risk_class=3, premiums_paid_fen=P, benefits_paid_fen=10**12, injuries=9,
                         fatal_accidents=1, months_insured=12)], "80%", "0.0056", "no injury"),
}


def rows_for(region: str) -> tuple[list[rates_pb2.RateInput], dict[str, str]]:
    rows, employers = [], {}
    for case, (inputs, *_rest) in CASES.items():
        uscc = harness_uscc()
        employers[uscc] = case
        rows += [rates_pb2.RateInput(pooling_region=region, employer=uscc, **i) for i in inputs]
    return rows, employers


async def results_of(po, run_name: str) -> dict[str, rates_pb2.RateResult]:
    listed = await po.ListRateResults(rates_pb2.ListRateResultsRequest(parent=run_name, page_size=500))
    return {r.employer: r for r in listed.rate_results}


@pytest.mark.db
async def test_default_rules_against_hand_computed_cases_and_versions(platform, issuer):
    region = unique_region(TENANT)
    async with assessment(platform) as client:
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        rows, employers = rows_for(region)
        imported = await po.ImportRateInputs(rates_pb2.ImportRateInputsRequest(rows=rows))
        assert (imported.imported, list(imported.errors)) == (len(rows), [])
        run = (await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region=region, cycle_end_year=2025))
               ).rate_run
        assert (run.state, run.total, run.processed, run.rule_set_version) == ("completed", len(CASES), len(CASES), 0)
        results = await results_of(po, run.name)
        for uscc, case in employers.items():
            _inputs, tier, rate, phrase = CASES[case]
            got = results[uscc]
            assert (got.tier, Decimal(got.rate)) == (tier, Decimal(rate)), (case, got)
            assert any(phrase in f for f in got.factors), (case, list(got.factors))

        # A rule-set change is a new version; the old run keeps its results and version.
        v1 = (await po.CreateRateRuleSet(rates_pb2.CreateRateRuleSetRequest(rule_set=rates_pb2.RateRuleSet(
            pooling_region=region, parameters={"down_multiplier": "0.50"})))).rule_set
        assert v1.version == 1 and v1.parameters["down_multiplier"] == "0.50"
        latest = (await po.GetRateRuleSet(rates_pb2.GetRateRuleSetRequest(pooling_region=region))).rule_set
        assert latest == v1
        second = (await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region=region, cycle_end_year=2025))
                  ).rate_run
        assert second.rule_set_version == 1
        down = next(u for u, c in employers.items() if c.startswith("ratio exactly 120"))
        new = await results_of(po, second.name)
        assert (new[down].tier, Decimal(new[down].rate)) == ("50%", Decimal("0.0035"))
        old = await po.ListRateResults(rates_pb2.ListRateResultsRequest(parent=run.name, page_size=500))
        assert old.rule_set_version == 0
        assert {r.employer: r for r in old.rate_results} == results


@pytest.mark.db
async def test_interrupted_run_resumes_to_the_same_result_as_a_fresh_run(platform, issuer):
    region = unique_region(TENANT)
    async with assessment(platform) as client:
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        rows, _ = rows_for(region)
        await po.ImportRateInputs(rates_pb2.ImportRateInputsRequest(rows=rows))
        partial = (await po.StartRateRun(rates_pb2.StartRateRunRequest(
            pooling_region=region, cycle_end_year=2025, batch_size=3, max_batches=2))).rate_run
        assert (partial.state, partial.processed, partial.total) == ("running", 6, len(CASES))
        progress = (await po.GetRateRun(rates_pb2.GetRateRunRequest(name=partial.name))).rate_run
        assert progress.processed == 6
        resumed = (await po.ResumeRateRun(rates_pb2.ResumeRateRunRequest(name=partial.name, batch_size=3))).rate_run
        assert (resumed.state, resumed.processed) == ("completed", len(CASES))
        fresh = (await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region=region, cycle_end_year=2025))
                 ).rate_run
        assert await results_of(po, partial.name) == await results_of(po, fresh.name)
        again = (await po.ResumeRateRun(rates_pb2.ResumeRateRunRequest(name=fresh.name))).rate_run
        assert again.processed == len(CASES)  # resuming a completed run changes nothing

        other = client(issuer.token(tenant="110000", roles=["provincial_operator"]))
        code, _ = await code_of(other.GetRateRun(rates_pb2.GetRateRunRequest(name=fresh.name)))
        assert code == grpc.StatusCode.NOT_FOUND


@pytest.mark.db
async def test_file_import_with_row_errors_and_export(platform, issuer):
    region = unique_region(TENANT)
    good, good2 = harness_uscc(), harness_uscc()
    header = ["employer", "year", "risk_class", "premiums_paid_fen", "benefits_paid_fen", "injuries",
              "fatal_accidents", "hazard_level"]
    lines = [header, [good, "2025", "4", "1000000", "0", "0", "0", "low"],
             ["not-a-uscc", "2025", "4", "1000000", "0", "0", "0", "low"],
             [good2, "2025", "9", "1000000", "0", "0", "0", "low"],
             [good2, "2025", "4", "lots", "0", "0", "0", "low"],
             [good2, "2025", "4", "1000000", "5000000", "1", "0", "extreme"]]
    text = io.StringIO()
    csv.writer(text).writerows(lines)
    async with assessment(platform) as client:
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        result = await po.ImportRateInputs(rates_pb2.ImportRateInputsRequest(
            file=text.getvalue().encode("gb18030"), file_name="inputs.csv", pooling_region=region))
        assert result.imported == 1
        assert [(e.row, e.field) for e in result.errors] == [
            (3, "employer"), (4, "risk_class"), (5, "premiums_paid_fen"), (6, "hazard_level")]

        book = Workbook()
        book.active.append(header)
        book.active.append([good2, 2025, 4, 1000000, 5000000, 1, 0, "high"])
        out = io.BytesIO()
        book.save(out)
        result = await po.ImportRateInputs(rates_pb2.ImportRateInputsRequest(
            file=out.getvalue(), file_name="inputs.xlsx", pooling_region=region))
        assert (result.imported, list(result.errors)) == (1, [])

        run = (await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region=region, cycle_end_year=2025))
               ).rate_run
        exported = await po.ExportRateResults(rates_pb2.ExportRateResultsRequest(parent=run.name, format="csv"))
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert table[0][:3] == ["employer", "risk_class", "tier"]
        assert {(r[0], r[2]) for r in table[1:]} == {(good, "80%"), (good2, "150%")}
        xlsx = await po.ExportRateResults(rates_pb2.ExportRateResultsRequest(parent=run.name, format="xlsx"))
        sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
        assert sheet.max_row == 3

        code, details = await code_of(po.CreateRateRuleSet(rates_pb2.CreateRateRuleSetRequest(
            rule_set=rates_pb2.RateRuleSet(pooling_region=region, parameters={
                "down_multiplier": "0.3", "up1_ratio_max": "1.0", "surprise": "1"}))))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert "down_multiplier" in details and "surprise" in details


def newest_first(runs) -> list[str]:
    return [r.name for r in sorted(runs, key=lambda r: (r.create_time.ToDatetime(), r.name), reverse=True)]


async def every_run(po, region: str = "") -> list[rates_pb2.RateRun]:
    runs, token = [], ""
    while True:
        page = await po.ListRateRuns(rates_pb2.ListRateRunsRequest(pooling_region=region, page_size=2,
                                                                   page_token=token))
        runs += page.rate_runs
        token = page.next_page_token
        if not token:
            return runs


@pytest.mark.db
async def test_runs_are_listed_newest_first_within_the_callers_province(platform, issuer):
    region, neighbour = unique_region(TENANT), unique_region(TENANT)
    async with assessment(platform) as client:
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        mine = []
        for where in (region, region, neighbour, region):
            mine.append((await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region=where,
                                                                             cycle_end_year=2025))).rate_run)
        in_region = [r for r in mine if r.pooling_region == region]

        listed = await every_run(po, region)  # two per page: the keyset carries over pages
        assert {r.pooling_region for r in listed} == {region}
        assert [r.name for r in listed] == newest_first(listed)
        assert [r.name for r in listed if r in in_region] == newest_first(in_region)
        assert {r.name for r in listed} >= {r.name for r in in_region}
        province = await every_run(po)
        assert [r.name for r in province] == newest_first(province)
        assert {r.name for r in province} >= {r.name for r in mine}
        assert all(r.pooling_region.startswith(TENANT[:2]) for r in province)

        # A page token belongs to its query; a region outside the caller's province is not found.
        first = await po.ListRateRuns(rates_pb2.ListRateRunsRequest(pooling_region=region, page_size=1))
        code, details = await code_of(po.ListRateRuns(rates_pb2.ListRateRunsRequest(
            pooling_region=neighbour, page_token=first.next_page_token)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in details
        beijing = client(issuer.token(tenant="110000", roles=["provincial_operator"]))
        code, _ = await code_of(beijing.ListRateRuns(rates_pb2.ListRateRunsRequest(pooling_region=region)))
        assert code == grpc.StatusCode.NOT_FOUND  # like a region that does not exist
        code, details = await code_of(beijing.ListRateRuns(rates_pb2.ListRateRunsRequest(pooling_region="11")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "pooling_region" in details
        assert not {r.name for r in await every_run(beijing)} & {r.name for r in mine}

        ministry = client(issuer.token(tenant="100000", roles=["ministry_operator"]))
        assert [r.name for r in await every_run(ministry, region)] == [r.name for r in listed]
