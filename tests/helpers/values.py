"""Hypothesis strategies of the values each wire type accepts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from txarakoon.codec import (
    BOOL,
    CONSISTENCY,
    FLOAT,
    INT32,
    INT64,
    STRING,
    UINT32,
    UINT64,
    UNIT,
    Array,
    Option,
    Product,
    RequestList,
    ResponseList,
    Type,
)
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.messages import COLLAPSE_STREAM, VERSION, Int64

binary = st.binary(max_size=64)
text = st.text(max_size=16)
consistencies = st.one_of(
    st.just(Consistent),
    st.just(NoGuarantees),
    st.integers(0, 2**63 - 1).map(AtLeast),
)
finite_floats = st.floats(allow_nan=False)

#: (type, strategy of values that check() accepts unchanged)
ROUND_TRIPS: list[tuple[str, Type[Any], st.SearchStrategy[Any]]] = [
    ("uint32", UINT32, st.integers(0, 2**32 - 1)),
    ("int32", INT32, st.integers(-(2**31), 2**31 - 1)),
    ("uint64", UINT64, st.integers(0, 2**64 - 1)),
    ("int64", INT64, st.integers(-(2**63), 2**63 - 1)),
    ("bool", BOOL, st.booleans()),
    ("float", FLOAT, finite_floats),
    ("unit", UNIT, st.none()),
    ("string", STRING, binary),
    ("option<string>", Option(STRING), st.none() | binary),
    ("option<int64>", Option(INT64), st.none() | st.integers(-(2**63), 2**63 - 1)),
    ("option<option<string>>", Option(Option(STRING)), st.none() | binary),
    ("(string, string)", Product(STRING, STRING), st.tuples(binary, binary)),
    ("version", VERSION, st.tuples(*(st.integers(-(2**31), 2**31 - 1),) * 3, binary)),
    ("list<string>", ResponseList(STRING), st.lists(binary, max_size=8)),
    (
        "list<(string, string)>",
        ResponseList(Product(STRING, STRING)),
        st.lists(st.tuples(binary, binary), max_size=8),
    ),
    ("array<option<string>>", Array(Option(STRING)), st.lists(st.none() | binary, max_size=8)),
    ("request list<string>", RequestList(STRING), st.lists(binary, max_size=8)),
    ("consistency", CONSISTENCY, consistencies),
    ("collapse stream", COLLAPSE_STREAM, st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8)),
]

statistics_leaves = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**63), 2**63 - 1).map(Int64),
    finite_floats,
    binary,
)
statistics_names = st.text(max_size=8)
statistics_trees = st.recursive(
    st.dictionaries(statistics_names, statistics_leaves, max_size=4),
    lambda children: st.dictionaries(statistics_names, statistics_leaves | children, max_size=4),
    max_leaves=12,
)
