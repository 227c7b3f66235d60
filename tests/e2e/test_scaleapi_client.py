"""The official `scaleapi` client, unchanged, against a real `hookline serve`."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import scaleapi
from scaleapi.batches import BatchStatus
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInvalidRequest,
    ScaleResourceNotFound,
    ScaleUnauthorized,
)
from scaleapi.tasks import TaskReviewStatus, TaskStatus, TaskType

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def client(server: Server, key: str) -> scaleapi.ScaleClient:
    return scaleapi.ScaleClient(key, api_instance_url=server.api_url)


def categorization(**overrides: object) -> dict[str, object]:
    return {
        "instruction": "Is this a cat?",
        "attachment": "https://example.com/cat.png",
        "categories": ["cat", "not cat"],
        "callback_url": "https://example.com/callback",
    } | overrides


def test_first_start_prints_keys_once(serve: Server) -> None:
    """The first start prints a live and a test key; the keys authenticate."""
    assert serve.live_key.startswith("live_")
    assert serve.test_key.startswith("test_")
    assert client(serve, serve.live_key).list_teammates()


def test_task_calls(serve: Server) -> None:
    """Create, read, dedup, tags, metadata, unique_id and cancel through the client."""
    scale = client(serve, serve.live_key)
    task = scale.create_task(TaskType.Categorization, **categorization(unique_id="e2e-1"))
    assert task.status == "pending"
    assert task.params == {
        "attachment": "https://example.com/cat.png",
        "categories": ["cat", "not cat"],
    }
    assert task.metadata == {}
    assert "tags" not in task.as_dict()

    with pytest.raises(ScaleDuplicateResource, match=rf"\({task.id}\)"):
        scale.create_task(TaskType.Categorization, **categorization(unique_id="e2e-1"))
    with pytest.raises(ScaleInvalidRequest, match="categories"):
        scale.create_task(TaskType.Categorization, attachment="https://example.com/a.png")
    with pytest.raises(ScaleResourceNotFound):
        scale.get_task("0" * 24)

    assert scale.get_task(task.id).id == task.id
    assert scale.set_task_tags(task.id, ["a", "b"]).tags == ["a", "b"]
    assert scale.add_task_tags(task.id, ["b", "c"]).tags == ["a", "b", "c"]
    assert scale.delete_task_tags(task.id, ["a", "zz"]).tags == ["b", "c"]
    assert scale.set_task_metadata(task.id, {"k": [1, 2]}).metadata == {"k": [1, 2]}

    assert "unique_id" not in scale.clear_task_unique_id(task.id).as_dict()
    assert scale.update_task_unique_id(task.id, "e2e-2").unique_id == "e2e-2"
    other = scale.create_task(TaskType.Categorization, **categorization(unique_id="e2e-3"))
    with pytest.raises(ScaleDuplicateResource):
        scale.update_task_unique_id(other.id, "e2e-2")

    assert scale.cancel_task(task.id).status == "canceled"
    with pytest.raises(ScaleInvalidRequest, match="only pending"):
        scale.cancel_task(task.id)
    assert "unique_id" not in scale.cancel_task(other.id, clear_unique_id=True).as_dict()
    reused = scale.create_task(TaskType.Categorization, **categorization(unique_id="e2e-3"))
    assert reused.id != other.id


def test_listing_calls(serve: Server) -> None:
    """tasks(), get_tasks() and get_tasks_count() agree with what was created."""
    scale = client(serve, serve.live_key)
    scale.create_project("listing", TaskType.Categorization, params={"categories": ["x", "y"]})
    created = [
        scale.create_task(
            TaskType.Categorization,
            project="listing",
            attachment=f"https://example.com/{i}.png",
            tags=["even" if i % 2 == 0 else "odd"],
            unique_id=f"list-{i}",
        )
        for i in range(7)
    ]
    every = list(scale.get_tasks(project_name="listing", limit=3))
    assert [t.id for t in every] == [t.id for t in reversed(created)]
    assert scale.get_tasks_count(project_name="listing") == 7
    assert scale.get_tasks_count(project_name="listing", tags=["even"]) == 4
    assert scale.get_tasks_count(project_name="listing", unique_id=["list-1", "list-2"]) == 2
    assert scale.get_tasks_count(project_name="listing", status=TaskStatus.Completed) == 0
    page = scale.tasks(project="listing", limit=2, start_time="2000-01-01")
    assert (page.total, len(page.docs), page.has_more) == (7, 2, True)
    unknown = httpx.get(f"{serve.api_url}/tasks?bogus=1", auth=(serve.live_key, ""))
    assert unknown.status_code == 400
    assert unknown.json() == {"status_code": 400, "error": unknown.json()["error"]}
    assert "bogus" in unknown.json()["error"]


def test_test_environment(serve: Server) -> None:
    """A test key's task completes at once with a sample response and can be audited."""
    scale = client(serve, serve.test_key)
    task = scale.create_task(TaskType.Categorization, **categorization())
    assert task.status == "completed"
    assert task.response == {"category": "cat"}
    with pytest.raises(ScaleInvalidRequest):
        scale.cancel_task(task.id)
    scale.audit_task(task.id, False, "wrong category")
    audited = scale.get_task(task.id)
    assert audited.customer_review_status == "rejected"
    assert audited.audits[0]["comments"] == "wrong category"
    rejected = scale.tasks(customer_review_status=TaskReviewStatus.Rejected.value)
    accepted = scale.tasks(customer_review_status=TaskReviewStatus.Accepted.value)
    assert ([t.id for t in rejected.docs], accepted.total) == ([task.id], 0)
    # Live tasks are invisible to the test environment and the other way round.
    with pytest.raises(ScaleResourceNotFound):
        client(serve, serve.live_key).get_task(task.id)


