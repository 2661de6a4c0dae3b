"""The course catalogue below courses (SPEC TR-1): tags (industries, target positions), modules,
materials in object storage, a course's xAPI activity id, publicity materials.

Materials: up to 4 MiB the bytes may come with the request and are stored at once; larger ones
are announced with their size and content type and get a presigned PUT URL (SPEC 7.5), the
material stays ``pending`` until the object is there (checked when it is read). Objects are keyed
``<tenant>/training/materials/<id>``; a reader gets a presigned GET URL that expires in 15 minutes,
and only for materials it may see: a foreign tenant's id answers 404 (RELIABILITY S3).
The object is written before the row: if the transaction then fails, an unreferenced object is
left (never a row without its object); ``sweep`` candidates are keys without a row.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.storage import DEFAULT_MAX_SIZE, ObjectStore, object_key
from services.common.tenancy import visible_to
from services.common.validators import validate_industry_code
from services.training.core_models import CourseModule, CourseTags, Material
from services.training.models import Course
from services.training.reference import KEY_POSITIONS, is_blank
from services.training.service import get_course

MATERIAL_KINDS = ("video", "document", "infographic", "typical_case")
PUBLICITY_TOPICS = ("occupational_disease", "work_safety", "traffic_accidents", "cardio_cerebrovascular_disease")
CONTENT_TYPES = {"video": ("video/mp4",), "document": ("application/pdf",),
                 "infographic": ("image/png", "image/jpeg"), "typical_case": ("application/pdf", "video/mp4")}
MAX_PRESIGNED_SIZE = 512 * 1024 * 1024
# Inline content travels in one gRPC message (4 MiB limit with the other fields): a little less
# than the 4 MiB of SPEC 7.5, anything bigger goes by presigned PUT.
MAX_INLINE_SIZE = DEFAULT_MAX_SIZE - 64 * 1024
_MODULE = re.compile(r"^courseModules/([0-9a-f]{32})$")
_MATERIAL = re.compile(r"^materials/([0-9a-f]{32})$")


def _owner(caller: Caller) -> str:
    return NATIONAL_TENANT if caller.is_ministry else caller.tenant


def _readable(column, caller: Caller | None):
    if caller is None:
        return column == NATIONAL_TENANT
    return or_(column == NATIONAL_TENANT, visible_to(column, caller))


async def _own_course(session: AsyncSession, caller: Caller, course_id: str) -> Course:
    """A course the caller may change: national ones for the ministry, its own tenant's for a PO."""
    course = await get_course(session=session, caller=caller, course_id=course_id)
    if course.tenant_code != _owner(caller):
        raise NotFound(f"course {course_id} not found")
    return course


# -- tags ------------------------------------------------------------------------------------------


async def set_tags(*, session: AsyncSession, caller: Caller, course_id: str, industries: list[str],
                   target_positions: list[str], now: datetime) -> CourseTags:
    violations: list[FieldViolation] = []
    codes = []
    for i, code in enumerate(industries[:50]):
        try:
            codes.append(validate_industry_code(code, f"industries[{i}]"))
        except InvalidArgument as error:
            violations.extend(error.violations)
    if len(industries) > 50:
        violations.append(FieldViolation("industries", "at most 50"))
    for i, position in enumerate(target_positions):
        if position not in KEY_POSITIONS:
            violations.append(FieldViolation(f"target_positions[{i}]", f"must be one of {', '.join(KEY_POSITIONS)}"))
    if violations:
        raise InvalidArgument(violations)
    course = await _own_course(session, caller, course_id)
    row = await session.get(CourseTags, course.id)
    if row is None:
        row = CourseTags(course_id=course.id, tenant_code=course.tenant_code)
        session.add(row)
    row.industries = sorted(set(codes))
    row.target_positions = [p for p in KEY_POSITIONS if p in set(target_positions)]
    row.update_time = now
    await session.flush()
    return row


async def tags_of(session: AsyncSession, course_id: str) -> CourseTags | None:
    return await session.get(CourseTags, course_id)


# -- modules ---------------------------------------------------------------------------------------


def parse_module_name(name: str, field: str = "parent") -> str:
    match = _MODULE.match(name or "")
    if not match:
        raise InvalidArgument.field(field, "must be courseModules/{id}")
    return match.group(1)


def parse_material_name(name: str) -> str:
    match = _MATERIAL.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be materials/{id}")
    return match.group(1)


