import pytest

from moleculer_node.errors import ValidationError
from moleculer_node.validation import validate

SCHEMA = {"productId": {"type": "string", "min": 1, "max": 5}, "limit": {"type": "number", "integer": True, "min": 1, "max": 20, "convert": True, "default": 5}}


def test_applies_defaults_and_converts_query_strings():
    assert validate(SCHEMA, {"productId": "p1"}) == {"productId": "p1", "limit": 5}
    assert validate(SCHEMA, {"productId": "p1", "limit": "7"})["limit"] == 7


@pytest.mark.parametrize(
    ("params", "field", "kind"),
    [({}, "productId", "required"), ({"productId": 3}, "productId", "string"), ({"productId": "toolong"}, "productId", "stringMax"),
     ({"productId": "p", "limit": 0}, "limit", "numberMin"), ({"productId": "p", "limit": "x"}, "limit", "number"), ({"productId": "p", "limit": 1.5}, "limit", "numberInteger")],
)
def test_rejects_bad_params_naming_the_field_like_moleculer(params, field, kind):
    with pytest.raises(ValidationError) as caught:
        validate(SCHEMA, params)
    assert caught.value.code == 422
    assert caught.value.type == "VALIDATION_ERROR"
    assert [(p["field"], p["type"]) for p in caught.value.data] == [(field, kind)]
