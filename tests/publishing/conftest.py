"""The probe corpus, generated once per test session (tests/publishing/corpus.py)."""

from __future__ import annotations

import pytest

from tests.publishing.corpus import Case, build


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return {case.name: case for case in build(tmp_path_factory.mktemp("corpus"))}
