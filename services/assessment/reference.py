"""The two seeded action-plan cycles (SPEC AS-8, 7.7). Values not published for 2026–2030 are
configurable assumptions, seeded as SPEC 7.7 says."""

from datetime import date

ACTION_PLANS: tuple[dict, ...] = (
    {
        "id": "2021-2025",
        "title": "工伤预防五年行动计划（2021—2025年）",
        "start_date": date(2021, 1, 1),
        "end_date": date(2025, 12, 31),
        "baseline_year": 2020,
        "targets": [
            {"indicator": "key_industry_incidence_change", "value": "-0.20", "due_date": "2025-12-31"},
            {"indicator": "key_position_training_coverage", "value": "1.00", "due_date": "2025-12-31"},
        ],
        "implementation_plan_due": date(2021, 5, 31),
        "annual_report_due": "12-31",
    },
    {
        "id": "2026-2030",
        "title": "工伤预防五年行动计划（2026—2030年）",
        "start_date": date(2026, 1, 1),
        "end_date": date(2030, 12, 31),
        "baseline_year": 2025,
        "targets": [
            {"indicator": "key_industry_incidence_change", "value": "-0.10", "due_date": "2030-12-31"},
            {"indicator": "gig_platform_incidence_change", "value": "-0.10", "due_date": "2030-12-31"},
            {"indicator": "key_position_training_coverage", "value": "1.00", "due_date": "2030-12-31"},
        ],
        "implementation_plan_due": date(2026, 6, 30),
        "annual_report_due": "12-31",
    },
)

# The 31 provinces and the XPCC (GB/T 2260, SPEC 3): the tenants expected to file plans and reports.
PROVINCES: tuple[str, ...] = (
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "320000",
    "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000", "440000", "450000",
    "460000", "500000", "510000", "520000", "530000", "540000", "610000", "620000", "630000", "640000",
    "650000", "660000",
)
