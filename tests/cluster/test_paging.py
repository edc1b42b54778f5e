"""Paging helpers over the cluster client and the in-memory cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from txarakoon.client import Async, ClientMixin
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.messages import Message
from txarakoon.paging import (
    iter_prefix,
    iter_range,
    iter_range_entries,
    iter_rev_range_entries,
    prefix_end,
)

from ..helpers.inmemory import memory_client, memory_cluster, run_until

T = TypeVar("T")


class Recording(ClientMixin[Async]):
    """Passes calls on to ``client``, remembering each message."""

    def __init__(self, client: ClientMixin[Async]) -> None:
        self.client = client
        self.messages: list[Message[Any]] = []

    def _process(self, message: Message[T]) -> Deferred[T]:
        self.messages.append(message)
        result: Deferred[T] = self.client._process(message)
        return result


async def _drain(iterator: AsyncIterator[T]) -> list[T]:
    return [item async for item in iterator]


class PagingTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = memory_cluster(3, lag=0)
        self.keys = [b"k%05d" % i for i in range(2500)]
        self.cluster.seed({key: b"v" + key for key in self.keys})
        self.client = Recording(memory_client(self.cluster, read_node="n2"))

    def collect(self, iterator: AsyncIterator[T]) -> list[T]:
        done = Deferred.fromCoroutine(_drain(iterator))
        run_until(self.cluster, done)
        return self.successResultOf(done)

    def pages(self) -> list[tuple[Any, ...]]:
        """The arguments of every request sent."""
        return [message.arguments for message in self.client.messages]


class RangeTests(PagingTestCase):
    def test_2500_keys_come_in_order_in_three_pages_of_1000(self) -> None:
        keys = self.collect(iter_range(self.client, None, True, None, True, page_size=1000))
        self.assertEqual(keys, self.keys)
        self.assertEqual([args[-1] for args in self.pages()], [1000, 1000, 1000])
        self.assertEqual(len(self.pages()), 3)

    def test_each_page_starts_after_the_last_key_of_the_previous_one(self) -> None:
        self.collect(iter_range(self.client, None, True, None, True, page_size=1000))
        starts = [(args[1], args[2]) for args in self.pages()]
        self.assertEqual(starts, [(None, True), (b"k00999", False), (b"k01999", False)])

    def test_an_exact_multiple_of_the_page_size_ends_with_an_empty_page(self) -> None:
        keys = self.collect(iter_range(self.client, None, True, b"k02000", False, page_size=500))
        self.assertEqual(keys, self.keys[:2000])
        self.assertEqual(len(self.pages()), 5)

    def test_an_inclusive_begin_includes_the_begin_key(self) -> None:
        keys = self.collect(iter_range(self.client, b"k00100", True, None, True, page_size=7))
        self.assertEqual(keys, self.keys[100:])

    def test_an_exclusive_begin_excludes_the_begin_key(self) -> None:
        keys = self.collect(iter_range(self.client, b"k00100", False, None, True, page_size=7))
        self.assertEqual(keys, self.keys[101:])

    def test_the_end_bound_is_respected_across_pages(self) -> None:
        inclusive = self.collect(
            iter_range(self.client, b"k00010", True, b"k02010", True, page_size=1000)
        )
        exclusive = self.collect(
            iter_range(self.client, b"k00010", True, b"k02010", False, page_size=1000)
        )
        self.assertEqual(inclusive, self.keys[10:2011])
        self.assertEqual(exclusive, self.keys[10:2010])
        for args in self.pages():
            self.assertEqual(args[3], b"k02010")

    def test_range_entries_pairs_keys_with_their_values(self) -> None:
        entries = self.collect(
            iter_range_entries(self.client, b"k01000", False, b"k02200", True, page_size=1000)
        )
        self.assertEqual(entries, [(key, b"v" + key) for key in self.keys[1001:2201]])
        self.assertEqual(len(self.pages()), 2)

    def test_str_bounds_are_encoded(self) -> None:
        keys = self.collect(iter_range(self.client, "k00005", True, "k00008", False, page_size=2))
        self.assertEqual(keys, [b"k00005", b"k00006", b"k00007"])


class ReverseTests(PagingTestCase):
    def test_rev_range_entries_pages_downwards(self) -> None:
        entries = self.collect(
            iter_rev_range_entries(self.client, None, True, None, True, page_size=1000)
        )
        self.assertEqual([key for key, _ in entries], self.keys[::-1])
        starts = [(args[1], args[2]) for args in self.pages()]
        self.assertEqual(starts, [(None, True), (b"k01500", False), (b"k00500", False)])

    def test_rev_range_entries_respects_both_bounds(self) -> None:
        entries = self.collect(
            iter_rev_range_entries(self.client, b"k02000", False, b"k00100", True, page_size=300)
        )
        self.assertEqual([key for key, _ in entries], self.keys[100:2000][::-1])
        self.assertEqual(entries[0], (b"k01999", b"vk01999"))


class PrefixTests(PagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.cluster.seed(
            {
                b"a\xfe\xff": b"1",
                b"a\xff": b"2",
                b"a\xff\x00": b"3",
                b"a\xff\xff": b"4",
                b"a\xff\xff\x01": b"5",
                b"b": b"6",
                b"\xff\xfe": b"7",
                b"\xff\xff": b"8",
                b"\xff\xff\x00": b"9",
            }
        )

    def test_prefix_iteration_pages_through_every_key_with_the_prefix(self) -> None:
        keys = self.collect(iter_prefix(self.client, b"k0", page_size=1000))
        self.assertEqual(keys, self.keys)
        self.assertEqual(len(self.pages()), 3)

    def test_a_prefix_ending_in_0xff_stops_before_the_next_prefix(self) -> None:
        keys = self.collect(iter_prefix(self.client, b"a\xff", page_size=2))
        self.assertEqual(keys, [b"a\xff", b"a\xff\x00", b"a\xff\xff", b"a\xff\xff\x01"])

    def test_a_prefix_of_only_0xff_runs_to_the_last_key(self) -> None:
        keys = self.collect(iter_prefix(self.client, b"\xff\xff", page_size=1))
        self.assertEqual(keys, [b"\xff\xff", b"\xff\xff\x00"])

    def test_the_empty_prefix_is_every_key(self) -> None:
        keys = self.collect(iter_prefix(self.client, b"", page_size=1000))
        self.assertEqual(len(keys), 2500 + 9)
        self.assertEqual(keys, sorted(keys))

    def test_prefix_end_is_the_first_key_after_the_prefix(self) -> None:
        self.assertEqual(prefix_end(b"abc"), b"abd")
        self.assertEqual(prefix_end(b"a\xff"), b"b")
        self.assertEqual(prefix_end(b"a\xfe\xff\xff"), b"a\xff")
        self.assertIsNone(prefix_end(b"\xff\xff"))
        self.assertIsNone(prefix_end(b""))


class ConsistencyTests(PagingTestCase):
    def test_the_consistency_goes_with_every_page(self) -> None:
        keys = self.collect(
            iter_range(self.client, None, True, None, True, 1000, consistency=NoGuarantees)
        )
        self.assertEqual(len(keys), 2500)
        self.assertEqual([args[0] for args in self.pages()], [NoGuarantees] * 3)
        gets = self.cluster["n2"].statistics()["range_info"]["n"]
        self.assertEqual(gets, 3)  # dirty: every page was read on the read node

    def test_allow_dirty_goes_with_every_page(self) -> None:
        self.collect(iter_prefix(self.client, b"k", 1000, True))
        self.assertEqual([args[0] for args in self.pages()], [NoGuarantees] * 3)

    def test_at_least_goes_with_every_page(self) -> None:
        entries = self.collect(
            iter_rev_range_entries(
                self.client, None, True, None, True, 1000, consistency=AtLeast(1)
            )
        )
        self.assertEqual(len(entries), 2500)
        self.assertEqual([args[0] for args in self.pages()], [AtLeast(1)] * 3)

    def test_the_default_is_consistent_on_the_master(self) -> None:
        self.collect(iter_range_entries(self.client, None, True, None, True))
        self.assertEqual([args[0] for args in self.pages()], [Consistent] * 3)
        self.assertEqual(self.cluster["n0"].statistics()["range_entries_info"]["n"], 3)


class ArgumentTests(PagingTestCase):
    def test_page_size_must_be_a_positive_int32(self) -> None:
        for bad in (0, -1, 2**31):
            with self.assertRaises(ValueError):
                iter_range(self.client, None, True, None, True, page_size=bad)
        for wrong in (True, 1.5, "10"):
            with self.assertRaises(TypeError):
                iter_prefix(self.client, b"k", page_size=wrong)  # type: ignore[arg-type]
        self.assertEqual(self.client.messages, [])

    def test_allow_dirty_and_consistency_together_are_refused_at_once(self) -> None:
        with self.assertRaises(TypeError):
            iter_rev_range_entries(
                self.client, None, True, None, True, 10, True, consistency=NoGuarantees
            )

    def test_a_bad_key_is_refused_at_once(self) -> None:
        with self.assertRaises(TypeError):
            iter_range_entries(self.client, 5, True, None, True)  # type: ignore[arg-type]
