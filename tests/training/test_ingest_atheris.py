"""RELIABILITY S14: atheris over the learning-record ingest (decoding + validation, in-process).

One run of ``fuzz_ingest_atheris.py`` in a subprocess (atheris exits the process when done) for
PREVENTION_FUZZ_SECONDS of real time (60 by default; CI runs it once: the PostgreSQL pass excludes
the ``fuzz`` marker). The seed corpus holds a valid-shaped batch, a batch of broken statements and
raw garbage; the corpus and any crash artefact live in the test's temporary directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fuzz

TARGET = Path(__file__).with_name("fuzz_ingest_atheris.py")
ROOT = Path(__file__).resolve().parents[2]


def _seeds() -> dict[str, bytes]:
    """Starting points (see fuzz_ingest_atheris._frames for the layout)."""
    agent = {"objectType": "Agent", "account": {"homePage": "https://p.example.cn", "name": "t-1"}}
    statement = {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "actor": agent,
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成"}},
                 "object": {"objectType": "Activity", "id": "https://p.example.cn/course/1"},
                 "result": {"score": {"scaled": 0.9}, "success": True, "completion": True},
                 "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                             "contextActivities": {"parent": [{"id": "https://p.example.cn/plan"}]}},
                 "timestamp": "2026-11-01T08:00:00Z"}
    voiding = {"actor": agent, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": statement["id"]}}
    group = {**statement, "actor": {"objectType": "Group", "member": [agent, {"mbox": "mailto:a@example.cn"}]}}
    broken = {**statement, "verb": {"id": "not a uri"}, "actor": {"mbox": "110101199003077777"}}
    lines = [json.dumps(x, ensure_ascii=False).encode() for x in (statement, voiding, group, broken)]
    return {
        "batches": b"\x01" + b"\n".join(lines[:2]) + b"\n\n" + b"\n".join(lines[2:]),
        "one": b"\x03" + lines[0],
        "raw": b"\x00" + b"\x08\x01\x12\x05\x12\x03{}x" + b"\x00\xff" + b"\xff\xfe",
    }


# Tokens the mutator may splice in (libFuzzer dictionary).
_DICTIONARY = ['"actor"', '"verb"', '"object"', '"objectType"', '"Agent"', '"Group"', '"member"', '"account"',
               '"homePage"', '"name"', '"mbox"', '"mailto:"', '"id"', '"StatementRef"', '"SubStatement"',
               '"result"', '"score"', '"scaled"', '"context"', '"registration"', '"timestamp"', '"attachments"',
               '"sha2"', '"http://adlnet.gov/expapi/verbs/voided"', '"version"', '"authority"', '"extensions"']


def test_atheris_ingest(tmp_path):
    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("atheris must be installed in CI (pip install -e '.[dev]')")
        pytest.skip("atheris is not installed")
    seconds = int(os.environ.get("PREVENTION_FUZZ_SECONDS", "60"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in _seeds().items():
        (corpus / name).write_bytes(data)
    dictionary = tmp_path / "xapi.dict"
    dictionary.write_text("".join(f"{json.dumps(token)}\n" for token in _DICTIONARY))
    artefacts = tmp_path / "artefacts"
    artefacts.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    run = subprocess.run(
        [sys.executable, str(TARGET), f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=20",
         f"-dict={dictionary}",
         f"-artifact_prefix={artefacts}/", str(corpus)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=seconds + 120)
    tail = run.stderr[-4000:]
    assert run.returncode == 0, f"atheris found a failing input (in {artefacts}):\n{tail}"
    assert not list(artefacts.iterdir()), tail
    done = re.search(r"Done (\d+) runs in (\d+) second", run.stderr)
    assert done, tail
    print(f"atheris: {done.group(1)} runs in {done.group(2)} s")
    assert int(done.group(1)) > 0
