"""Canned responses for tasks created with a test key."""

from __future__ import annotations

from typing import Any

import pytest

from hookline.handlers.samples import SAMPLES, sample_response
from hookline.schemas import BUILTIN_SCHEMAS

IMAGE = "https://example.com/image.png"


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        pytest.param(["cat", "dog"], "cat", id="strings"),
        pytest.param([{"label": "bird"}, {"label": "fish"}], "bird", id="label-objects"),
        pytest.param([{"name": "horse"}], "horse", id="name-objects"),
        pytest.param([{"choice": "cow"}], "cow", id="choice-objects"),
    ],
)
def test_categorization_picks_a_given_category(categories: list[Any], expected: str) -> None:
    """The sample category is one of the task's categories."""
    response = sample_response("categorization", {"attachment": IMAGE, "categories": categories})

    assert response == {"category": expected}


def test_categorization_without_categories_still_answers() -> None:
    """Missing categories give a placeholder rather than an error."""
    assert sample_response("categorization", {})["category"] == "label"


@pytest.mark.parametrize(
    ("geometries", "kind", "label"),
    [
        pytest.param({"box": {"objects_to_annotate": ["car", "person"]}}, "box", "car", id="box"),
        pytest.param(
            {"polygon": {"objects_to_annotate": [{"name": "lake"}]}},
            "polygon",
            "lake",
            id="polygon-object",
        ),
        pytest.param({}, "box", "label", id="no-geometries"),
    ],
)
def test_imageannotation_labels_come_from_objects_to_annotate(
    geometries: dict[str, Any], kind: str, label: str
) -> None:
    """Image annotations use the first geometry and a label from its objects_to_annotate."""
    response = sample_response("imageannotation", {"attachment": IMAGE, "geometries": geometries})

    assert response["global_attributes"] == {}
    [annotation] = response["annotations"]
    assert annotation["label"] == label
    assert annotation["type"] == kind
    assert {"left", "top", "width", "height"} <= set(annotation)


def test_namedentityrecognition_token_uses_one_of_the_labels() -> None:
    """The sample token's label is one of the task's labels and lies within the text."""
    params = {"text": "Ada Lovelace wrote", "labels": [{"name": "PER"}, {"name": "ORG"}]}

    [token] = sample_response("namedentityrecognition", params)["tokens"]

    assert token["label"] in {"PER", "ORG"}
    assert 0 <= token["start"] < token["end"] <= len(params["text"])


def test_namedentityrecognition_short_text_keeps_token_inside() -> None:
    """A text shorter than the sample token is not overrun."""
    [token] = sample_response("namedentityrecognition", {"text": "Al", "labels": ["PER"]})["tokens"]

    assert token == {"start": 0, "end": 2, "label": "PER"}


@pytest.mark.parametrize(
    "task_type",
    [pytest.param(t, id=t) for t in ("textcollection", "datacollection", "transcription")],
)
def test_field_types_key_fields_by_field_id(task_type: str) -> None:
    """Field-collecting types answer one sample value per field, keyed by field_id."""
    params = {
        "attachments": [IMAGE],
        "fields": [{"field_id": "summary", "type": "text"}, {"field_id": "rating"}],
    }

    assert sample_response(task_type, params) == {
        "fields": {"summary": "sample", "rating": "sample"}
    }


def test_fields_without_field_id_are_numbered() -> None:
    """Fields without a field_id get a positional name; string fields use the string."""
    params = {"fields": [{"type": "text"}, "notes"]}

    assert sample_response("textcollection", params) == {
        "fields": {"field_0": "sample", "notes": "sample"}
    }


def test_transcription_fields_as_object_use_its_keys() -> None:
    """Fields given as an object are keyed by the object's keys."""
    params = {"attachment": IMAGE, "fields": {"title": "Title", "total": "Total"}}

    assert sample_response("transcription", params) == {
        "fields": {"title": "sample", "total": "sample"}
    }


@pytest.mark.parametrize(
    ("task_type", "params", "label"),
    [
        pytest.param("annotation", {"objects_to_annotate": ["car"]}, "car", id="annotation"),
        pytest.param("polygonannotation", {"objects_to_annotate": ["lake"]}, "lake", id="polygon"),
        pytest.param("lineannotation", {"objects_to_annotate": ["lane"]}, "lane", id="line"),
        pytest.param("pointannotation", {"objects_to_annotate": ["eye"]}, "eye", id="point"),
        pytest.param("cuboidannotation", {"objects_to_annotate": ["truck"]}, "truck", id="cuboid"),
    ],
)
def test_annotation_types_label_from_objects_to_annotate(
    task_type: str, params: dict[str, Any], label: str
) -> None:
    """Each annotation type's sample annotation carries a label from objects_to_annotate."""
    [annotation] = sample_response(task_type, params)["annotations"]

    assert annotation["label"] == label


def test_segmentannotation_maps_a_given_label() -> None:
    """The segmentation sample's label mapping uses one of the task's labels."""
    response = sample_response("segmentannotation", {"labels": ["road", "sky"]})

    assert set(response["labelMapping"]) == {"road"}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"question": "Why?", "choices": [1, 2]}, id="custom-params"),
        pytest.param({}, id="empty"),
    ],
)
def test_unknown_types_echo_their_params(params: dict[str, Any]) -> None:
    """A type without a sample answers with its params echoed back."""
    response = sample_response("mycustomtype", params)

    assert response == {"sample": True, "echo": params}
    assert response["echo"] is not params


def test_samples_only_cover_known_types() -> None:
    """Every type with a canned sample is one of Scale's built-in types."""
    assert set(SAMPLES) <= set(BUILTIN_SCHEMAS)
