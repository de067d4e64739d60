"""What Home Assistant's frontend does with a flow's form, ported for fast tests.

The browser suite (tests/browser) proves the forms in the real frontend; these
two functions give the config-flow tests the same verdict in milliseconds. They
are ported from the frontend's own code, as shipped in `home-assistant-frontend`
(`computeInitialHaFormData` and the "not all required fields" check of
`step-flow-form`), and follow it in what matters here:

- a field's initial value is its `suggested_value`, else its `default`; a
  section (`expandable`) WITH a `default` takes that default as it is and never
  looks at the defaults inside it; one without starts from its fields';
- submitting is refused while a required field (inside a section too) is empty.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers import config_validation as cv
import probatio


def serialized(data_schema: Any) -> list[dict[str, Any]]:
    """The form as the flow API sends it to the frontend."""
    fields: list[dict[str, Any]] = probatio.to_field_list(
        data_schema, custom_serializer=cv.custom_serializer
    )
    return fields


def initial_data(fields: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The values the frontend fills the form with before the user types."""
    data: dict[str, Any] = {}
    for field in fields:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            data[field["name"]] = suggested
        elif "default" in field:
            data[field["name"]] = field["default"]
        elif field.get("type") == "expandable":
            inner = initial_data(field["schema"])
            if field.get("required") or inner:
                data[field["name"]] = inner
    return data


def all_required_filled(
    fields: list[Mapping[str, Any]], data: Mapping[str, Any]
) -> bool:
    """Whether the frontend lets the user submit `data` (recursing into sections)."""
    for field in fields:
        value = data.get(field["name"])
        if field.get("required") and value in ("", None):
            return False
        if field.get("type") == "expandable":
            if not field.get("required") and value is None:
                continue
            if not all_required_filled(field["schema"], value or {}):
                return False
    return True
