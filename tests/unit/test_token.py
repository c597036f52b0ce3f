"""launcher/token.py: the checkout's merge token, made once and read by every caller."""

from __future__ import annotations

import re
from pathlib import Path

from launcher.token import ensure_token


def test_a_made_token_is_hex_and_the_next_caller_reads_it(tmp_path: Path) -> None:
    path = tmp_path / ".merge-token"
    token, made = ensure_token(path)
    # hex never begins with "-": make demo passes the token to pytest, which would read "-abc..." as an option
    assert made
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert ensure_token(path) == (token, False)
    assert path.stat().st_mode & 0o777 == 0o600
