"""Reading and writing instances and solutions as JSON (orjson), safely.

Files are untrusted: only JSON is parsed (no pickle, no eval), a size limit
applies, nesting depth is bounded, and every problem is reported as an
`InputError` naming the file and the JSON path.
"""

from __future__ import annotations

import hashlib
import math
import os
import reprlib
import tempfile
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from models.instance import Instance
from models.issues import InputError, InputIssue, ReferenceIssues, json_path
from models.solution import Solution

#: Default size limit of an input file; override with INFRAPLAN_MAX_INPUT_MB.
DEFAULT_MAX_INPUT_MB = 512
#: Deepest nesting accepted in an input document.
MAX_DEPTH = 64


def max_input_bytes() -> int:
    """The size limit of an input file in bytes (the default when the variable is not a
    finite, non-negative number)."""
    raw = os.environ.get("INFRAPLAN_MAX_INPUT_MB", "")
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_INPUT_MB
    except ValueError:
        megabytes = DEFAULT_MAX_INPUT_MB
    if not math.isfinite(megabytes) or megabytes < 0:
        megabytes = DEFAULT_MAX_INPUT_MB
    return int(megabytes * 1_000_000)


def read_json_file(path: str | Path) -> tuple[Any, bytes]:
    """Parse a JSON file; return the document and the raw bytes. Raises InputError."""
    source = str(path)
    limit = max_input_bytes()
    try:
        size = os.path.getsize(path)
        if size > limit:
            raise InputError(source, [_too_big(size, limit)])
        # Read at most one byte past the limit: devices, pipes and growing files have no
        # trustworthy size.
        with open(path, "rb") as stream:
            raw = stream.read(limit + 1)
    except OSError as error:
        raise InputError(source, [InputIssue("$", f"cannot read file: {error.strerror}")]) from None
    if len(raw) > limit:
        raise InputError(source, [_too_big(None, limit)])
    return parse_json_bytes(raw, source), raw


def _too_big(size: int | None, limit: int) -> InputIssue:
    over = "over" if size is None else f"{size:,} bytes, over"
    return InputIssue(
        "$",
        f"file is {over} the {limit / 1e6:g} MB limit (set INFRAPLAN_MAX_INPUT_MB to raise it)",
    )


def parse_json_bytes(raw: bytes, source: str) -> Any:
    """Parse JSON bytes, reporting syntax errors with line and column."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        message = error.msg if hasattr(error, "msg") else str(error)
        if "depth" in message or "recursion" in message:
            # orjson's own nesting limit: valid JSON, but deeper than we accept.
            message = f"nested deeper than {MAX_DEPTH} levels"
            raise InputError(
                source, [InputIssue("$", f"{message} (line {error.lineno} column {error.colno})")]
            ) from None
        raise InputError(
            source,
            [
                InputIssue(
                    "$", f"not valid JSON: {message} at line {error.lineno} column {error.colno}"
                )
            ],
        ) from None
    _check_depth(document, source)
    return document


def _check_depth(document: Any, source: str) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(source, [InputIssue("$", f"nested deeper than {MAX_DEPTH} levels")])
        if isinstance(node, dict):
            stack.extend(
                (value, depth + 1) for value in node.values() if isinstance(value, dict | list)
            )
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node if isinstance(value, dict | list))


_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field missing",
    "model_type": "expected a JSON object",
    "dict_type": "expected a JSON object",
}

#: Most issues listed for one input; a file with a million bad entries needs only the
#: first few to be fixed, and listing them all would take longer than the fix.
MAX_ISSUES = 100

# Shows the offending value without ever rendering a huge or deeply nested one in full.
_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40
_SHORT.maxlevel = 2


def validation_issues(error: ValidationError) -> list[InputIssue]:
    """Turn a pydantic ValidationError into located input issues: the first MAX_ISSUES,
    then one issue counting the rest."""
    issues: list[InputIssue] = []
    total = 0
    for detail in error.errors(include_url=False):
        context = detail.get("ctx") or {}
        inner = context.get("error")
        if isinstance(inner, ReferenceIssues):
            total += len(inner.issues)
            issues.extend(inner.issues[: max(0, MAX_ISSUES - len(issues))])
            continue
        total += 1
        if len(issues) >= MAX_ISSUES:
            continue
        parts = [p for p in detail["loc"] if isinstance(p, str | int)]
        message = _MESSAGES.get(detail["type"], detail["msg"])
        if parts and parts[-1] == "[key]":
            # pydantic locates a bad object key as (..., key, "[key]").
            parts.pop()
            message = f"invalid key: {message}"
        if detail["type"].startswith("json_"):
            # Errors of models.base.check_json_object say where inside the object.
            parts.extend(context.get("json_path", ()))
        elif detail["type"] not in ("extra_forbidden", "missing") and "input" in detail:
            shown = _SHORT.repr(detail["input"])
            if len(shown) <= 60:
                message = f"{message} (got {shown})"
        issues.append(InputIssue(json_path(*parts), message))
    if total > len(issues):
        issues.append(InputIssue("$", f"{total - len(issues)} more problems not listed"))
    return issues


def parse_instance(document: Any, source: str = "<instance>") -> Instance:
    """Validate a parsed JSON document as an Instance. Raises InputError."""
    try:
        return Instance.model_validate(document)
    except ValidationError as error:
        raise InputError(source, validation_issues(error)) from None


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance file; its sha256 is that of the file's bytes."""
    document, raw = read_json_file(path)
    instance = parse_instance(document, str(path))
    return instance.with_source_sha256(hashlib.sha256(raw).hexdigest())


def parse_solution(document: Any, source: str = "<solution>") -> Solution:
    """Validate a parsed JSON document as a Solution. Raises InputError."""
    try:
        return Solution.model_validate(document)
    except ValidationError as error:
        raise InputError(source, validation_issues(error)) from None


def load_solution(path: str | Path) -> Solution:
    """Read and validate a solution file."""
    document, _ = read_json_file(path)
    return parse_solution(document, str(path))


def dump_model(model: BaseModel, *, exclude_unset: bool = False) -> bytes:
    """A model as indented JSON bytes (ids and field order as in the model)."""
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=exclude_unset)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, fsync it, then rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            # mkstemp creates 0600; give the file the mode a plain open() would.
            os.fchmod(stream.fileno(), 0o666 & ~_umask())
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save_instance(instance: Instance, path: str | Path) -> None:
    """Write an instance file atomically (fields the instance was given, defaults omitted)."""
    write_atomic(path, dump_model(instance, exclude_unset=True))


def save_solution(solution: Solution, path: str | Path) -> None:
    """Write a solution file atomically."""
    write_atomic(path, dump_model(solution))


def instance_json_schema() -> dict[str, Any]:
    """The JSON Schema of instance files (draft 2020-12)."""
    schema = Instance.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    # v2 is a superset of v1 (SPEC §8): one schema validates both.
    schema["$id"] = "https://infraplan.dev/schema/infraplan-v2.json"
    # A scheduled instance may omit horizon_hours: its periods give it (SPEC §9).
    schema["required"] = [name for name in schema["required"] if name != "horizon_hours"]
    schema["anyOf"] = [{"required": ["horizon_hours"]}, {"required": ["periods"]}]
    return schema
