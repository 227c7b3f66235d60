"""Param schemas for task types: Scale's built-in types and configured custom ones.

Required fields follow Scale's v1 API reference (docs.scale.com/reference):
each type that works on one attachment needs `attachment`; the rest is the
type's own (`categories`, `geometries`, `objects_to_annotate`, `fields`, ...).
Types with no schema accept any params.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookline.errors import Invalid

if TYPE_CHECKING:
    import jsonschema

_STRING = {"type": "string", "minLength": 1}
_ATTACHMENTS = {"type": "array", "items": {"type": ["string", "object"]}, "minItems": 1}
_OBJECT_LIST = {"type": "array", "items": {"type": "object"}, "minItems": 1}
_GEOMETRIES = {"type": "object", "minProperties": 1}
_OBJECTS_TO_ANNOTATE = {"type": "array", "items": {"type": ["string", "object"]}, "minItems": 1}
_CATEGORIES = {"type": "array", "items": {"type": ["string", "object"]}, "minItems": 1}
_FIELDS = {"type": ["object", "array"], "minProperties": 1, "minItems": 1}


def _schema(**required: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": dict(required)}


BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "categorization": _schema(attachment=_STRING, categories=_CATEGORIES),
    "comparison": _schema(attachments=_ATTACHMENTS),
    "transcription": _schema(attachment=_STRING, fields=_FIELDS),
    "imageannotation": _schema(attachment=_STRING, geometries=_GEOMETRIES),
    "annotation": _schema(attachment=_STRING, objects_to_annotate=_OBJECTS_TO_ANNOTATE),
    "polygonannotation": _schema(attachment=_STRING, objects_to_annotate=_OBJECTS_TO_ANNOTATE),
    "lineannotation": _schema(attachment=_STRING, objects_to_annotate=_OBJECTS_TO_ANNOTATE),
    "pointannotation": _schema(attachment=_STRING, objects_to_annotate=_OBJECTS_TO_ANNOTATE),
    "cuboidannotation": _schema(attachment=_STRING, objects_to_annotate=_OBJECTS_TO_ANNOTATE),
    "segmentannotation": _schema(attachment=_STRING, labels=_CATEGORIES),
    "documenttranscription": _schema(attachment=_STRING, features=_OBJECT_LIST),
    "documentmodel": _schema(attachment=_STRING),
    "datacollection": _schema(attachment=_STRING, fields=_FIELDS),
    "namedentityrecognition": _schema(text=_STRING, labels=_OBJECT_LIST),
    "textcollection": _schema(attachments=_ATTACHMENTS, fields=_OBJECT_LIST),
    "videoannotation": _schema(geometries=_GEOMETRIES),
    "videoplaybackannotation": _schema(attachments=_ATTACHMENTS, geometries=_GEOMETRIES),
    "lidarannotation": _schema(attachments=_ATTACHMENTS, labels=_CATEGORIES),
}
"""Scale's common task types and the params each one requires."""


class ParamValidator:
    """Checks a task's params against its type's schema.

    Configured schemas are checked at start-up; each type's validator is built when a
    task of that type first comes (jsonschema is imported then: a process whose tasks
    have no schema never loads it)."""

    def __init__(self, custom: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        custom_schemas = {k: dict(v) for k, v in (custom or {}).items()}
        self._schemas = {**BUILTIN_SCHEMAS, **custom_schemas}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        for task_type, schema in custom_schemas.items():
            self._validators[task_type] = _validator(task_type, schema)

    def validate(self, task_type: str, params: Mapping[str, Any]) -> None:
        """Raise `Invalid` naming the first offending field; types with no schema pass.

        Raises:
            Invalid: a required field is missing or has the wrong shape.
        """
        validator = self._validators.get(task_type)
        if validator is None:
            schema = self._schemas.get(task_type)
            if schema is None:
                return
            validator = self._validators[task_type] = _validator(task_type, schema)
        from jsonschema.exceptions import best_match

        error = best_match(validator.iter_errors(params))
        if error is None:
            return
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [name for name in error.validator_value if name not in error.instance]
            prefix = "".join(f"{part}." for part in error.absolute_path)
            raise Invalid(f"Missing required field {prefix + missing[0]!r} for {task_type} tasks")
        where = ".".join(str(part) for part in error.absolute_path) or "params"
        raise Invalid(f"Invalid field {where!r} for {task_type} tasks: {error.message}")


def _validator(task_type: str, schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for `schema`, checked first.

    Raises:
        ValueError: `schema` is no valid JSON Schema (the message names the setting).
    """
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        raise ValueError(
            f"setting types.{task_type}.params_schema is not a valid JSON Schema: {exc.message}"
        ) from exc
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator
