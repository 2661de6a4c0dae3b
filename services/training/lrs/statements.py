"""xAPI statements (1.0.3 and 2.0.0): validation, normalisation, the keys the store indexes, and
the comparison that decides replay vs conflict. Pure functions: no database, no gRPC.

A citizen ID never enters the store (SPEC 7.7): any agent field that looks like one is refused
with a field violation that names the field, never the value.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.common.errors import FieldViolation, InvalidArgument
from services.common.validators import citizen_id_check_char

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
MAX_STATEMENT_BYTES = 1024 * 1024

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_DURATION = re.compile(
    r"^P(?:(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?|\d+(?:\.\d+)?W)$"
)
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_CITIZEN_ID = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
INTERACTION_TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
                     "sequencing", "likert", "numeric", "other")
CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")


def looks_like_citizen_id(text: str) -> bool:
    """An 18-character resident ID number with a valid check character anywhere in ``text``."""
    for match in _CITIZEN_ID.finditer(text):
        number = match.group(1).upper()
        if citizen_id_check_char(number[:17]) == number[17]:
            return True
    return False


def parse_timestamp(value: str) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value) or value.endswith(("-00:00", "-0000", "-00")):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC; naive values (SQLite gives them back so) are UTC."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Checker:
    def __init__(self, version: str):
        self.version = version
        self.errors: list[FieldViolation] = []

    def fail(self, path: str, reason: str) -> None:
        self.errors.append(FieldViolation(path, reason))

    def obj(self, value, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "must be a JSON object")
            return False
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}", "is not an xAPI property here")
        for key in required:
            if key not in value:
                self.fail(f"{path}.{key}", "is required")
        for key, item in value.items():
            if item is None and key in allowed:
                self.fail(f"{path}.{key}", "must not be null")
        return True

    def iri(self, value, path: str) -> None:
        if not isinstance(value, str) or not _IRI.match(value):
            self.fail(path, "must be an absolute IRI")

    def uuid(self, value, path: str) -> None:
        if not isinstance(value, str) or not _UUID.match(value):
            self.fail(path, "must be a UUID")

    def string(self, value, path: str) -> None:
        if not isinstance(value, str):
            self.fail(path, "must be a string")

    def boolean(self, value, path: str) -> None:
        if not isinstance(value, bool):
            self.fail(path, "must be true or false")

    def language_map(self, value, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be a language map (object)")
            return
        for key, text in value.items():
            if not _LANG.match(key):
                self.fail(f"{path}.{key}", "is not a language tag (RFC 5646)")
            if not isinstance(text, str):
                self.fail(f"{path}.{key}", "must be a string")

    def extensions(self, value, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return
        for key in value:
            self.iri(key, f"{path}.{key}")

    def no_citizen_id(self, value, path: str) -> None:
        if isinstance(value, str) and looks_like_citizen_id(value):
            self.fail(path, "looks like a citizen ID: identify learners by the platform's learner id (SPEC 7.7)")

    # --- agents -------------------------------------------------------------------------------
    def agent(self, value, path: str, *, group_allowed: bool = True, member: bool = False) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be an Agent or Group object")
            return
        kind = value.get("objectType", "Agent")
        if kind == "Group" and group_allowed:
            self.group(value, path)
            return
        if kind != "Agent":
            self.fail(f"{path}.objectType", "must be Agent" + ("" if member or not group_allowed else " or Group"))
            return
        self.obj(value, path, {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
        if sum(1 for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in value) != 1:
            self.fail(path, "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account")
        self.ifi(value, path)
        if "name" in value:
            self.string(value["name"], f"{path}.name")
            self.no_citizen_id(value["name"], f"{path}.name")

    def ifi(self, value: dict, path: str) -> None:
        if "mbox" in value:
            mbox = value["mbox"]
            if not isinstance(mbox, str) or not re.match(r"^mailto:[^@\s]+@[^@\s]+$", mbox):
                self.fail(f"{path}.mbox", "must be a mailto: IRI")
            self.no_citizen_id(mbox, f"{path}.mbox")
        if "mbox_sha1sum" in value and (not isinstance(value["mbox_sha1sum"], str)
                                        or not _SHA1.match(value["mbox_sha1sum"])):
            self.fail(f"{path}.mbox_sha1sum", "must be a hex SHA-1")
        if "openid" in value:
            self.iri(value["openid"], f"{path}.openid")
            self.no_citizen_id(value["openid"], f"{path}.openid")
        if "account" in value:
            account = value["account"]
            if self.obj(account, f"{path}.account", {"homePage", "name"}, ("homePage", "name")):
                if "homePage" in account:
                    self.iri(account["homePage"], f"{path}.account.homePage")
                if "name" in account:
                    self.string(account["name"], f"{path}.account.name")
                    self.no_citizen_id(account["name"], f"{path}.account.name")

    def group(self, value: dict, path: str) -> None:
        self.obj(value, path, {"objectType", "name", "member", "mbox", "mbox_sha1sum", "openid", "account"})
        ifis = sum(1 for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in value)
        if ifis > 1:
            self.fail(path, "a Group has at most one of mbox, mbox_sha1sum, openid, account")
        self.ifi(value, path)
        if "name" in value:
            self.string(value["name"], f"{path}.name")
            self.no_citizen_id(value["name"], f"{path}.name")
        members = value.get("member")
        if ifis == 0 and not isinstance(members, list):
            self.fail(f"{path}.member", "an anonymous Group needs a member list")
        if members is not None:
            if not isinstance(members, list):
                self.fail(f"{path}.member", "must be an array of Agents")
            else:
                for i, m in enumerate(members):
                    self.agent(m, f"{path}.member[{i}]", group_allowed=False, member=True)

    # --- the rest -------------------------------------------------------------------------------
    def verb(self, value, path: str) -> None:
        if self.obj(value, path, {"id", "display"}, ("id",)):
            if "id" in value:
                self.iri(value["id"], f"{path}.id")
            if "display" in value:
                self.language_map(value["display"], f"{path}.display")

    def activity(self, value, path: str) -> None:
        if not self.obj(value, path, {"objectType", "id", "definition"}, ("id",)):
            return
        if "id" in value:
            self.iri(value["id"], f"{path}.id")
        definition = value.get("definition")
        if definition is None:
            return
        allowed = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
                   "correctResponsesPattern", "choices", "scale", "source", "target", "steps"}
        if not self.obj(definition, f"{path}.definition", allowed):
            return
        for key in ("name", "description"):
            if key in definition:
                self.language_map(definition[key], f"{path}.definition.{key}")
        for key in ("type", "moreInfo"):
            if key in definition:
                self.iri(definition[key], f"{path}.definition.{key}")
        if "extensions" in definition:
            self.extensions(definition["extensions"], f"{path}.definition.extensions")
        interaction = definition.get("interactionType")
        if interaction is not None and interaction not in INTERACTION_TYPES:
            self.fail(f"{path}.definition.interactionType", f"must be one of {', '.join(INTERACTION_TYPES)}")
        if "correctResponsesPattern" in definition:
            if interaction is None:
                self.fail(f"{path}.definition.correctResponsesPattern", "needs an interactionType")
            pattern = definition["correctResponsesPattern"]
            if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
                self.fail(f"{path}.definition.correctResponsesPattern", "must be an array of strings")
        for key in ("choices", "scale", "source", "target", "steps"):
            if key in definition:
                if interaction is None:
                    self.fail(f"{path}.definition.{key}", "needs an interactionType")
                components = definition[key]
                if not isinstance(components, list):
                    self.fail(f"{path}.definition.{key}", "must be an array")
                    continue
                for i, c in enumerate(components):
                    p = f"{path}.definition.{key}[{i}]"
                    if self.obj(c, p, {"id", "description"}, ("id",)):
                        self.string(c.get("id"), f"{p}.id")
                        if "description" in c:
                            self.language_map(c["description"], f"{p}.description")

    def statement_ref(self, value, path: str) -> None:
        if self.obj(value, path, {"objectType", "id"}, ("objectType", "id")):
            self.uuid(value.get("id"), f"{path}.id")

    def object(self, value, path: str, *, sub: bool) -> None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return
        kind = value.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(value, path)
        elif kind in ("Agent", "Group"):
            self.agent(value, path)
        elif kind == "StatementRef":
            self.statement_ref(value, path)
        elif kind == "SubStatement" and not sub:
            self.obj(value, path, {"objectType", "actor", "verb", "object", "result", "context", "timestamp",
                                   "attachments"}, ("actor", "verb", "object"))
            self.body(value, path, sub=True)
        else:
            self.fail(f"{path}.objectType", "must be Activity, Agent, Group, StatementRef"
                      + ("" if sub else " or SubStatement"))

    def result(self, value, path: str) -> None:
        if not self.obj(value, path, {"score", "success", "completion", "response", "duration", "extensions"}):
            return
        score = value.get("score")
        if score is not None and self.obj(score, f"{path}.score", {"scaled", "raw", "min", "max"}):
            for key in ("scaled", "raw", "min", "max"):
                if key in score and (isinstance(score[key], bool) or not isinstance(score[key], int | float)):
                    self.fail(f"{path}.score.{key}", "must be a number")
            nums = {k: v for k, v in score.items() if isinstance(v, int | float) and not isinstance(v, bool)}
            if "scaled" in nums and not -1 <= nums["scaled"] <= 1:
                self.fail(f"{path}.score.scaled", "must be between -1 and 1")
            if "min" in nums and "max" in nums and nums["min"] >= nums["max"]:
                self.fail(f"{path}.score.max", "must be greater than min")
            if "raw" in nums and (("min" in nums and nums["raw"] < nums["min"]) or
                                  ("max" in nums and nums["raw"] > nums["max"])):
                self.fail(f"{path}.score.raw", "must lie between min and max")
        for key in ("success", "completion"):
            if key in value:
                self.boolean(value[key], f"{path}.{key}")
        if "response" in value:
            self.string(value["response"], f"{path}.response")
        if "duration" in value and (not isinstance(value["duration"], str)
                                    or not _DURATION.match(value["duration"]) or value["duration"] in ("P", "PT")
                                    or value["duration"].endswith("T")):
            self.fail(f"{path}.duration", "must be an ISO 8601 duration")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")

    def context(self, value, path: str, object_kind: str) -> None:
        allowed = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
                   "statement", "extensions"}
        if self.version.startswith("2"):
            allowed |= {"contextAgents", "contextGroups"}
        if not self.obj(value, path, allowed):
            return
        if "registration" in value:
            self.uuid(value["registration"], f"{path}.registration")
        if "instructor" in value:
            self.agent(value["instructor"], f"{path}.instructor")
        if "team" in value:
            team = value["team"]
            if not isinstance(team, dict) or team.get("objectType") != "Group":
                self.fail(f"{path}.team", "must be a Group")
            else:
                self.group(team, f"{path}.team")
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}.{key}")
                if object_kind != "Activity":
                    self.fail(f"{path}.{key}", "is only allowed when the object is an Activity")
        if "language" in value and (not isinstance(value["language"], str) or not _LANG.match(value["language"])):
            self.fail(f"{path}.language", "must be a language tag (RFC 5646)")
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}.statement")
            if isinstance(value["statement"], dict) and value["statement"].get("objectType") != "StatementRef":
                self.fail(f"{path}.statement.objectType", "must be StatementRef")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        activities = value.get("contextActivities")
        if activities is not None and self.obj(activities, f"{path}.contextActivities", set(CONTEXT_ACTIVITY_KEYS)):
            for key, item in activities.items():
                items = item if isinstance(item, list) else [item]
                for i, activity in enumerate(items):
                    p = f"{path}.contextActivities.{key}[{i}]"
                    if isinstance(activity, dict) and activity.get("objectType", "Activity") != "Activity":
                        self.fail(f"{p}.objectType", "must be Activity")
                    else:
                        self.activity(activity, p)
        for key, kind in (("contextAgents", "Agent"), ("contextGroups", "Group")):
            if key not in value:
                continue
            items = value[key]
            if not isinstance(items, list):
                self.fail(f"{path}.{key}", "must be an array")
                continue
            for i, item in enumerate(items):
                p = f"{path}.{key}[{i}]"
                if self.obj(item, p, {"objectType", "relevantTypes", kind.lower()}, ("objectType", kind.lower())):
                    if item.get("objectType") != ("contextAgent" if kind == "Agent" else "contextGroup"):
                        self.fail(f"{p}.objectType", "is wrong")
                    if kind.lower() in item:
                        self.agent(item[kind.lower()], f"{p}.{kind.lower()}", group_allowed=kind == "Group")
                    if "relevantTypes" in item:
                        types = item["relevantTypes"]
                        if not isinstance(types, list) or not types:
                            self.fail(f"{p}.relevantTypes", "must be a non-empty array of IRIs")
                        else:
                            for j, t in enumerate(types):
                                self.iri(t, f"{p}.relevantTypes[{j}]")

    def attachments(self, value, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return
        for i, item in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(item, p, {"usageType", "display", "description", "contentType", "length", "sha2",
                                      "fileUrl"}, ("usageType", "display", "contentType", "length", "sha2")):
                continue
            if "usageType" in item:
                self.iri(item["usageType"], f"{p}.usageType")
            if "display" in item:
                self.language_map(item["display"], f"{p}.display")
            if "description" in item:
                self.language_map(item["description"], f"{p}.description")
            self.string(item.get("contentType", ""), f"{p}.contentType")
            if "length" in item and (isinstance(item["length"], bool) or not isinstance(item["length"], int)):
                self.fail(f"{p}.length", "must be an integer")
            self.string(item.get("sha2", ""), f"{p}.sha2")
            if "fileUrl" in item:
                self.iri(item["fileUrl"], f"{p}.fileUrl")

    def body(self, value: dict, path: str, *, sub: bool) -> None:
        if "actor" in value:
            self.agent(value["actor"], f"{path}.actor")
        if "verb" in value:
            self.verb(value["verb"], f"{path}.verb")
        if "object" in value:
            self.object(value["object"], f"{path}.object", sub=sub)
        obj = value.get("object")
        kind = obj.get("objectType", "Activity") if isinstance(obj, dict) else ""
        if "result" in value:
            self.result(value["result"], f"{path}.result")
        if "context" in value:
            self.context(value["context"], f"{path}.context", kind)
        if "timestamp" in value and parse_timestamp(value["timestamp"]) is None:
            self.fail(f"{path}.timestamp", "must be an ISO 8601 timestamp")
        if "attachments" in value:
            self.attachments(value["attachments"], f"{path}.attachments")
        verb = value.get("verb")
        if isinstance(verb, dict) and verb.get("id") == VOIDED and kind != "StatementRef":
            self.fail(f"{path}.object", "a voiding statement's object must be a StatementRef")


def validate(statement, *, path: str = "statement", version: str = "1.0.3") -> None:
    """Raises InvalidArgument listing every violation."""
    checker = _Checker(version)
    if checker.obj(statement, path, {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                                     "authority", "version", "attachments"}, ("actor", "verb", "object")):
        if "id" in statement:
            checker.uuid(statement["id"], f"{path}.id")
        if "version" in statement and (not isinstance(statement["version"], str)
                                       or not re.match(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$", statement["version"])):
            checker.fail(f"{path}.version", "must be 1.0.x or 2.0.x")
        if "authority" in statement:
            authority = statement["authority"]
            checker.agent(authority, f"{path}.authority")
            if isinstance(authority, dict) and authority.get("objectType") == "Group" and (
                    agent_key(authority) or len(authority.get("member") or []) != 2):
                checker.fail(f"{path}.authority", "a Group authority is an anonymous group of two agents (OAuth)")
        if "stored" in statement and parse_timestamp(statement["stored"]) is None:
            checker.fail(f"{path}.stored", "must be an ISO 8601 timestamp")
        checker.body(statement, path, sub=False)
    if checker.errors:
        raise InvalidArgument(checker.errors)


# --- keys and comparison ----------------------------------------------------------------------
def agent_key(agent: dict) -> str:
    """The inverse functional identifier of an Agent or identified Group ('' for anonymous groups)."""
    if not isinstance(agent, dict):
        return ""
    if "mbox" in agent:
        return f"mbox:{agent['mbox']}"
    if "mbox_sha1sum" in agent:
        return f"sha1:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return ""


def _agents_of(agent) -> list[str]:
    if not isinstance(agent, dict):
        return []
    keys = [agent_key(agent)]
    for member in agent.get("member") or []:
        keys.append(agent_key(member))
    return [k for k in keys if k]


def _activities_of_context(context) -> list[str]:
    ids: list[str] = []
    activities = (context or {}).get("contextActivities") or {}
    for item in activities.values():
        for a in item if isinstance(item, list) else [item]:
            if isinstance(a, dict) and "id" in a:
                ids.append(a["id"])
    return ids


def _related_agents(body: dict) -> list[str]:
    keys = _agents_of(body.get("actor"))
    obj = body.get("object") or {}
    if obj.get("objectType") in ("Agent", "Group"):
        keys += _agents_of(obj)
    context = body.get("context") or {}
    keys += _agents_of(context.get("instructor")) + _agents_of(context.get("team"))
    for item in context.get("contextAgents") or []:
        keys += _agents_of(item.get("agent"))
    for item in context.get("contextGroups") or []:
        keys += _agents_of(item.get("group"))
    return keys


def _related_activities(body: dict) -> list[str]:
    obj = body.get("object") or {}
    ids = [obj["id"]] if obj.get("objectType", "Activity") == "Activity" and "id" in obj else []
    return ids + _activities_of_context(body.get("context"))


def joined(keys: list[str]) -> str:
    return "|" + "|".join(dict.fromkeys(keys)) + "|" if keys else ""


_SECONDS = re.compile(r"(\d+)(?:\.(\d+))?S$")


def _duration_to_hundredths(duration):
    """xAPI 2.0.0 (Data 4.6): precision beyond 0.01 s is not part of a duration's comparison."""
    if not isinstance(duration, str):
        return duration
    match = _SECONDS.search(duration)
    if not match:
        return duration
    fraction = (match.group(2) or "")[:2].rstrip("0")
    return duration[:match.start()] + match.group(1) + (f".{fraction}" if fraction else "") + "S"


