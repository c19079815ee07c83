"""Tests of models/io.py: round trips, atomic writes and untrusted input files."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from models import InputError, load_instance, parse_instance, save_instance
from models.io import MAX_DEPTH, MAX_ISSUES, max_input_bytes, parse_json_bytes, read_json_file
from tests.conftest import rich_instance_dict, tiny_instance_dict

if TYPE_CHECKING:
    from pathlib import Path


def write_json(path: Path, document: Any) -> Path:
    """Write a document as JSON and return the path."""
    path.write_bytes(orjson.dumps(document))
    return path


def load_error(path: Path) -> InputError:
    """The InputError that loading `path` raises."""
    with pytest.raises(InputError) as caught:
        load_instance(path)
    return caught.value


def nested(depth: int) -> bytes:
    """A JSON object nested `depth` levels deep: {"x": {"x": ... 1}}."""
    return b'{"x":' * depth + b"1" + b"}" * depth


# -- round trips ---------------------------------------------------------------------------


def test_example_round_trips(example_path: Path, tmp_path: Path) -> None:
    """load -> save -> load of the shipped example gives an equal instance."""
    original = load_instance(example_path)
    save_instance(original, tmp_path / "copy.json")
    assert load_instance(tmp_path / "copy.json") == original


def test_rich_instance_round_trips(tmp_path: Path) -> None:
    """An instance using every optional field survives load -> save -> load unchanged."""
    source = write_json(tmp_path / "rich.json", rich_instance_dict())
    original = load_instance(source)
    save_instance(original, tmp_path / "copy.json")
    again = load_instance(tmp_path / "copy.json")
    assert again == original
    assert again.meta == rich_instance_dict()["meta"]
    assert again.transit[0].meta == {"asn": 1}
    assert again.training[0].dataset is not None
    assert again.training[0].dataset.read_gbps == 10
    assert again.sites[1].cooling_kw == {"air": 1000}
    assert again.inference[0].resilience == "n+1"


def test_save_writes_what_was_given(tmp_path: Path) -> None:
    """The saved document equals the input document: given fields only, defaults left out."""
    save_instance(parse_instance(rich_instance_dict()), tmp_path / "rich.json")
    assert orjson.loads((tmp_path / "rich.json").read_bytes()) == rich_instance_dict()
    save_instance(parse_instance(tiny_instance_dict()), tmp_path / "tiny.json")
    saved = orjson.loads((tmp_path / "tiny.json").read_bytes())
    assert saved == tiny_instance_dict()
    assert "carbon_g_per_kwh" not in saved["sites"][0]


def test_instances_differing_in_one_field_are_not_equal() -> None:
    """Equality looks at every field, down to nested ones."""
    changed = rich_instance_dict()
    changed["sites"][2]["inventory"][0]["count"] = 65
    assert parse_instance(changed) != parse_instance(rich_instance_dict())
    changed = rich_instance_dict()
    changed["meta"]["owner"] = "someone else"
    assert parse_instance(changed) != parse_instance(rich_instance_dict())


def test_sha256_is_that_of_the_file_bytes(example_path: Path, tmp_path: Path) -> None:
    """A loaded instance is identified by its file bytes; equality ignores where it came from."""
    loaded = load_instance(example_path)
    assert loaded.sha256 == hashlib.sha256(example_path.read_bytes()).hexdigest()
    save_instance(loaded, tmp_path / "copy.json")
    reloaded = load_instance(tmp_path / "copy.json")
    assert reloaded.sha256 == hashlib.sha256((tmp_path / "copy.json").read_bytes()).hexdigest()
    assert reloaded.sha256 != loaded.sha256
    assert reloaded == loaded


def test_sha256_of_a_built_instance_is_of_its_canonical_json() -> None:
    """An instance not read from a file is identified by its canonical (sorted-key) JSON."""
    built = parse_instance(rich_instance_dict())
    expected = hashlib.sha256(built.canonical_json()).hexdigest()
    assert built.sha256 == expected
    reordered = dict(reversed(list(rich_instance_dict().items())))
    assert parse_instance(reordered).sha256 == expected


# -- atomic writes -------------------------------------------------------------------------


def test_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    """After a save the directory holds the target file and nothing else."""
    save_instance(parse_instance(tiny_instance_dict()), tmp_path / "out.json")
    save_instance(parse_instance(tiny_instance_dict()), tmp_path / "out.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_save_creates_missing_directories(tmp_path: Path) -> None:
    """Saving into a directory that does not exist yet creates it."""
    target = tmp_path / "a" / "b" / "out.json"
    save_instance(parse_instance(tiny_instance_dict()), target)
    assert load_instance(target) == parse_instance(tiny_instance_dict())


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_save_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    """An exception while writing leaves the old file intact and no temporary file behind."""
    target = tmp_path / "out.json"
    target.write_bytes(b"old contents")

    def broken_fsync(fd: int) -> None:
        raise failure

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(type(failure)):
        save_instance(parse_instance(rich_instance_dict()), target)
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


# -- untrusted files -----------------------------------------------------------------------


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    """A syntax error names the file, line and column."""
    path = tmp_path / "bad.json"
    path.write_bytes(b'{\n  "schema": "infraplan/v1",\n  "name": ,\n}')
    error = load_error(path)
    assert str(error) == (
        f"{path}: $: not valid JSON: unexpected character, expected a JSON value "
        "at line 3 column 11"
    )


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_json_numbers_are_rejected(tmp_path: Path, literal: bytes) -> None:
    """NaN and infinite literals are not JSON and never reach the models."""
    raw = orjson.dumps(tiny_instance_dict()).replace(
        b'"horizon_hours":100', b'"horizon_hours":' + literal
    )
    path = tmp_path / "nan.json"
    path.write_bytes(raw)
    error = load_error(path)
    assert len(error.issues) == 1
    assert error.issues[0].message.startswith("not valid JSON: ")


def test_file_over_the_size_limit(example_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over INFRAPLAN_MAX_INPUT_MB is refused with its size and the limit."""
    monkeypatch.setenv("INFRAPLAN_MAX_INPUT_MB", "0.001")
    size = example_path.stat().st_size
    assert str(load_error(example_path)) == (
        f"{example_path}: $: file is {size:,} bytes, over the 0.001 MB limit "
        "(set INFRAPLAN_MAX_INPUT_MB to raise it)"
    )
    monkeypatch.setenv("INFRAPLAN_MAX_INPUT_MB", "1")
    assert load_instance(example_path).name == "example"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_is_cut_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """regression (read_json_file read devices whole): /dev/zero reports a size of 0."""
    monkeypatch.setenv("INFRAPLAN_MAX_INPUT_MB", "0.01")
    with pytest.raises(InputError) as caught:
        read_json_file("/dev/zero")
    assert caught.value.issues[0].message == (
        "file is over the 0.01 MB limit (set INFRAPLAN_MAX_INPUT_MB to raise it)"
    )


