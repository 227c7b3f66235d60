"""Task params validation against built-in and configured schemas."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from hookline.errors import Invalid
from hookline.schemas import BUILTIN_SCHEMAS, ParamValidator

IMAGE = "https://example.com/image.png"

# One valid params object per built-in type, written from Scale's v1 reference.
VALID: dict[str, dict[str, Any]] = {
    "categorization": {"attachment": IMAGE, "categories": ["cat", "dog"]},
    "comparison": {"attachments": [IMAGE, IMAGE]},
    "transcription": {"attachment": IMAGE, "fields": {"title": "Title"}},
    "imageannotation": {
        "attachment": IMAGE,
        "geometries": {"box": {"objects_to_annotate": ["car"]}},
    },
    "annotation": {"attachment": IMAGE, "objects_to_annotate": ["car"]},
    "polygonannotation": {"attachment": IMAGE, "objects_to_annotate": ["lake"]},
    "lineannotation": {"attachment": IMAGE, "objects_to_annotate": ["lane"]},
    "pointannotation": {"attachment": IMAGE, "objects_to_annotate": ["eye"]},
    "cuboidannotation": {"attachment": IMAGE, "objects_to_annotate": ["truck"]},
    "segmentannotation": {"attachment": IMAGE, "labels": ["road", "sky"]},
    "documenttranscription": {"attachment": IMAGE, "features": [{"type": "block"}]},
    "documentmodel": {"attachment": IMAGE},
    "datacollection": {"attachment": IMAGE, "fields": [{"field_id": "price"}]},
    "namedentityrecognition": {"text": "Ada Lovelace", "labels": [{"name": "PER"}]},
    "textcollection": {"attachments": [IMAGE], "fields": [{"field_id": "summary"}]},
    "videoannotation": {"geometries": {"box": {}}},
    "videoplaybackannotation": {"attachments": [IMAGE], "geometries": {"box": {}}},
    "lidarannotation": {"attachments": [IMAGE], "labels": ["car"]},
}

# Each built-in type and the fields it cannot do without.
REQUIRED: list[tuple[str, str]] = [
    ("categorization", "attachment"),
    ("categorization", "categories"),
    ("comparison", "attachments"),
    ("transcription", "attachment"),
    ("transcription", "fields"),
    ("imageannotation", "attachment"),
    ("imageannotation", "geometries"),
    ("annotation", "objects_to_annotate"),
    ("polygonannotation", "objects_to_annotate"),
    ("lineannotation", "objects_to_annotate"),
    ("pointannotation", "objects_to_annotate"),
    ("cuboidannotation", "objects_to_annotate"),
    ("segmentannotation", "labels"),
    ("documenttranscription", "features"),
    ("documentmodel", "attachment"),
    ("datacollection", "fields"),
    ("namedentityrecognition", "text"),
    ("namedentityrecognition", "labels"),
    ("textcollection", "attachments"),
    ("textcollection", "fields"),
    ("videoannotation", "geometries"),
    ("videoplaybackannotation", "attachments"),
    ("videoplaybackannotation", "geometries"),
    ("lidarannotation", "attachments"),
    ("lidarannotation", "labels"),
]


@pytest.fixture(scope="module")
def validator() -> ParamValidator:
    return ParamValidator()


def test_tables_cover_every_builtin_type() -> None:
    """The test tables name exactly the built-in types."""
    assert set(VALID) == set(BUILTIN_SCHEMAS)
    assert {task_type for task_type, _ in REQUIRED} == set(BUILTIN_SCHEMAS)


@pytest.mark.parametrize(
    "task_type", [pytest.param(task_type, id=task_type) for task_type in VALID]
)
def test_valid_params_pass(validator: ParamValidator, task_type: str) -> None:
    """Params with every required field in the right shape pass."""
    validator.validate(task_type, VALID[task_type])


@pytest.mark.parametrize(
    ("task_type", "field"),
    [pytest.param(task_type, field, id=f"{task_type}-{field}") for task_type, field in REQUIRED],
)
def test_missing_required_field_is_invalid_naming_it(
    validator: ParamValidator, task_type: str, field: str
) -> None:
    """Leaving out a required field raises Invalid naming the field and the type."""
    params = {k: v for k, v in VALID[task_type].items() if k != field}

    with pytest.raises(Invalid) as caught:
        validator.validate(task_type, params)

    assert caught.value.message == f"Missing required field {field!r} for {task_type} tasks"


@pytest.mark.parametrize(
    ("task_type", "params", "field"),
    [
        pytest.param(
            "categorization",
            {"attachment": IMAGE, "categories": "cat"},
            "categories",
            id="categories-string",
        ),
        pytest.param(
            "categorization",
            {"attachment": IMAGE, "categories": []},
            "categories",
            id="categories-empty",
        ),
        pytest.param(
            "categorization",
            {"attachment": IMAGE, "categories": ["cat", 2]},
            "categories.1",
            id="category-number",
        ),
        pytest.param(
            "categorization",
            {"attachment": "", "categories": ["cat"]},
            "attachment",
            id="attachment-empty",
        ),
        pytest.param(
            "imageannotation",
            {"attachment": IMAGE, "geometries": {}},
            "geometries",
            id="geometries-empty",
        ),
        pytest.param(
            "namedentityrecognition",
            {"text": "Ada", "labels": ["PER"]},
            "labels.0",
            id="ner-labels-strings",
        ),
        pytest.param(
            "transcription",
            {"attachment": IMAGE, "fields": "title"},
            "fields",
            id="fields-string",
        ),
    ],
)
def test_wrong_shape_is_invalid_naming_the_field(
    validator: ParamValidator, task_type: str, params: dict[str, Any], field: str
) -> None:
    """A field of the wrong shape raises Invalid naming that field."""
    with pytest.raises(Invalid, match=re.escape(f"Invalid field {field!r} for {task_type} tasks")):
        validator.validate(task_type, params)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="empty"),
        pytest.param({"anything": [1, {"goes": None}]}, id="arbitrary"),
    ],
)
def test_unknown_types_accept_any_params(validator: ParamValidator, params: dict[str, Any]) -> None:
    """A type with no schema accepts any params."""
    validator.validate("mycustomtype", params)


CUSTOM_SCHEMA = {
    "type": "object",
    "required": ["question"],
    "properties": {"question": {"type": "string"}, "choices": {"type": "array"}},
}


def test_configured_custom_schema_accepts_matching_params() -> None:
    """Params that satisfy a configured custom schema pass."""
    validator = ParamValidator({"survey": CUSTOM_SCHEMA})

    validator.validate("survey", {"question": "Why?", "choices": ["a"]})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({}, "Missing required field 'question' for survey tasks", id="missing"),
        pytest.param({"question": 5}, "Invalid field 'question' for survey tasks", id="wrong-type"),
        pytest.param(
            {"question": "Why?", "choices": "a"},
            "Invalid field 'choices' for survey tasks",
            id="wrong-type-optional",
        ),
    ],
)
def test_configured_custom_schema_is_enforced(params: dict[str, Any], message: str) -> None:
    """A configured custom schema rejects params that break it, naming the field."""
    validator = ParamValidator({"survey": CUSTOM_SCHEMA})

    with pytest.raises(Invalid, match=re.escape(message)):
        validator.validate("survey", params)


def test_custom_schemas_do_not_affect_builtin_types() -> None:
    """Configuring a custom type keeps the built-in schemas in force."""
    validator = ParamValidator({"survey": CUSTOM_SCHEMA})

    with pytest.raises(Invalid, match="'categories'"):
        validator.validate("categorization", {"attachment": IMAGE})


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param({"type": "notatype"}, id="unknown-type"),
        pytest.param({"required": "question"}, id="required-not-array"),
        pytest.param({"properties": {"a": 5}}, id="property-not-schema"),
    ],
)
def test_invalid_json_schema_raises_naming_the_setting(schema: dict[str, Any]) -> None:
    """A configured schema that is not valid JSON Schema is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape("setting types.survey.params_schema")):
        ParamValidator({"survey": schema})


