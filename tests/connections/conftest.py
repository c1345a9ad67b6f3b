"""Connections against the sandbox over real HTTP.

`sandbox` serves the whole app on pytest-django's live server: the platform clients point at its
`/_emulator/…` prefixes, PUBLIC_BASE_URL (redirect URIs) at the live server, and the sandbox's
webhooks and callbacks at our own receivers there — the same path a real platform takes
(tests/connections/sandbox.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.connections.sandbox import (  # noqa: F401 - re-exported for the tests' imports
    IG_SCOPES,
    SANDBOX_ACCOUNTS,
    SCOPES,
    TT_SCOPES,
    callback_path,
    oauth_flow,
    sandbox_on,
    staff_client,
)
from tests.contract.helpers import Sandbox


@pytest.fixture
def sandbox(live_server: Any, transactional_db: None, settings: Any) -> Sandbox:
    return sandbox_on(live_server, settings)


@pytest.fixture
def oauth(sandbox: Sandbox) -> Callable[..., Any]:
    """oauth(http, client, platform, account=..., scopes=..., reconnect=None) -> callback response.

    Starts the connect on our side, approves consent on the sandbox (control API), then follows
    the platform's redirect back into our callback with the same browser session.
    """
    return oauth_flow(sandbox)