@pytest.mark.parametrize("setting", ["", "lots", "nan", "inf", "-3"])
def test_unusable_size_setting_falls_back_to_default(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """regression (int(nan) raised): a non-numeric, non-finite or negative limit means 512 MB."""
    monkeypatch.setenv("INFRAPLAN_MAX_INPUT_MB", setting)
    assert max_input_bytes() == 512_000_000


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deeply_nested_meta_is_rejected(tmp_path: Path, depth: int) -> None:
    """Nesting beyond the limit is an input error, never a RecursionError."""
    raw = orjson.dumps(tiny_instance_dict())[:-1] + b',"meta":' + nested(depth) + b"}"
    path = tmp_path / "deep.json"
    path.write_bytes(raw)
    error = load_error(path)
    assert len(error.issues) == 1
    assert error.issues[0].path == "$"
    assert error.issues[0].message.startswith(f"nested deeper than {MAX_DEPTH} levels")


def test_deeply_nested_python_meta_is_rejected() -> None:
    """regression (deep meta broke sha256 and save): built objects obey the meta depth limit."""
    meta: Any = 1
    for _ in range(10_000):
        meta = {"x": meta}
    document = tiny_instance_dict()
    document["meta"] = meta
    with pytest.raises(InputError) as caught:
        parse_instance(document)
    assert caught.value.issues[0].path == "meta" + ".x" * 32
    assert caught.value.issues[0].message == "nested deeper than 32 levels"


def test_meta_nested_within_the_limit_round_trips(tmp_path: Path) -> None:
    """A meta object 32 levels deep (inside a site) is accepted, saved and loaded again."""
    meta: Any = [1]
    for _ in range(31):
        meta = {"x": meta}
    document = tiny_instance_dict()
    document["sites"][0]["meta"] = meta
    save_instance(parse_instance(document), tmp_path / "deep.json")
    assert load_instance(tmp_path / "deep.json").sites[0].meta == meta


@pytest.mark.parametrize(
    ("meta", "path", "message"),
    [
        ({"a": [1, float("nan")]}, "meta.a[1]", "numbers must be finite, not nan"),
        ({"a": float("inf")}, "meta.a", "numbers must be finite, not inf"),
        ({"a": {"b": {1, 2}}}, "meta.a.b", "only JSON values are allowed, not a set"),
        ({"a": {3: "x"}}, "meta.a", "object keys must be strings, not 3"),
        ({"a": 2**64}, "meta.a", "integers must fit in 64 bits"),
    ],
)
def test_meta_built_in_python_must_be_json(meta: dict[str, Any], path: str, message: str) -> None:
    """regression (NaN/sets in meta were accepted and lost on save): meta holds JSON only."""
    document = tiny_instance_dict()
    document["meta"] = meta
    with pytest.raises(InputError) as caught:
        parse_instance(document)
    assert [(i.path, i.message) for i in caught.value.issues] == [(path, message)]


def test_huge_valid_array_loads(tmp_path: Path) -> None:
    """A 200,000-element array in meta is read and kept."""
    document = tiny_instance_dict()
    document["meta"] = {"samples": list(range(200_000))}
    loaded = load_instance(write_json(tmp_path / "big.json", document))
    assert loaded.meta is not None
    assert len(loaded.meta["samples"]) == 200_000


def test_huge_invalid_array_lists_the_first_issues_only(tmp_path: Path) -> None:
    """regression (a million bad entries took a minute): issues stop at MAX_ISSUES plus a count."""
    document = tiny_instance_dict()
    document["regions"] = [1] * 200_000
    error = load_error(write_json(tmp_path / "bad.json", document))
    assert len(error.issues) == MAX_ISSUES + 1
    assert str(error.issues[0]) == "regions[0]: expected a JSON object (got 1)"
    assert str(error.issues[-1]) == f"$: {200_000 - MAX_ISSUES} more problems not listed"


def test_many_reference_issues_are_capped_too() -> None:
    """Cross-reference issues share the MAX_ISSUES cap."""
    document = tiny_instance_dict()
    document["links"] = [{"a": f"n{k}", "b": "east", "latency_ms": 1} for k in range(500)]
    with pytest.raises(InputError) as caught:
        parse_instance(document)
    issues = caught.value.issues
    assert len(issues) == MAX_ISSUES + 1
    assert str(issues[0]) == "links[0].a: unknown node 'n0'"
    assert str(issues[-1]) == f"$: {500 - MAX_ISSUES} more problems not listed"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(b"[1, 2]", "[1, 2]"), (b"3", "3"), (b'"text"', "'text'"), (b"null", "None")],
)
def test_top_level_must_be_an_object(tmp_path: Path, raw: bytes, shown: str) -> None:
    """A JSON list, number, string or null at the top level is one clean error."""
    path = tmp_path / "top.json"
    path.write_bytes(raw)
    assert load_error(path).lines() == [f"{path}: $: expected a JSON object (got {shown})"]


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is an InputError naming it."""
    path = tmp_path / "absent.json"
    assert str(load_error(path)) == f"{path}: $: cannot read file: No such file or directory"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    """A directory is an InputError naming it."""
    assert str(load_error(tmp_path)) == f"{tmp_path}: $: cannot read file: Is a directory"


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"{", b'{"a": 1,}'])
def test_broken_bytes_are_input_errors(raw: bytes) -> None:
    """Empty, non-UTF-8 and truncated documents are reported as invalid JSON."""
    with pytest.raises(InputError) as caught:
        parse_json_bytes(raw, "mem")
    assert caught.value.issues[0].message.startswith("not valid JSON: ")
    assert str(caught.value).startswith("mem: $: not valid JSON: ")