def test_nested_missing_field_is_named_with_its_path() -> None:
    """A missing nested required field is named with the path to it."""
    validator = ParamValidator(
        {
            "survey": {
                "type": "object",
                "properties": {"options": {"type": "object", "required": ["text"]}},
            }
        }
    )

    with pytest.raises(Invalid) as caught:
        validator.validate("survey", {"options": {}})

    assert "options" in caught.value.message


@pytest.mark.parametrize("task_type", sorted(BUILTIN_SCHEMAS))
def test_builtin_schemas_are_valid_json_schemas(task_type: str) -> None:
    """Built-in validators are built on a type's first task, not checked at start-up."""
    schema = BUILTIN_SCHEMAS[task_type]
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_a_process_whose_tasks_have_no_schema_never_imports_jsonschema() -> None:
    """jsonschema is loaded on first need: accepting bodies and schemaless params needs none."""
    code = (
        "import sys\n"
        "from hookline.ingress import create_app\n"
        "from hookline.ingress.validation import check_body\n"
        "from hookline.ingress.contract import contract_for\n"
        "from hookline.schemas import ParamValidator\n"
        "ParamValidator().validate('echo', {'x': 1})\n"
        "check_body(contract_for('POST', '/v1/task/{key}'), {'instruction': 'x'}, given=True)\n"
        "assert 'jsonschema' not in sys.modules, sorted(sys.modules)\n"
        "ParamValidator().validate('categorization', {'attachment': 'a', 'categories': ['x']})\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
