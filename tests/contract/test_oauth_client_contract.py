"""A third-party OAuth 2.0 client completes the Instagram code flow against the sandbox unchanged.

requests-oauthlib's `OAuth2Session` knows nothing of Instagram: it builds the authorize URL,
checks `state` on the callback and fetches the token from the code-exchange endpoint, with the
client credentials in the form body (`include_client_id=True`, as api.instagram.com wants them).
It needs the token at the top level of the reply, which is why the sandbox answers in the flat
shape by default (PLATFORMS §2.3) — the documented `data[]` wrapper defeats it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from oauthlib.oauth2 import MismatchingStateError, MissingTokenError
from requests_oauthlib import OAuth2Session

from tests.contract.helpers import ALL_IG_SCOPES, IG_CALLBACK, Receiver, Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def oauth_session(
    sandbox: Sandbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> OAuth2Session:
    # The live server and the receiver speak plain http on 127.0.0.1; oauthlib refuses that
    # unless told it is a local test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return OAuth2Session(
        client_id=settings.INSTAGRAM_APP_ID,
        redirect_uri=receiver.url(IG_CALLBACK),
        scope=list(ALL_IG_SCOPES),
    )


def _authorize(sandbox: Sandbox, session: OAuth2Session, account: str = "ig-business") -> str:
    """The callback URL the user's browser would land on: the authorize URL the session built,
    approved through the sandbox's headless consent (control API) with the session's state."""
    url, state = session.authorization_url(sandbox.url("/_emulator/instagram/oauth/authorize"))
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert query["client_id"] == settings.INSTAGRAM_APP_ID
    assert query["response_type"] == "code"
    grant = sandbox.authorize(
        account,
        query["scope"].split(" "),  # oauthlib joins scopes with spaces; §2.2 allows that
        query["redirect_uri"],
        state=state,
    )
    return str(grant["redirect"])


def test_requests_oauthlib_completes_the_code_flow_with_credentials_in_the_body(
    sandbox: Sandbox, oauth_session: OAuth2Session
) -> None:
    callback = _authorize(sandbox, oauth_session)
    assert callback.endswith("#_")  # §2.2: Instagram appends it; the client must cope

    token: dict[str, Any] = oauth_session.fetch_token(
        sandbox.url("/_emulator/instagram-api/oauth/access_token"),
        authorization_response=callback,
        include_client_id=True,
        client_secret=settings.INSTAGRAM_APP_SECRET,
        timeout=10,
    )

    assert token["access_token"].startswith("IGAAS")
    assert str(token["user_id"]) == sandbox.account("ig-business")["app_scoped_id"]
    assert token["permissions"].split(",") == list(ALL_IG_SCOPES)
    # The token works: the session sends it as a Bearer header to the Graph API.
    me = oauth_session.get(
        sandbox.url("/_emulator/instagram-graph/v25.0/me?fields=username"), timeout=10
    )
    assert me.status_code == 200 and me.json()["username"] == "sbx_business"


def test_requests_oauthlib_refuses_a_callback_with_another_state(
    sandbox: Sandbox, oauth_session: OAuth2Session
) -> None:
    oauth_session.authorization_url(sandbox.url("/_emulator/instagram/oauth/authorize"))
    grant = sandbox.authorize(
        "ig-business", ALL_IG_SCOPES, oauth_session.redirect_uri, state="not-the-session-state"
    )
    with pytest.raises(MismatchingStateError):
        oauth_session.fetch_token(
            sandbox.url("/_emulator/instagram-api/oauth/access_token"),
            authorization_response=grant["redirect"],
            include_client_id=True,
            client_secret=settings.INSTAGRAM_APP_SECRET,
            timeout=10,
        )


def test_the_documented_data_shape_is_what_stops_a_generic_client(
    sandbox: Sandbox, oauth_session: OAuth2Session
) -> None:
    """Why flat is the default: with `data[]` a generic client finds no access token."""
    sandbox.configure(instagram_token_shape="data")
    callback = _authorize(sandbox, oauth_session)
    with pytest.raises(MissingTokenError):
        oauth_session.fetch_token(
            sandbox.url("/_emulator/instagram-api/oauth/access_token"),
            authorization_response=callback,
            include_client_id=True,
            client_secret=settings.INSTAGRAM_APP_SECRET,
            timeout=10,
        )