def test_projects_batches_files_teams(serve: Server) -> None:
    """Project, batch, file and team calls, with names that contain a slash."""
    scale = client(serve, serve.live_key)
    project = scale.create_project(
        "team/images", TaskType.ImageAnnotation, params={"instruction": "Box cars"}
    )
    assert project.version == 0
    assert project.instruction == "Box cars"
    with pytest.raises(ScaleDuplicateResource):
        scale.create_project("team/images", TaskType.ImageAnnotation)
    assert scale.update_project("team/images", instruction="Box trucks").version == 1
    assert scale.get_project("team/images").instruction == "Box trucks"
    assert [p.name for p in scale.get_projects()] == ["team/images"]

    batch = scale.create_batch("team/images", "week/1", callback="https://example.com/batch")
    assert batch.status == "staging"
    task = scale.create_task(
        TaskType.ImageAnnotation,
        batch="week/1",
        attachment="https://example.com/car.png",
        geometries={"box": {"objects_to_annotate": ["car"]}},
    )
    assert (task.project, task.instruction) == ("team/images", "Box trucks")
    status = scale.batch_status("week/1")
    assert (status["status"], status["pending"]) == ("staging", 1)
    assert scale.finalize_batch("week/1").status == "in_progress"
    assert scale.set_batch_metadata("week/1", {"owner": "ops"}).metadata == {"owner": "ops"}
    assert scale.get_batch("week/1").metadata == {"owner": "ops"}
    assert [b.name for b in scale.get_batches(project_name="team/images")] == ["week/1"]
    assert [b.name for b in scale.get_batches(batch_status=BatchStatus.Staging)] == []

    uploaded = scale.upload_file(io.BytesIO(b"pixels"), project_name="team/images")
    downloaded = httpx.get(uploaded.attachment_url, auth=(serve.live_key, ""))
    assert downloaded.content == b"pixels"
    imported = scale.import_file("https://example.com/remote.png")
    assert imported.attachment_url == "https://example.com/remote.png"
    assert [(m.email, m.role) for m in scale.list_teammates()] == [
        ("default@hookline.local", "admin")
    ]


def test_bad_keys_are_refused(serve: Server) -> None:
    """Unknown keys answer 401 through the client."""
    with pytest.raises(ScaleUnauthorized):
        client(serve, "live_" + "0" * 44).get_projects()


def test_concurrent_creates_with_one_unique_id(serve: Server) -> None:
    """Fifty concurrent creates over real sockets: one task, forty-nine 409s."""

    def create(_: int) -> int:
        response = httpx.post(
            f"{serve.api_url}/task/categorization",
            json=categorization(unique_id="race"),
            auth=(serve.live_key, ""),
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(create, range(50)))
    assert sorted(codes) == [200] + [409] * 49
    listed = httpx.get(
        f"{serve.api_url}/tasks", params={"unique_id": "race"}, auth=(serve.live_key, "")
    ).json()
    assert listed["total"] == 1
