"""Fixtures shared by the data tests."""
import urllib.request

import pytest

from tpnb.data import sources


@pytest.fixture
def no_network(monkeypatch):
    """Make every network access fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network touched")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(sources, "fetch_url", refuse)
