"""Checking a request against its endpoint's `Contract`: one 400 that names the field.

A compiled strict schema (fastjsonschema) accepts the common case cheaply; what it
refuses is judged again by jsonschema, which finds the best error and lets the
messages below word it as the edge's own checks do (`query.parse_int`,
`query.parse_time`, `check_callback_url`). jsonschema is imported on that first
refusal (or the first query parameter): a process that only ever accepts bodies
never loads it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import fastjsonschema

from hookline.errors import Invalid
from hookline.ingress.answers import ANSWERS
from hookline.ingress.contract import Contract
from hookline.ingress.query import parse_time
from hookline.ingress.schema_parts import ANSWER_TIME, BLANKLESS, HTTP_URL, TIME_PATTERN, Schema
from hookline.submission import type_name

if TYPE_CHECKING:
    import jsonschema

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "an array",
    "null": "null",
}


def _formats() -> jsonschema.FormatChecker:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        """Scale's `2024-01-02T03:04:05.678Z`, as answers carry it."""
        return not isinstance(value, str) or bool(ANSWER_TIME.fullmatch(value))

    return checker


_VALIDATORS: dict[int, jsonschema.protocols.Validator] = {}


def _pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: Schema
) -> Iterator[jsonschema.ValidationError]:
    """`pattern`, except for times and URLs: those patterns tell a fuzzer what to generate.
    A time is checked by reading it, as the handlers do (`_time_message` words the
    refusal); a URL is left to `check_callback_url`, whose messages say what is wrong."""
    import jsonschema

    if pattern.startswith(HTTP_URL["pattern"]):
        return
    if pattern != TIME_PATTERN:
        draft_pattern = jsonschema.Draft202012Validator.VALIDATORS["pattern"]
        yield from draft_pattern(validator, pattern, instance, schema)
        return
    if isinstance(instance, str) and _time_message("time", instance) is not None:
        yield jsonschema.ValidationError(f"{instance!r} is not a date or time")


def _time_message(name: str, value: str) -> str | None:
    """Why `value` is no time (the words of `query.parse_time`), or None if it is one."""
    try:
        parse_time(name, value)
    except Invalid as exc:
        return exc.message
    return None


