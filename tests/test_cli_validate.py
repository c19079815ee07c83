"""Tests of `infraplan validate` and `infraplan schema` (solver/cli.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from solver.cli import app
from tests.conftest import (
    EXAMPLE_PATH,
    EXAMPLE_V2_PATH,
    REPO_ROOT,
    rich_instance_dict,
    tiny_instance_dict,
)

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    """Invoke the CLI in-process; return (exit code, stdout, stderr)."""
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, document: Any) -> Path:
    """Write a document as JSON and return the path."""
    path.write_bytes(orjson.dumps(document))
    return path


def test_good_file_prints_ok_and_exits_zero() -> None:
    """A valid file gives one `ok` line with its size, and exit 0."""
    code, stdout, stderr = run("validate", EXAMPLE_PATH)
    assert code == 0
    assert stdout.splitlines() == [
        f"{EXAMPLE_PATH}: ok (1 sites, 1 regions, 1 training, 1 inference)"
    ]
    assert stderr == ""


def test_several_good_files(tmp_path: Path) -> None:
    """One line per file, in the order given, all ok: exit 0."""
    tiny = write(tmp_path / "tiny.json", tiny_instance_dict())
    rich = write(tmp_path / "rich.json", rich_instance_dict())
    code, stdout, _ = run("validate", tiny, rich)
    assert code == 0
    assert stdout.splitlines() == [
        f"{tiny}: ok (2 sites, 1 regions, 1 training, 1 inference)",
        f"{rich}: ok (3 sites, 2 regions, 1 training, 1 inference)",
    ]


def test_bad_file_lists_every_error_with_its_path(tmp_path: Path) -> None:
    """Each problem of an invalid file is its own line naming file and JSON path: exit 1."""
    document = tiny_instance_dict()
    document["sites"][0]["inventory"][0]["accelerator"] = "h1OO"
    document["links"][0]["latency_ms"] = 0
    document["horizon"] = 3
    bad = write(tmp_path / "bad.json", document)
    code, stdout, _ = run("validate", bad)
    assert code == 1
    assert sorted(stdout.splitlines()) == sorted(
        [
            f"{bad}: links[0].latency_ms: Input should be greater than 0 (got 0)",
            f"{bad}: horizon: unknown field",
        ]
    )
    document["links"][0]["latency_ms"] = 4
    del document["horizon"]
    write(bad, document)
    code, stdout, _ = run("validate", bad)
    assert code == 1
    assert stdout.splitlines() == [
        f"{bad}: sites[0].inventory[0].accelerator: unknown accelerator 'h1OO'"
    ]


def test_mixed_files_exit_one_and_report_each(tmp_path: Path) -> None:
    """Good and bad files together: every file reported, exit 1 if any is invalid."""
    good = write(tmp_path / "good.json", tiny_instance_dict())
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"{")
    missing = tmp_path / "missing.json"
    code, stdout, _ = run("validate", good, broken, missing, good)
    assert code == 1
    lines = stdout.splitlines()
    assert len(lines) == 4
    assert lines[0] == lines[3] == f"{good}: ok (2 sites, 1 regions, 1 training, 1 inference)"
    assert lines[1].startswith(f"{broken}: $: not valid JSON: ")
    assert lines[2] == f"{missing}: $: cannot read file: No such file or directory"


def nasty_files(tmp_path: Path) -> list[Path]:
    """Files an attacker or a broken tool might hand over."""
    cases: dict[str, bytes] = {
        "empty.json": b"",
        "garbage.json": bytes(range(256)),
        "list.json": b"[1, 2, 3]",
        "number.json": b"42",
        "nan.json": b'{"schema": NaN}',
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "deep_meta.json": orjson.dumps(tiny_instance_dict())[:-1]
        + b',"meta":'
        + b'{"x":' * 100
        + b"1"
        + b"}" * 100
        + b"}",
        "wrong_types.json": orjson.dumps({**tiny_instance_dict(), "sites": {"a": [[[]]]}}),
        "huge_ints.json": orjson.dumps(tiny_instance_dict()).replace(
            b'"count":8', b'"count":123456789012345678901234567890'
        ),
        "odd_keys.json": orjson.dumps(
            {**tiny_instance_dict(), "\u202e\x1b[2J": 1, "inference": [{"": None}]}
        ),
    }
    paths = []
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        paths.append(path)
    (tmp_path / "a_directory").mkdir()
    return [*paths, tmp_path / "a_directory", tmp_path / "absent.json"]


def test_nasty_files_never_produce_a_traceback(tmp_path: Path) -> None:
    """Every hostile file is one or more clean error lines, exit 1, no traceback or escape."""
    files = nasty_files(tmp_path)
    code, stdout, stderr = run("validate", *files)
    assert code == 1
    assert "Traceback" not in stdout + stderr
    assert "\x1b" not in stdout
    assert "\u202e" not in stdout
    reported = {line.split(": ", 1)[0] for line in stdout.splitlines()}
    assert reported == {str(f) for f in files}


def test_file_over_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """INFRAPLAN_MAX_INPUT_MB applies to validate, with a clear message."""
    monkeypatch.setenv("INFRAPLAN_MAX_INPUT_MB", "0.0005")
    code, stdout, _ = run("validate", EXAMPLE_PATH)
    assert code == 1
    assert stdout.startswith(f"{EXAMPLE_PATH}: $: file is ")
    assert "over the 0.0005 MB limit (set INFRAPLAN_MAX_INPUT_MB to raise it)" in stdout


def test_no_files_is_a_usage_error() -> None:
    """validate without arguments exits 2."""
    code, _, _ = run("validate")
    assert code == 2


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed `infraplan` script in a real process: output lines and exit code."""
    script = Path(sys.executable).parent / "infraplan"
    if not script.exists():
        pytest.skip("console script not installed")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"[")
    finished = subprocess.run(
        [script, "validate", EXAMPLE_PATH, bad],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        cwd=REPO_ROOT,
    )
    assert finished.returncode == 1
    assert finished.stderr == ""
    ok_line, error_line = finished.stdout.splitlines()
    assert ok_line == f"{EXAMPLE_PATH}: ok (1 sites, 1 regions, 1 training, 1 inference)"
    assert error_line.startswith(f"{bad}: $: not valid JSON: ")


# -- schema -----------------------------------------------------------------------------------

ANNOTATIONS = {"title", "description", "default", "$schema", "$id", "$defs"}


def schema_errors(
    value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    """Check `value` against the JSON Schema keywords the exported schema uses.

    A small subset of draft 2020-12 (jsonschema is not a dependency); an unknown keyword is
    an error, so the subset cannot silently pass something it does not understand.
    """
    unknown = set(schema) - ANNOTATIONS - set(CHECKS)
    if unknown:
        return [f"{at}: unsupported keywords {sorted(unknown)}"]
    errors: list[str] = []
    for keyword, argument in schema.items():
        if keyword in CHECKS:
            errors += CHECKS[keyword](value, argument, schema, root, at)
    return errors


def _type_ok(value: Any, name: str) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "number": number,
        "integer": number and float(value).is_integer(),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[name]


def _properties(value: Any, props: dict[str, Any], schema: Any, root: Any, at: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [
        e
        for k, v in value.items()
        if k in props
        for e in schema_errors(v, props[k], root, f"{at}.{k}")
    ]


def _additional(value: Any, extra: Any, schema: Any, root: Any, at: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    others = {k: v for k, v in value.items() if k not in schema.get("properties", {})}
    if extra is False:
        return [f"{at}.{k}: not allowed" for k in others]
    if extra is True:
        return []
    return [e for k, v in others.items() for e in schema_errors(v, extra, root, f"{at}.{k}")]


def _ref(value: Any, ref: str, schema: Any, root: Any, at: str) -> list[str]:
    prefix = "#/$defs/"
    assert ref.startswith(prefix), ref
    return schema_errors(value, root["$defs"][ref[len(prefix) :]], root, at)


CHECKS: dict[str, Any] = {
    "type": lambda v, t, s, r, at: [] if _type_ok(v, t) else [f"{at}: not {t}"],
    "enum": lambda v, e, s, r, at: [] if v in e else [f"{at}: not in {e}"],
    "const": lambda v, c, s, r, at: [] if v == c else [f"{at}: not {c!r}"],
    "$ref": _ref,
    "anyOf": lambda v, options, s, r, at: (
        [] if any(not schema_errors(v, o, r, at) for o in options) else [f"{at}: matches no option"]
    ),
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda v, names, s, r, at: [
        f"{at}.{n}: required" for n in names if isinstance(v, dict) and n not in v
    ],
    "items": lambda v, item, s, r, at: (
        [e for i, x in enumerate(v) for e in schema_errors(x, item, r, f"{at}[{i}]")]
        if isinstance(v, list)
        else []
    ),
    "propertyNames": lambda v, names, s, r, at: (
        [e for k in v for e in schema_errors(k, names, r, f"{at}[{k!r}]")]
        if isinstance(v, dict)
        else []
    ),
    "minItems": lambda v, n, s, r, at: (
        [f"{at}: too few"] if isinstance(v, list) and len(v) < n else []
    ),
    "minProperties": lambda v, n, s, r, at: (
        [f"{at}: too few"] if isinstance(v, dict) and len(v) < n else []
    ),
    "minLength": lambda v, n, s, r, at: (
        [f"{at}: too short"] if isinstance(v, str) and len(v) < n else []
    ),
    "maxLength": lambda v, n, s, r, at: (
        [f"{at}: too long"] if isinstance(v, str) and len(v) > n else []
    ),
    "minimum": lambda v, n, s, r, at: (
        [f"{at}: below {n}"] if _type_ok(v, "number") and v < n else []
    ),
    "maximum": lambda v, n, s, r, at: (
        [f"{at}: above {n}"] if _type_ok(v, "number") and v > n else []
    ),
    "exclusiveMinimum": lambda v, n, s, r, at: (
        [f"{at}: not above {n}"] if _type_ok(v, "number") and v <= n else []
    ),
}


def exported_schema(tmp_path: Path) -> dict[str, Any]:
    """The schema as written by `infraplan schema -o FILE`."""
    target = tmp_path / "schema.json"
    code, stdout, _ = run("schema", "-o", target)
    assert (code, stdout) == (0, "")
    document: dict[str, Any] = orjson.loads(target.read_bytes())
    return document


def test_schema_to_stdout_equals_schema_to_file(tmp_path: Path) -> None:
    """`schema` prints the same JSON it writes with -o."""
    code, stdout, _ = run("schema")
    assert code == 0
    assert orjson.loads(stdout) == exported_schema(tmp_path)


def test_schema_to_a_directory_is_a_clean_error(tmp_path: Path) -> None:
    """regression (schema -o DIR raised IsADirectoryError): one error line, exit 1."""
    code, stdout, stderr = run("schema", "-o", tmp_path)
    assert code == 1
    assert stdout == ""
    assert stderr == f"error: {tmp_path}: cannot write: Is a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == []


def test_schema_structure(tmp_path: Path) -> None:
    """The schema is draft 2020-12, closed, and names the SPEC's required fields."""
    schema = exported_schema(tmp_path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"schema", "name", "accelerators", "sites"}
    assert schema["anyOf"] == [{"required": ["horizon_hours"]}, {"required": ["periods"]}]
    assert schema["properties"]["schema"]["enum"] == ["infraplan/v1", "infraplan/v2"]
    site = schema["$defs"]["Site"]
    assert set(site["required"]) == {"id", "grid_kw", "pue", "energy_price_per_kwh"}
    assert site["properties"]["pue"]["minimum"] == 1
    assert site["additionalProperties"] is False


@pytest.mark.parametrize("document", [rich_instance_dict(), tiny_instance_dict()])
def test_schema_accepts_valid_instances(tmp_path: Path, document: dict[str, Any]) -> None:
    """The example, the tiny and the rich instance all satisfy the exported schema."""
    schema = exported_schema(tmp_path)
    assert schema_errors(orjson.loads(EXAMPLE_PATH.read_bytes()), schema, schema) == []
    assert schema_errors(orjson.loads(EXAMPLE_V2_PATH.read_bytes()), schema, schema) == []
    assert schema_errors(document, schema, schema) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d.update(horizon_hours="3"), "$.horizon_hours: not number"),
        (lambda d: d.update(horizon_hours=0), "$.horizon_hours: not above 0"),
        (lambda d: d["sites"][0].update(grdi_kw=1), "$.sites[0].grdi_kw: not allowed"),
        (lambda d: d["sites"][0].pop("pue"), "$.sites[0].pue: required"),
        (lambda d: d["sites"][0].update(pue=0.5), "$.sites[0].pue: below 1"),
        (lambda d: d["accelerators"][0].update(cooling="oil"), "$.accelerators[0].cooling: not in"),
        (lambda d: d["inference"][0].update(demand_rps={}), "$.inference[0].demand_rps: too few"),
        (lambda d: d["regions"][0].update(id=""), "$.regions[0].id: too short"),
        (lambda d: d.update(schema="v2"), "$.schema: not in ['infraplan/v1', 'infraplan/v2']"),
        (lambda d: d.pop("horizon_hours"), "$: matches no option"),
    ],
)
def test_schema_rejects_broken_instances(tmp_path: Path, change: Any, error: str) -> None:
    """Field-level mistakes the models reject are caught by the schema too."""
    schema = exported_schema(tmp_path)
    document = tiny_instance_dict()
    change(document)
    found = schema_errors(document, schema, schema)
    assert any(e.startswith(error) for e in found), found


def test_a_scheduled_file_names_its_periods() -> None:
    """A scheduled (v2) file's ok-line ends with its number of periods; static files'
    lines are as in v1."""
    code, stdout, _ = run("validate", EXAMPLE_V2_PATH)
    assert code == 0
    assert stdout.splitlines() == [
        f"{EXAMPLE_V2_PATH}: ok (1 sites, 1 regions, 2 training, 1 inference, 2 periods)"
    ]
