from recommendations.model import BoughtTogether


def test_counts_pairs_of_products_bought_together_and_ranks_them():
    model = BoughtTogether()
    model.learn("o1", ["a", "b", "c"])
    model.learn("o2", ["a", "b"])
    assert model.for_product("a", 5) == [{"productId": "b", "score": 2}, {"productId": "c", "score": 1}]
    assert model.for_product("a", 1) == [{"productId": "b", "score": 2}]
    assert model.for_product("unknown", 5) == []


def test_a_redelivered_order_counts_once_and_repeated_lines_count_once():
    model = BoughtTogether()
    assert model.learn("o1", ["a", "b", "b"]) is True
    assert model.learn("o1", ["a", "b"]) is False
    assert model.for_product("b", 5) == [{"productId": "a", "score": 1}]
