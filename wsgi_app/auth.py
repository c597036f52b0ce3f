"""Who may merge: a bearer token, checked by a hook before the views that need one. Compare with asgi_app/auth.py.

A decorator that wraps the view, as Flask's tutorial writes login_required (and Flask-HTTPAuth its own), would
run after flask-openapi3 has validated the body: a 422 to a stranger before the 401. So the decorator only
marks the view, as Flask's own view attributes do (`methods`, `provide_automatic_options`), and a
`before_request` hook, which runs before anything reads the body, checks the marked ones. common/auth.py holds
the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from common.auth import SCHEME_DESCRIPTION, SCHEME_NAME, MergeTokens, bearer_credentials
from common.settings import Settings
from wsgi_app.errors import HTTPException

View = TypeVar("View", bound=Callable[..., Any])
# flask-openapi3's security= on a route names this scheme; create_app declares it for the OpenAPI document
SECURITY_SCHEMES: dict[str, Any] = {
    SCHEME_NAME: {"type": "http", "scheme": "bearer", "description": SCHEME_DESCRIPTION}
}
MERGE_TOKEN: list[dict[str, list[Any]]] = [{SCHEME_NAME: []}]


# --8<-- [start:require_merge_token]
def merge_token_required(view: View) -> View:
    """Mark a view as needing one of MERGE_TOKENS; flask-openapi3 copies the mark onto the view it registers."""
    view.needs_merge_token = True  # type: ignore[attr-defined]
    return view


def require_merge_token() -> None:
    """Before a marked view: let the request through only with one of MERGE_TOKENS as its bearer token."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "needs_merge_token", False):
        return
    merge_tokens: MergeTokens = current_app.extensions["merge_tokens"]
    refusal = merge_tokens.refusal(bearer_credentials(request.headers.get("Authorization")))
    if refusal is not None:
        raise HTTPException(refusal.status, detail=refusal.detail, headers=refusal.headers)
    # --8<-- [end:require_merge_token]


def init_app(app: Flask, settings: Settings) -> None:
    """Keep the tokens where the hook finds them, and check them before every other hook (the body's rules)."""
    app.extensions["merge_tokens"] = MergeTokens(settings.all_merge_tokens())
    app.before_request(require_merge_token)
