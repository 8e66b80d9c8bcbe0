"""Discord's documented size limits on what a bot sends, checked as Discord checks them: a 400 "Invalid
Form Body" (50035) whose ``errors`` object points at the offending field.

Pure functions over JSON payloads, shared by every endpoint that takes them: messages (bot REST, webhooks,
interaction responses, followups, edits), modals, autocomplete results, application commands and the
audit-log reason header. Lengths are counted in characters (code points), as Discord counts them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from sandbox.discord_server.common import ApiError, form_error
from sandbox.discord_server.protocol import SELECT_TYPES

Path = Sequence[str | int]

EMBEDS_MAX, EMBED_TOTAL_MAX, EMBED_FIELDS_MAX = 10, 6000, 25
EMBED_TEXT = {"title": 256, "description": 4096}
FIELD_TEXT = {"name": 256, "value": 1024}
ROWS_MAX, ROW_WIDTH = 5, 5
BUTTON_LABEL_MAX, CUSTOM_ID_MAX, PLACEHOLDER_MAX = 80, 100, 150
SELECT_OPTIONS_MAX, SELECT_OPTION_TEXT_MAX = 25, 100
MODAL_TITLE_MAX, MODAL_INPUTS_MAX = 45, 5
INPUT_LABEL_MAX, INPUT_PLACEHOLDER_MAX, INPUT_VALUE_MAX = 45, 100, 4000
CHOICES_MAX, CHOICE_TEXT_MAX = 25, 100
AUDIT_REASON_MAX = 512
ROLE_NAME_MAX = 100
TEXT_INPUT = 4
FORM_ERROR = 50035
LABEL = 18


def _max(path: Path, limit: int) -> ApiError:
    return form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _between(path: Path, low: int, high: int) -> ApiError:
    return form_error(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def check_length(value: Any, path: Path, high: int, low: int = 0) -> None:
    """`value` (a string, or a list) holds between `low` and `high` characters (items)."""
    size = len(value if isinstance(value, list) else str(value))
    if size > high or size < low:
        raise _between(path, low, high) if low else _max(path, high)


def check_embeds(embeds: list[dict[str, Any]]) -> None:
    """At most 10 embeds; title 256, description 4,096, 25 fields (name 256, value 1,024, both
    required), footer text 2,048, author name 256; all of their text together at most 6,000."""
    check_length(embeds, ["embeds"], EMBEDS_MAX)
    total = 0
    for index, embed in enumerate(embeds):
        where = ["embeds", index]
        for key, limit in EMBED_TEXT.items():
            value = str(embed.get(key) or "")
            check_length(value, [*where, key], limit)
            total += len(value)
        fields = embed.get("fields") or []
        check_length(fields, [*where, "fields"], EMBED_FIELDS_MAX)
        for f_index, fld in enumerate(fields):
            for key, limit in FIELD_TEXT.items():
                value = str(fld.get(key) or "")
                if not value:
                    raise form_error(
                        [*where, "fields", f_index, key], "BASE_TYPE_REQUIRED", "This field is required"
                    )
                check_length(value, [*where, "fields", f_index, key], limit)
                total += len(value)
        for part, key, limit in (("footer", "text", 2048), ("author", "name", 256)):
            value = str((embed.get(part) or {}).get(key) or "")
            check_length(value, [*where, part, key], limit)
            total += len(value)
    if total > EMBED_TOTAL_MAX:
        raise form_error(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def check_component(component: dict[str, Any], path: Path) -> None:
    """One interactive component's own limits: custom_id 1–100, button label 80, a select's placeholder
    150 and its 1–25 options (label and value 1–100, description 100), min/max values 0–25."""
    custom_id = component.get("custom_id")
    if custom_id is not None:
        check_length(custom_id, [*path, "custom_id"], CUSTOM_ID_MAX, 1)
    kind = component.get("type")
    if kind == 2 and component.get("label") is not None:
        check_length(component["label"], [*path, "label"], BUTTON_LABEL_MAX)
    if kind in SELECT_TYPES:
        if component.get("placeholder") is not None:
            check_length(component["placeholder"], [*path, "placeholder"], PLACEHOLDER_MAX)
        for key, low in (("min_values", 0), ("max_values", 1)):
            value = component.get(key)
            if value is not None and not low <= int(value) <= SELECT_OPTIONS_MAX:
                raise form_error([*path, key], "NUMBER_TYPE_MAX", f"int value should be <= 25 and >= {low}.")
    if kind == 3:
        options = component.get("options") or []
        check_length(options, [*path, "options"], SELECT_OPTIONS_MAX, 1)
        for o_index, option in enumerate(options):
            where = [*path, "options", o_index]
            check_length(option.get("label") or "", [*where, "label"], SELECT_OPTION_TEXT_MAX, 1)
            check_length(option.get("value") or "", [*where, "value"], SELECT_OPTION_TEXT_MAX, 1)
            if option.get("description") is not None:
                check_length(option["description"], [*where, "description"], SELECT_OPTION_TEXT_MAX)
    if kind == TEXT_INPUT:
        check_text_input(component, path)


def check_rows(rows: list[dict[str, Any]]) -> None:
    """A message's legacy layout: at most 5 action rows of 1–5 components, a select alone in its row."""
    check_length(rows, ["components"], ROWS_MAX)
    for index, row in enumerate(rows):
        if row.get("type") != 1:
            message = 'Value of field "type" must be one of (1,).'
            raise form_error(["components", index, "type"], "UNION_TYPE_CHOICES", message)
        children = row.get("components") or []
        check_length(children, ["components", index, "components"], ROW_WIDTH, 1)
        if any(c.get("type") in SELECT_TYPES for c in children) and len(children) > 1:
            raise form_error(
                ["components", index, "components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for c_index, child in enumerate(children):
            check_component(child, ["components", index, "components", c_index])


def check_text_input(component: dict[str, Any], path: Path, *, labelled: bool = False) -> None:
    """A modal's text input: label 1–45 (unless a label component carries it), placeholder 100, value
    and min_length up to 4,000, max_length 1–4,000."""
    if not labelled or component.get("label") is not None:
        check_length(component.get("label") or "", [*path, "label"], INPUT_LABEL_MAX, 1)
    if component.get("placeholder") is not None:
        check_length(component["placeholder"], [*path, "placeholder"], INPUT_PLACEHOLDER_MAX)
    if component.get("value") is not None:
        check_length(component["value"], [*path, "value"], INPUT_VALUE_MAX)
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = component.get(key)
        if value is not None and not low <= int(value) <= INPUT_VALUE_MAX:
            raise form_error([*path, key], "NUMBER_TYPE_MAX", f"int value should be <= 4000 and >= {low}.")


def check_modal(data: dict[str, Any]) -> None:
    """A modal (callback type 9): custom_id 1–100, title 1–45, 1–5 top-level components (action rows
    holding one text input, or label components), each input within its limits."""
    check_length(data.get("custom_id") or "", ["data", "custom_id"], CUSTOM_ID_MAX, 1)
    check_length(data.get("title") or "", ["data", "title"], MODAL_TITLE_MAX, 1)
    components = data.get("components") or []
    check_length(components, ["data", "components"], MODAL_INPUTS_MAX, 1)
    for index, top in enumerate(components):
        where: list[str | int] = ["data", "components", index]
        if top.get("type") == LABEL:
            check_length(top.get("label") or "", [*where, "label"], INPUT_LABEL_MAX, 1)
            inner = top.get("component") or {}
            if inner.get("type") == TEXT_INPUT:
                check_text_input(inner, [*where, "component"], labelled=True)
            else:
                check_component(inner, [*where, "component"])
            continue
        for c_index, child in enumerate(top.get("components") or []):
            check_component(child, [*where, "components", c_index])


def check_choices(choices: list[dict[str, Any]], path: Path) -> None:
    """Autocomplete results or a command option's choices: at most 25, each name 1–100 characters and a
    string value at most 100."""
    check_length(choices, path, CHOICES_MAX)
    for index, choice in enumerate(choices):
        check_length(choice.get("name") or "", [*path, index, "name"], CHOICE_TEXT_MAX, 1)
        value = choice.get("value")
        if isinstance(value, str):
            check_length(value, [*path, index, "value"], CHOICE_TEXT_MAX)


def check_audit_reason(header: str | None) -> None:
    """The X-Audit-Log-Reason header (URL-encoded by clients) holds at most 512 characters."""
    if header is not None:
        check_length(unquote(header), ["reason"], AUDIT_REASON_MAX)


@contextlib.contextmanager
def under(key: str) -> Iterator[None]:
    """Form errors raised inside point below `key`: a message inside an interaction response is its
    ``data``, and Discord names the field as ``data.content``."""
    try:
        yield
    except ApiError as error:
        if error.payload.get("code") == FORM_ERROR and "errors" in error.payload:
            error.payload["errors"] = {key: error.payload["errors"]}
        raise
