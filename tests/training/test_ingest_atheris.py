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
    statement = {"actor": {"objectType": "Agent", "account": {"homePage": "https://p.example.cn", "name": "t-1"}},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": "https://p.example.cn/course/1"}}
    broken = {**statement, "verb": {"id": "not a uri"}, "actor": {"mbox": "110101199003077777"}}
    # Inputs are read by FuzzedDataProvider: these are only starting points for mutation.
    return {
        "valid-json": b"\x01\x01" + json.dumps(statement).encode(),
        "broken-json": b"\x01\x02" + json.dumps(broken).encode() + json.dumps([statement]).encode(),
        "raw": b"\x00\x02\x0a\x05\x12\x03{}x\xff\xfe",
    }


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
    artefacts = tmp_path / "artefacts"
    artefacts.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    run = subprocess.run(
        [sys.executable, str(TARGET), f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=20",
         f"-artifact_prefix={artefacts}/", str(corpus)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=seconds + 120)
    tail = run.stderr[-4000:]
    assert run.returncode == 0, f"atheris found a failing input (in {artefacts}):\n{tail}"
    assert not list(artefacts.iterdir()), tail
    done = re.search(r"Done (\d+) runs in (\d+) second", run.stderr)
    assert done, tail
    print(f"atheris: {done.group(1)} runs in {done.group(2)} s")
    assert int(done.group(1)) > 0
