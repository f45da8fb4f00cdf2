"""The leaderboard's optional access secret: a simple shared secret, not real authentication.

``segrepro leaderboard --secret`` (or ``SEGREPRO_LEADERBOARD_SECRET`` in its environment) hands the
secret to the Streamlit server through this environment variable, never on a command line that
``ps`` shows; the page then shows nothing until a visitor types it. Over plain HTTP the secret
travels in clear text: for anything sensitive put the page behind a TLS proxy with real logins.
"""

from __future__ import annotations

import hmac
import os

SECRET_ENV = "SEGREPRO_LEADERBOARD_SECRET"


def required_secret() -> str | None:
    """The secret the page asks for, or None when it is open to anyone who can reach it."""
    return os.environ.get(SECRET_ENV) or None


def admits(given: str, secret: str) -> bool:
    """Whether ``given`` is the secret (compared in constant time)."""
    return hmac.compare_digest(given.encode(), secret.encode())
