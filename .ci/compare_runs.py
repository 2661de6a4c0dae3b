"""Fails when the PostgreSQL run skipped (or lacked) a database test that the SQLite run ran."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def outcomes(path: str) -> dict[str, str]:
    result = {}
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - our own pytest output
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            result[name] = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            result[name] = "failed"
        else:
            result[name] = "passed"
    return result


def main(first: str, second: str) -> int:
    sqlite, postgres = outcomes(first), outcomes(second)
    if not postgres:
        print("the PostgreSQL run ran no test")
        return 1
    bad = sorted(n for n, o in postgres.items() if o != "passed" and sqlite.get(n) == "passed")
    for name in bad:
        print(f"ran on SQLite but {postgres[name]} on PostgreSQL: {name}")
    ran = sum(1 for o in postgres.values() if o == "passed")
    print(f"PostgreSQL run: {ran} passed of {len(postgres)}; {len(bad)} regressions against SQLite")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
