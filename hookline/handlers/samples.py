"""Sample responses for tasks created with a `test_` key.

Scale's test environment completes such tasks at once with a canned response
that has the shape of a real one; clients are written against those shapes.
Pure: the response is derived from the task's params only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Params = Mapping[str, Any]


def _label(item: Any) -> str:
    """A category, label or object name given as a string or as `{"label"|"name": ...}`."""
    if isinstance(item, Mapping):
        for key in ("label", "name", "value", "choice"):
            if isinstance(item.get(key), str):
                return str(item[key])
        return "label"
    return str(item)


def _first(params: Params, key: str, default: str = "label") -> str:
    items = params.get(key)
    if isinstance(items, list) and items:
        return _label(items[0])
    if isinstance(items, Mapping) and items:
        return str(next(iter(items)))
    return default


def _box(label: str) -> dict[str, Any]:
    return {"label": label, "left": 10, "top": 10, "width": 100, "height": 80, "type": "box"}


def _categorization(params: Params) -> dict[str, Any]:
    return {"category": _first(params, "categories")}


def _imageannotation(params: Params) -> dict[str, Any]:
    geometries = params.get("geometries")
    kind = next(iter(geometries), "box") if isinstance(geometries, Mapping) else "box"
    spec = geometries.get(kind, {}) if isinstance(geometries, Mapping) else {}
    label = _first(spec, "objects_to_annotate") if isinstance(spec, Mapping) else "label"
    annotation = _box(label) | {"type": kind}
    return {"annotations": [annotation], "global_attributes": {}}


def _boxes(params: Params) -> dict[str, Any]:
    return {"annotations": [_box(_first(params, "objects_to_annotate"))]}


def _polygons(params: Params) -> dict[str, Any]:
    label = _first(params, "objects_to_annotate")
    vertices = [{"x": 10, "y": 10}, {"x": 110, "y": 10}, {"x": 60, "y": 90}]
    return {"annotations": [{"label": label, "vertices": vertices}]}


def _lines(params: Params) -> dict[str, Any]:
    label = _first(params, "objects_to_annotate")
    return {"annotations": [{"label": label, "vertices": [{"x": 0, "y": 0}, {"x": 50, "y": 50}]}]}


def _points(params: Params) -> dict[str, Any]:
    return {"annotations": [{"label": _first(params, "objects_to_annotate"), "x": 10, "y": 10}]}


def _fields(params: Params) -> dict[str, Any]:
    fields = params.get("fields")
    if isinstance(fields, Mapping):
        names = [str(name) for name in fields]
    elif isinstance(fields, list):
        names = [
            str(f.get("field_id", f"field_{i}")) if isinstance(f, Mapping) else str(f)
            for i, f in enumerate(fields)
        ]
    else:
        names = []
    return {"fields": dict.fromkeys(names, "sample")}


def _ner(params: Params) -> dict[str, Any]:
    text = params.get("text")
    end = min(len(text), 5) if isinstance(text, str) else 0
    return {"tokens": [{"start": 0, "end": end, "label": _first(params, "labels")}]}


def _segments(params: Params) -> dict[str, Any]:
    return {"labelMapping": {_first(params, "labels"): {"index": 1}}, "instances": []}


def _documenttranscription(params: Params) -> dict[str, Any]:
    return {"annotations": [], "global_fields": {}, "features": params.get("features", [])}


def _comparison(params: Params) -> dict[str, Any]:
    return {"fields": {}, "choice": _first(params, "choices", default="")}


SAMPLES: dict[str, Callable[[Params], dict[str, Any]]] = {
    "categorization": _categorization,
    "comparison": _comparison,
    "transcription": _fields,
    "datacollection": _fields,
    "textcollection": _fields,
    "imageannotation": _imageannotation,
    "annotation": _boxes,
    "cuboidannotation": _boxes,
    "polygonannotation": _polygons,
    "lineannotation": _lines,
    "pointannotation": _points,
    "segmentannotation": _segments,
    "namedentityrecognition": _ner,
    "documenttranscription": _documenttranscription,
}


def sample_response(task_type: str, params: Params) -> dict[str, Any]:
    """The response a test-environment task completes with; custom types echo their params."""
    make = SAMPLES.get(task_type)
    if make is None:
        return {"sample": True, "echo": dict(params)}
    return make(params)
