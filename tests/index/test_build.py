"""The compiled index's closure: descendant sets built bottom-up as bitmaps (``smt.index.build``)."""

from __future__ import annotations

import random

from smt.index.build import ancestor_sets, descendant_sets


def test_descendant_sets_of_a_diamond() -> None:
    # 0 is the root; 1 and 2 are its children; 3 has both as parents; 4 is below 3
    parents = [[], [0], [0], [1, 2], [3]]
    found = [sorted(ids) if ids is not None else None for ids in descendant_sets(parents)]
    assert found == [[1, 2, 3, 4], [3, 4], [3, 4], [4], None]


def test_descendant_sets_are_the_inverse_of_the_ancestor_sets() -> None:
    rng = random.Random(20250901)
    for size in (1, 2, 50, 2_000):
        parents = [[]] + [sorted({rng.randrange(i) for _ in range(rng.randint(1, 3))}) for i in range(1, size)]
        expected: list[set[int]] = [set() for _ in parents]
        for node, ancestors in ancestor_sets(parents):
            for ancestor in ancestors:
                expected[ancestor].add(node)
        assert [set(ids or ()) for ids in descendant_sets(parents)] == expected