async def create_module(*, session: AsyncSession, caller: Caller, course_id: str, title: str,
                        now: datetime) -> CourseModule:
    if is_blank(title) or len(title) > 200:
        raise InvalidArgument.field("course_module.title", "is required, at most 200 characters")
    course = await _own_course(session, caller, course_id)
    position = (await session.scalar(select(func.count()).select_from(CourseModule).where(
        CourseModule.course_id == course.id))) or 0
    row = CourseModule(id=uuid.uuid4().hex, tenant_code=course.tenant_code, course_id=course.id,
                       title=title.strip(), position=position + 1, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def list_modules(*, session: AsyncSession, caller: Caller, course_id: str
                       ) -> list[tuple[CourseModule, list[Material]]]:
    course = await get_course(session=session, caller=caller, course_id=course_id)
    modules = (await session.scalars(select(CourseModule).where(CourseModule.course_id == course.id)
                                     .order_by(CourseModule.position))).all()
    out = []
    for module in modules:
        materials = (await session.scalars(select(Material).where(Material.module_id == module.id)
                                           .order_by(Material.create_time, Material.id))).all()
        out.append((module, list(materials)))
    return out


# -- materials -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewMaterial:
    kind: str
    title: str
    content_type: str
    publicity_topic: str
    public: bool
    content: bytes
    size: int


def _validate_material(new: NewMaterial, module_id: str) -> None:
    violations: list[FieldViolation] = []
    if new.kind not in MATERIAL_KINDS:
        violations.append(FieldViolation("material.kind", f"must be one of {', '.join(MATERIAL_KINDS)}"))
    elif new.content_type not in CONTENT_TYPES[new.kind]:
        violations.append(FieldViolation("material.content_type",
                                         f"a {new.kind} must be one of {', '.join(CONTENT_TYPES[new.kind])}"))
    if is_blank(new.title) or len(new.title) > 200:
        violations.append(FieldViolation("material.title", "is required, at most 200 characters"))
    if new.publicity_topic and new.publicity_topic not in PUBLICITY_TOPICS:
        violations.append(FieldViolation("material.publicity_topic",
                                         f"must be one of {', '.join(PUBLICITY_TOPICS)}"))
    if not module_id and not new.publicity_topic:
        violations.append(FieldViolation("material.publicity_topic",
                                         "is required for a material outside a course module"))
    if new.public and not new.publicity_topic:
        violations.append(FieldViolation("material.public", "only publicity materials can be public"))
    if new.content:
        if len(new.content) > MAX_INLINE_SIZE:
            violations.append(FieldViolation("content", f"at most {MAX_INLINE_SIZE} bytes inline; announce "
                                                        "size_bytes for a presigned upload"))
    elif not 0 < new.size <= MAX_PRESIGNED_SIZE:
        violations.append(FieldViolation("material.size_bytes", f"give the content, or a size of 1 to "
                                                                f"{MAX_PRESIGNED_SIZE} bytes for a presigned upload"))
    if violations:
        raise InvalidArgument(violations)


async def create_material(*, session: AsyncSession, store: ObjectStore, caller: Caller, module_id: str,
                          new: NewMaterial, now: datetime) -> tuple[Material, str]:
    """Returns the material and, for a presigned upload, the URL to PUT the bytes to."""
    _validate_material(new, module_id)
    tenant = _owner(caller)
    if module_id:
        module = (await session.scalars(select(CourseModule).where(
            CourseModule.id == module_id, CourseModule.tenant_code == tenant))).first()
        if module is None:
            raise NotFound(f"course module {module_id} not found")
    material_id = uuid.uuid4().hex
    key = object_key(tenant, "training", "materials", material_id)
    row = Material(id=material_id, tenant_code=tenant, module_id=module_id, kind=new.kind, title=new.title.strip(),
                   publicity_topic=new.publicity_topic, public=new.public, object_key=key,
                   content_type=new.content_type, size=new.size, sha256="", state="pending", create_time=now,
                   created_by=caller.subject)
    upload_url = ""
    if new.content:
        info = await store.put(key, new.content, new.content_type)
        row.size, row.sha256, row.state = info.size, info.sha256, "ready"
    else:
        upload_url = store.presign_put(key, content_type=new.content_type)
    session.add(row)
    await session.flush()
    return row, upload_url


async def _refresh(store: ObjectStore, row: Material) -> None:
    """A pending material becomes ready once its presigned upload is in the store."""
    if row.state != "pending":
        return
    try:
        info = await store.stat(row.object_key)
    except NotFound:
        return
    row.size, row.sha256, row.state = info.size, info.sha256, "ready"


async def get_material(*, session: AsyncSession, store: ObjectStore, caller: Caller | None,
                       material_id: str) -> Material:
    query = select(Material).where(Material.id == material_id)
    if caller is None:  # the public view: public publicity materials only
        query = query.where(Material.public.is_(True))
    else:
        query = query.where(_readable(Material.tenant_code, caller))
    row = (await session.scalars(query)).first()
    if row is None:
        raise NotFound(f"material {material_id} not found")
    await _refresh(store, row)
    await session.flush()
    return row


async def list_public_materials(*, session: AsyncSession, topic: str, after: tuple[str, str] | None,
                                limit: int) -> list[Material]:
    if topic and topic not in PUBLICITY_TOPICS:
        raise InvalidArgument.field("publicity_topic", f"must be one of {', '.join(PUBLICITY_TOPICS)}")
    query = select(Material).where(Material.public.is_(True), Material.state == "ready")
    if topic:
        query = query.where(Material.publicity_topic == topic)
    query = newest_first(query, Material.create_time, Material.id, after, limit)
    return list((await session.scalars(query)).all())
