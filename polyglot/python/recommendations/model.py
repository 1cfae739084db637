"""'Bought together' counts, learned from confirmed orders."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import permutations


class BoughtTogether:
    def __init__(self) -> None:
        self._pairs: dict[str, Counter[str]] = defaultdict(Counter)
        self._seen: set[str] = set()

    def learn(self, order_id: str, product_ids: list[str]) -> bool:
        """Counts each pair of distinct products in one order; an order counts once."""
        if order_id in self._seen:
            return False
        self._seen.add(order_id)
        for a, b in permutations(set(product_ids), 2):
            self._pairs[a][b] += 1
        return True

    def for_product(self, product_id: str, limit: int) -> list[dict[str, object]]:
        ranked = sorted(self._pairs.get(product_id, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"productId": other, "score": count} for other, count in ranked[:limit]]

    @property
    def orders(self) -> int:
        return len(self._seen)
