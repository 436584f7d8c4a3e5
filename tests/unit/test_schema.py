"""The TOML data checker (musltool/schema.py): each rule, and the one-line error it makes."""

from __future__ import annotations

import dataclasses

import pytest

from musltool.errors import UsageError
from musltool.schema import Key, Table, problems, require

ITEM = Table({"name": Key(str, required=True)})
SCHEMA = Table(
    {
        "name": Key(str, required=True),
        "jobs": Key(int),
        "strict": Key(bool),
        "flags": Key(list, items=str),
        "parts": Key(list, items=ITEM),
        "versions": Key(dict, values=ITEM),
        "port": Key(int, check=lambda v: None if 0 < v < 65536 else f"{v} is no port"),
    }
)


def test_good_data_has_no_problems():
    data = {"name": "x", "jobs": 2, "strict": True, "flags": ["-O2"], "parts": [{"name": "a"}],
            "versions": {"1.0": {"name": "b"}}, "port": 80}  # fmt: skip
    assert problems(data, SCHEMA) == []


def test_true_is_not_an_integer_but_is_true_or_false():
    assert problems({"name": "x", "jobs": True}, SCHEMA) == [
        "jobs: must be an integer, not bool True"
    ]
    assert problems({"name": "x", "strict": 1}, SCHEMA) == [
        "strict: must be true or false, not int 1"
    ]


@pytest.mark.parametrize(("data", "where", "problem"), [
    ([1], "", "top level: must be a table"),
    ("x", "versions.1", "versions.1: must be a table"),
])  # fmt: skip
def test_what_is_not_a_table_is_said_where(data, where, problem):
    assert problems(data, SCHEMA, where) == [problem]


def test_missing_and_unknown_keys_name_what_is_known():
    assert problems({"nme": "x"}, SCHEMA) == [
        "name: missing (required)",
        "nme: unknown key (known: name, jobs, strict, flags, parts, versions, port)",
    ]
    assert problems({"a": 1}, Table()) == ["a: unknown key (known: none)"]
    assert problems({"a": 1}, Table(open=True)) == []


def test_list_items_and_table_values_are_checked_with_their_paths():
    data = {
        "name": "x",
        "flags": ["-O2", 3],
        "parts": [{"name": "a"}, {}],
        "versions": {"1.0": {"name": 1}},
    }
    assert problems(data, SCHEMA) == [
        "flags[1]: must be text, not 3",
        "parts[1].name: missing (required)",
        "versions.1.0.name: must be text, not int 1",
    ]


def test_a_list_key_without_item_type_takes_any_items_and_a_table_key_any_values():
    loose = Table({"any": Key(list), "map": Key(dict)})
    assert problems({"any": [1, "a"], "map": {"k": 1}}, loose) == []


def test_the_check_runs_only_on_a_value_of_the_right_type():
    assert problems({"name": "x", "port": 0}, SCHEMA) == ["port: 0 is no port"]
    assert problems({"name": "x", "port": "80"}, SCHEMA) == [
        "port: must be an integer, not str '80'"
    ]


@pytest.mark.parametrize(("data", "message"), [
    ({}, "f.toml: name: missing (required)"),
    ({"jobs": "2"}, "f.toml: name: missing (required) (and 1 more problem)"),
    ({"jobs": "2", "x": 1}, "f.toml: name: missing (required) (and 2 more problems)"),
])  # fmt: skip
def test_require_raises_the_first_problem_and_counts_the_rest(data, message):
    with pytest.raises(UsageError) as raised:
        require(data, SCHEMA, "f.toml")
    assert str(raised.value) == message
    require({"name": "x"}, SCHEMA, "f.toml")


def test_schemas_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCHEMA.open = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCHEMA.keys["name"].required = False  # type: ignore[misc]