def _refused_time(name: str, error: jsonschema.ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if schema.get("pattern") != TIME_PATTERN or not isinstance(error.instance, str):
        return None
    return _time_message(name, error.instance)


@functools.cache
def _lenient() -> tuple[Any, jsonschema.FormatChecker]:
    """Draft 2020-12 with `_pattern`, and the formats it checks (built on first use)."""
    import jsonschema

    extended = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    return extended, _formats()


def validator_for(schema: Schema) -> jsonschema.protocols.Validator:
    """A validator for one of the document's schemas (its `$ref`s resolve to `ANSWERS`)."""
    root = schema | {"components": {"schemas": ANSWERS}}
    cls, checker = _lenient()
    validator: jsonschema.protocols.Validator = cls(root, format_checker=checker)
    return validator


def best_error(schema: Schema, value: Any) -> Any:
    """jsonschema's best `ValidationError` for `value` under `schema` (None if it accepts it)."""
    from jsonschema.exceptions import best_match

    return best_match(_validator(schema).iter_errors(value))


_FAST: dict[int, Callable[[Any], Any] | None] = {}


_BODY_SCHEMAS = ANSWERS | {"JSONValue": {}}
"""The document's schemas as a body meets them: `read_body` has refused a NUL anywhere in
the body, keys included, so any JSON value in it is a `JSONValue` (JSON without NUL),
and checking each one again is only cost (a third of the fast check, for metadata
and params)."""


def _accepts_fast(schema: Schema, value: Any) -> bool:
    """True if a compiled, strict reading of `schema` accepts `value` (ten times cheaper).

    Strict: the patterns of times and URLs apply as written, so whatever it accepts the
    lenient validator accepts too; what it refuses is judged again by that one, which
    also words the message. Draft 7 holds every keyword the contracts use. Only for
    bodies that `read_body` read (see `_BODY_SCHEMAS`).
    """
    key = id(schema)
    if key not in _FAST:
        root = schema | {"components": {"schemas": _BODY_SCHEMAS}}
        try:
            _FAST[key] = fastjsonschema.compile(
                root, formats={"date-time": lambda v: bool(ANSWER_TIME.fullmatch(v))}
            )
        except fastjsonschema.JsonSchemaDefinitionException:  # pragma: no cover - never for ours
            _FAST[key] = None
    fast = _FAST[key]
    if fast is None:  # pragma: no cover
        return False
    try:
        fast(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _validator(schema: Schema) -> jsonschema.protocols.Validator:
    key = id(schema)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = validator_for(schema)
    return _VALIDATORS[key]


def _expected(schema: Mapping[str, Any]) -> str:
    """`schema`'s constraint in words: "an integer from 1 to 100", "a string of 1 to 200 characters"."""
    types = schema.get("type")
    if isinstance(types, list):  # an optional field: null means absent, so name the other type
        types = next((t for t in types if t != "null"), None)
    kind = _TYPE_WORDS.get(types, "a value") if isinstance(types, str) else "a value"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{kind} between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"{kind} of at least {_number(low)}"
    if high is not None:
        return f"{kind} of at most {_number(high)}"
    short, long_ = schema.get("minLength"), schema.get("maxLength")
    if short is not None and long_ is not None:
        return f"{kind} of {short} to {long_} characters"
    if long_ is not None:
        return f"{kind} of at most {long_} characters"
    if short:
        return f"a non-empty {kind.removeprefix('a ')}"
    return kind


def _number(value: float) -> str:
    """A bound as a person writes it: 2147483647, not 2.14748e+09."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _field_message(where: str, error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            # The words of the edge's own checks (query.parse_int): one message per mistake.
            return f"{where} must be between {_number(low)} and {_number(high)}"
    if error.validator == "type":
        return f"{where} must be {_expected(schema)}, got {type_name(error.instance)}"
    if error.validator == "pattern":
        if schema.get("pattern") == BLANKLESS:
            return f"{where} must not be blank"
        if "description" in schema:
            return f"{where} must be {schema['description'][0].lower()}{schema['description'][1:]}"
        return f"{where} must match {schema['pattern']}"
    if error.validator in ("minItems", "maxItems"):
        return f"{where} has the wrong number of items: {error.message}"
    if error.validator == "not":
        return f"{where} must not be null"
    return f"{where} must be {_expected(schema)}"


def check_body(contract: Contract, body: Any, *, given: bool = True) -> None:
    """Raise `Invalid` naming the first field of `body` its contract refuses.

    `given` says whether the request had a body at all (a JSON `null` is one).

    Raises:
        Invalid: the body does not match the endpoint's schema.
    """
    schema = contract.body
    if schema is None or (not given and not contract.body_required):
        return
    if body is None and schema.get("type") == "object":
        raise Invalid("The request body must be a JSON object, got null")
    if _accepts_fast(schema, body):
        return
    error = best_error(schema, body)
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        prefix = "".join(f"{part}." for part in path)
        raise Invalid(f"Missing required field {prefix + missing[0]!r}")
    if (error.validator == "anyOf" and not path) or "then" in error.schema_path:
        raise Invalid(schema.get("description", f"The request body is invalid: {error.message}"))
    if not path:
        raise Invalid(f"The request body must be {_expected(schema)}, got {type_name(body)}")
    time_refused = _refused_time(".".join(str(p) for p in path), error)
    if time_refused is not None:
        raise Invalid(time_refused)
    where = "Field " + repr(".".join(str(p) for p in path))
    if path[0] == "tags" or schema.get("type") == "array":
        where = f"Field {'tags' if schema.get('type') != 'array' else 'body'!r}"
        if error.validator in ("minLength", "maxLength"):
            raise Invalid("Tags must be 1 to 200 characters long")
        if error.validator == "type" and path[-1] != "tags":
            raise Invalid(f"{where} must be an array of strings")
    raise Invalid(_field_message(where, error))


def _coerce(schema: Schema, raw: str) -> Any:
    """A query string value as the JSON value its schema describes, or `raw` if it is not one."""
    kind = schema.get("type")
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.strip().lower(), raw)
    if kind in ("integer", "number"):
        text = raw.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        if kind == "number" and re.fullmatch(
            r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text
        ):
            return float(text)
    return raw


def check_query(contract: Contract, query: Mapping[str, Sequence[str]]) -> None:
    """Raise `Invalid` naming the first query parameter its contract refuses.

    Unknown parameters are left to the handlers (each names the ones it allows).

    Raises:
        Invalid: a value does not match its parameter's schema.
    """
    for name, values in query.items():
        param = contract.params.get(name)
        if param is None:
            continue
        if len(values) > 1 and not param.repeated:
            raise Invalid(f"Parameter {name!r} was given {len(values)} times; give it once")
        for raw in values:
            value = _coerce(param.schema, raw)
            error = best_error(param.schema, value)
            if error is not None:
                time_refused = _refused_time(name, error)
                if time_refused is not None:
                    raise Invalid(time_refused)
                if error.validator == "type":
                    raise Invalid(
                        f"Parameter {name!r} must be {_expected(param.schema)}, got {raw!r}"
                    )
                raise Invalid(_field_message(f"Parameter {name!r}", error) + f", got {raw!r}")
