"""Warnings as the command line shows them: one line, no Python source line."""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO


def one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """`warnings.showwarning` for users: `infraplan: warning: <message>` as one line on
    `file` (stderr by default), without Python's file, line number and source line; used
    by the command line and by its worker processes."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    with contextlib.suppress(OSError):  # as warnings.showwarning: a closed stream is no error
        (file or sys.stderr).write(f"infraplan: warning: {text}\n")
