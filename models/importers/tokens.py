"""Whitespace-separated number files read as located tokens.

The benchmark files are streams of numbers whose line layout differs between
copies, so they are read token by token; every token keeps its line and column
so that a problem is reported where it is.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.base import MAX_COUNT, MAX_QUANTITY
from models.io import max_input_bytes
from models.issues import InputError, InputIssue

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Token:
    """One whitespace-separated word of a file, with its 1-based line and column."""

    text: str
    line: int
    column: int
    #: Whether the token is the first on its line (layout cue for format recognition).
    starts_line: bool


def position(token: Token) -> str:
    """Where a token is, as the location part of an input issue."""
    return f"line {token.line} column {token.column}"


def tokenize(text: str) -> list[Token]:
    """Split text into located tokens (any run of whitespace separates; CRLF is fine)."""
    tokens: list[Token] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        column = 0
        first = True
        for word in line.split():
            column = line.index(word, column)
            tokens.append(Token(word, line_number, column + 1, first))
            column += len(word)
            first = False
    return tokens


def read_text(path: Path) -> tuple[str, bytes]:
    """Read a benchmark file as ASCII text; return the text and the raw bytes."""
    source = str(path)
    try:
        size = os.path.getsize(path)
        limit = max_input_bytes()
        if size > limit:
            raise InputError(
                source,
                [
                    InputIssue(
                        "$", f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit"
                    )
                ],
            )
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(source, [InputIssue("$", f"cannot read file: {error.strerror}")]) from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as error:
        raise InputError(
            source, [InputIssue("$", f"not a plain-text number file (byte {error.start})")]
        ) from None
    if "\x00" in text:
        raise InputError(source, [InputIssue("$", "not a plain-text number file (NUL byte)")])
    return text, raw


class TokenReader:
    """Reads numbers one token at a time; every problem is an InputError naming the place."""

    def __init__(self, tokens: list[Token], source: str) -> None:
        self.tokens = tokens
        self.source = source
        self.index = 0

    @property
    def remaining(self) -> int:
        """How many tokens are left."""
        return len(self.tokens) - self.index

    def fail(self, token: Token | None, message: str) -> InputError:
        """An error at a token (or at the end of the file when `token` is None)."""
        where = "end of file" if token is None else position(token)
        return InputError(self.source, [InputIssue(where, message)])

    def peek(self) -> Token | None:
        """The next token without consuming it."""
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, what: str) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail(None, f"file ends where {what} was expected")
        self.index += 1
        return token

    def number(self, what: str, *, whole: bool = False) -> float:
        """A finite number ≥ 0; with `whole`, it must be written as an integer."""
        token = self._take(what)
        kind = "an integer" if whole else "a number"
        try:
            value = float(int(token.text)) if whole else float(token.text)
        except ValueError:
            raise self.fail(token, f"expected {kind} for {what}, got {token.text!r}") from None
        if not math.isfinite(value):
            raise self.fail(token, f"{what} is not finite ({token.text})")
        if value < 0:
            raise self.fail(token, f"{what} is negative ({token.text}); the SPEC needs it ≥ 0")
        if value > MAX_QUANTITY:
            raise self.fail(token, f"{what} is too large ({token.text})")
        return value

    def count(self, what: str, *, minimum: int = 0, decimal_ok: bool = False, why: str = "") -> int:
        """A whole number ≥ `minimum`; with `decimal_ok`, integral decimals like `146.0` count.

        `why` is added to the message when the number is below `minimum`."""
        token = self.peek()
        value = self.number(what, whole=not decimal_ok)
        if not value.is_integer():
            raise self.fail(token, f"{what} must be a whole number, got {token and token.text}")
        if value > MAX_COUNT:
            raise self.fail(token, f"{what} is too large ({token and token.text} > {MAX_COUNT})")
        whole = int(value)
        if whole < minimum:
            reason = f" ({why})" if why else ""
            raise self.fail(token, f"{what} must be at least {minimum}, got {whole}{reason}")
        return whole

    def expect_end(self, what: str) -> None:
        """Fail unless every token has been read."""
        token = self.peek()
        if token is not None:
            raise self.fail(
                token, f"{self.remaining} unexpected token(s) after {what}, starting {token.text!r}"
            )


class OptionNeeded(InputError):
    """A file that can be read only with an option it was not given (or with one it forbids):
    the command line's usage error (exit 2) rather than a bad file."""
