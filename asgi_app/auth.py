"""Who may merge: a bearer token, checked by a dependency of `POST /merge`. Compare with wsgi_app/auth.py.

FastAPI's HTTPBearer reads the header and puts the scheme in the OpenAPI document, where Swagger UI's
Authorize button finds it; with auto_error=False it leaves the answers to us, so that they say what RFC 6750
says and match the Flask app's: common/auth.py holds the rule.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from common.auth import SCHEME_DESCRIPTION, SCHEME_NAME, MergeTokens
from common.settings import Settings

bearer = HTTPBearer(scheme_name=SCHEME_NAME, description=SCHEME_DESCRIPTION, auto_error=False)


# --8<-- [start:require_merge_token]
async def require_merge_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Let the request through only with one of MERGE_TOKENS as its bearer token: 401, or 400 if malformed."""
    merge_tokens: MergeTokens = request.app.state.merge_tokens
    refusal = merge_tokens.refusal(credentials.credentials if credentials else None)
    if refusal is not None:
        raise HTTPException(refusal.status, detail=refusal.detail, headers=refusal.headers)
    # --8<-- [end:require_merge_token]


def init_app(app: FastAPI, settings: Settings) -> None:
    """Keep the tokens where the dependency finds them; the routes that need one declare it."""
    app.state.merge_tokens = MergeTokens(settings.all_merge_tokens())
