"""Progress lines of long steps: count, elapsed time and the estimate of what remains."""

from __future__ import annotations

import logging

import pytest

from radplug.reporting.progress import Progress, format_seconds


def test_format_seconds():
    assert format_seconds(42.4) == "42s"
    assert format_seconds(185) == "3m 05s"
    assert format_seconds(3720) == "1h 02m"


def test_progress_lines_with_eta(caplog, monkeypatch):
    clock = iter([0.0, 10.0, 20.0, 30.0, 40.0])
    monkeypatch.setattr("radplug.reporting.progress.time.monotonic", lambda: next(clock))
    log = logging.getLogger("radplug.test")
    with caplog.at_level(logging.INFO, logger="radplug.test"):
        p = Progress("SEARCH group:GLCM mlp configurations", 4, log, every=0)   # starts at t=0
        p.step("mlp.fast.000")                                                 # t=10: 1 of 4, 30 s left
        p.step("mlp.fast.001")                                                 # t=20: 2 of 4, 20 s left
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["SEARCH group:GLCM mlp configurations: 1/4 mlp.fast.000 (elapsed 10s, about 30s left)",
                     "SEARCH group:GLCM mlp configurations: 2/4 mlp.fast.001 (elapsed 20s, about 20s left)"]
    p.step()
    assert p.line() == "SEARCH group:GLCM mlp configurations: 3/4 (elapsed 40s, about 13s left)"


@pytest.mark.parametrize("every,expected", [(0, 5), (1e9, 2)])
def test_progress_rate_limit_keeps_first_and_last(caplog, every, expected):
    log = logging.getLogger("radplug.test2")
    with caplog.at_level(logging.INFO, logger="radplug.test2"):
        p = Progress("MASK x: sets", 5, log, every=every)
        for _ in range(5):
            p.step()
    assert len(caplog.records) == expected
    assert "5/5" in caplog.records[-1].getMessage() and "done in" in caplog.records[-1].getMessage()