def _with_duration_compared(body: dict) -> dict:
    result = body.get("result")
    if isinstance(result, dict) and "duration" in result:
        body = {**body, "result": {**result, "duration": _duration_to_hundredths(result["duration"])}}
    obj = body.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        body = {**body, "object": _with_duration_compared(obj)}
    return body


def comparison_form(statement: dict) -> dict:
    """What two statements with the same id must share to be the same statement: everything but
    the properties the LRS sets, ids in lower case, timestamps as instants, durations to 0.01 s."""
    form = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    form["id"] = str(form.get("id", "")).lower()
    if "timestamp" in form:
        parsed = parse_timestamp(form["timestamp"])
        form["timestamp"] = iso(parsed) if parsed else form["timestamp"]
    return _with_duration_compared(form)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(statement: dict) -> str:
    return hashlib.sha256(canonical_json(comparison_form(statement)).encode()).hexdigest()


@dataclass
class Prepared:
    """A validated statement ready to store, with its index columns."""

    statement: dict
    statement_id: str
    timestamp: datetime
    actor_key: str
    verb_id: str
    activity_id: str
    registration: str
    voids: str
    ref_id: str
    agent_keys: str
    related_agent_keys: str
    related_activity_ids: str
    content_hash: str
    attachment_sha2s: list[str] = field(default_factory=list)


