"""xAPI `format=canonical`: every language map reduced to the one language the request prefers
(Accept-Language), as the statements resource returns them (xAPI Communication 2.1.3)."""

from __future__ import annotations

_LANGUAGE_MAPS = ("display", "name", "description")
_OPAQUE = ("extensions", "account")  # their content is the client's own, never rewritten


def preferences(accept_language: str) -> list[str]:
    """Accept-Language tags, most preferred first (q=0 dropped, `*` last)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, *params = [p.strip() for p in item.split(";")]
        if not tag:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.lower()))
    return [tag for _, _, tag in sorted(ranked)]


def choose(language_map: dict, wanted: list[str]) -> dict:
    """The one entry of a language map that best fits the preferences: an exact tag, then a
    shared primary language, then `und`, then the first entry."""
    if len(language_map) <= 1:
        return language_map
    by_lower = {key.lower(): key for key in language_map}
    for tag in wanted:
        if tag in by_lower:
            return {by_lower[tag]: language_map[by_lower[tag]]}
        if tag == "*":
            break
        primary = tag.split("-")[0]
        for lower, key in by_lower.items():
            if lower.split("-")[0] == primary:
                return {key: language_map[key]}
    if "und" in by_lower:
        return {by_lower["und"]: language_map[by_lower["und"]]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def canonical(value, wanted: list[str]):
    """A statement (or StatementResult) with each language map reduced to one language."""
    if isinstance(value, list):
        return [canonical(item, wanted) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in _OPAQUE:
            out[key] = item
        elif key in _LANGUAGE_MAPS and isinstance(item, dict):
            out[key] = choose(item, wanted)
        else:
            out[key] = canonical(item, wanted)
    return out


def _activities_in(statement: dict, activity_id: str):
    """Every Activity object with this id in a statement: object, sub-statement, context."""
    bodies = [statement]
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        bodies.append(obj)
    for body in bodies:
        candidates = [body.get("object")]
        context = body.get("context")
        if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
            for items in context["contextActivities"].values():
                candidates += items if isinstance(items, list) else [items]
        for item in candidates:
            if (isinstance(item, dict) and item.get("objectType", "Activity") == "Activity"
                    and item.get("id") == activity_id):
                yield item


def merged_activity(activity_id: str, statements_newest_first: list[dict]) -> dict:
    """One Activity from every statement that carries it: later definitions win property by
    property, language maps are merged entry by entry (xAPI Communication 2.5)."""
    definition: dict = {}
    for statement in reversed(statements_newest_first):
        for activity in _activities_in(statement, activity_id):
            for key, value in (activity.get("definition") or {}).items():
                if key in ("name", "description", "extensions") and isinstance(value, dict) \
                        and isinstance(definition.get(key), dict):
                    definition[key] = {**definition[key], **value}
                else:
                    definition[key] = value
    body: dict = {"objectType": "Activity", "id": activity_id}
    if definition:
        body["definition"] = definition
    return body
