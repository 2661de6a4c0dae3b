from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from prevention.training.v1 import training_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.training import Course, CourseCreate, CourseList

router = APIRouter(prefix="/v1", tags=["training"], responses=ERROR_RESPONSES)
CourseId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/courses", response_model=Course, status_code=201)
async def create_course(body: CourseCreate, caller: CurrentCaller, backends: BackendsDep,
                        idempotency_key: IdempotencyKey = None) -> Course:
    response = await backends.training.CreateCourse(
        training_pb2.CreateCourseRequest(course=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return Course.from_proto(response.course)


@router.get("/courses", response_model=CourseList)
async def list_courses(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                       page_token: PageToken = "") -> CourseList:
    response = await backends.training.ListCourses(
        training_pb2.ListCoursesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return CourseList(courses=[Course.from_proto(c) for c in response.courses],
                      next_page_token=response.next_page_token)


@router.get("/courses/{course_id}", response_model=Course)
async def get_course(course_id: CourseId, caller: CurrentCaller, backends: BackendsDep) -> Course:
    response = await backends.training.GetCourse(training_pb2.GetCourseRequest(name=f"courses/{course_id}"),
                                                 timeout=backends.timeout)
    return Course.from_proto(response.course)
