"""Parameter checks in fastest-validator's spirit for the few rule kinds a
small service needs; failures read like Moleculer's own (422, field named)."""

from __future__ import annotations

from typing import Any

from .errors import ValidationError

Rule = dict[str, Any]


def _problem(field: str, kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "field": field, "message": message}


def _check(field: str, rule: Rule, value: Any) -> tuple[Any, dict[str, Any] | None]:
    kind = rule["type"]
    if kind == "string":
        if not isinstance(value, str):
            return value, _problem(field, "string", f"The '{field}' field must be a string.")
        if len(value) < rule.get("min", 0):
            return value, _problem(field, "stringMin", f"The '{field}' field length must be at least {rule['min']} characters.")
        if "max" in rule and len(value) > rule["max"]:
            return value, _problem(field, "stringMax", f"The '{field}' field length must be at most {rule['max']} characters.")
        return value, None
    if kind == "number":
        if rule.get("convert") and isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                return value, _problem(field, "number", f"The '{field}' field must be a number.")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, _problem(field, "number", f"The '{field}' field must be a number.")
        if rule.get("integer") and int(value) != value:
            return value, _problem(field, "numberInteger", f"The '{field}' field must be an integer.")
        if "min" in rule and value < rule["min"]:
            return value, _problem(field, "numberMin", f"The '{field}' field must be greater than or equal to {rule['min']}.")
        if "max" in rule and value > rule["max"]:
            return value, _problem(field, "numberMax", f"The '{field}' field must be less than or equal to {rule['max']}.")
        return value, None
    raise ValueError(f"unsupported rule type {kind!r}")


def validate(schema: dict[str, Rule], params: Any) -> dict[str, Any]:
    """The params with defaults and conversions applied, or a ValidationError."""
    if not isinstance(params, dict):
        params = {}
    result = dict(params)
    problems = []
    for field, rule in schema.items():
        if params.get(field) is None:
            if "default" in rule:
                result[field] = rule["default"]
            elif not rule.get("optional"):
                problems.append(_problem(field, "required", f"The '{field}' field is required."))
            continue
        result[field], problem = _check(field, rule, params[field])
        if problem:
            problems.append(problem)
    if problems:
        raise ValidationError("Parameters validation error!", problems)
    return result