def _context_arrays(body: dict) -> dict:
    """Context activities are returned as arrays even when sent as one object (xAPI)."""
    context = body.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        activities = {k: v if isinstance(v, list) else [v] for k, v in context["contextActivities"].items()}
        body = {**body, "context": {**context, "contextActivities": activities}}
    obj = body.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        body = {**body, "object": _context_arrays(obj)}
    return body


def prepare(statement, *, stored: datetime, authority: dict, version: str, path: str = "statement") -> Prepared:
    validate(statement, path=path, version=version)
    statement = _context_arrays(dict(statement))
    statement["id"] = str(statement.get("id") or uuid.uuid4()).lower()
    digest = content_hash(statement)
    stamp = parse_timestamp(statement["timestamp"]) if "timestamp" in statement else stored
    statement.setdefault("timestamp", iso(stored))
    statement["stored"] = iso(stored)
    statement["authority"] = authority
    statement.setdefault("version", "2.0.0" if version.startswith("2") else "1.0.0")
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    context = statement.get("context") or {}
    direct = _agents_of(statement["actor"]) + (_agents_of(obj) if kind in ("Agent", "Group") else [])
    related = _related_agents(statement) + _agents_of(authority)
    activities = _related_activities(statement)
    if kind == "SubStatement":
        related += _related_agents(obj)
        activities += _related_activities(obj)
    return Prepared(
        statement=statement,
        statement_id=statement["id"],
        timestamp=stamp,
        actor_key=agent_key(statement["actor"])[:512],
        verb_id=statement["verb"]["id"],
        activity_id=obj.get("id", "") if kind == "Activity" else "",
        registration=str(context.get("registration", "")).lower(),
        voids=str(obj.get("id", "")).lower() if statement["verb"]["id"] == VOIDED else "",
        ref_id=str(obj.get("id", "")).lower() if kind == "StatementRef" else "",
        agent_keys=joined(direct),
        related_agent_keys=joined(related),
        related_activity_ids=joined(activities),
        content_hash=digest,
        attachment_sha2s=[a["sha2"] for a in statement.get("attachments", []) if "fileUrl" not in a]
        + [a["sha2"] for a in (obj.get("attachments") or []) if "fileUrl" not in a and kind == "SubStatement"],
    )


def ids_format(statement: dict) -> dict:
    """format=ids: agents, activities and verbs reduced to their identifiers."""

    def agent(a):
        if not isinstance(a, dict):
            return a
        out = {k: v for k, v in a.items() if k in ("objectType", "mbox", "mbox_sha1sum", "openid", "account")}
        if a.get("objectType") == "Group" and not agent_key(a):
            out["member"] = [agent(m) for m in a.get("member") or []]
        return out

    def body(s: dict) -> dict:
        s = dict(s)
        s["actor"] = agent(s.get("actor"))
        s["verb"] = {"id": s["verb"]["id"]}
        obj = s.get("object") or {}
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            s["object"] = {"id": obj["id"]}  # an Activity's identifier is its id alone
        elif kind in ("Agent", "Group"):
            s["object"] = agent(obj)
        elif kind == "SubStatement":
            s["object"] = body(obj)
        if "authority" in s:
            s["authority"] = agent(s["authority"])
        return s

    return body(statement)
