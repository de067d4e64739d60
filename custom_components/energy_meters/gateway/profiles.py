"""Where the integration finds meter profiles: built in, and the user's own.

User profiles live in `<config>/energy_meters/profiles/*.yaml`, next to the
rest of the user's configuration, so they survive updates of the integration.
Files are read in the executor: profile loading touches the disk.

A broken user file never stops the integration: it is skipped, and a repair
issue names the file, the key and what is wrong with it, because a log line
is where nobody looks when a meter is missing from the dropdown. Every load
(setting up a gateway, opening a meter form) brings the issues up to date, so
an issue disappears as soon as its file loads again, or is deleted. A file
refused before its content is read (too large, not UTF-8, duplicate keys,
YAML aliases that expand too far, too many registers) gets a message of its
own, in the user's language; any other mistake is told in the words of the
validator.
"""

from pathlib import Path

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN, LOGGER as _LOGGER
from ..meterlib.profiles import (
    BUILTIN_PROFILE_DIR,
    ProfileError,
    ProfileSet,
    Refusal,
    load_profile_dirs,
)

USER_PROFILE_SUBDIR = ("energy_meters", "profiles")
BROKEN_PROFILE_ISSUE_PREFIX = "broken_profile_"
# The issue text for each kind of refusal (translations: issues.<key>).
BROKEN_PROFILE_TRANSLATION_KEYS: dict[Refusal, str] = {
    Refusal.INVALID: "broken_profile",
    Refusal.TOO_LARGE: "broken_profile_too_large",
    Refusal.NOT_UTF8: "broken_profile_not_utf8",
    Refusal.DUPLICATE_KEY: "broken_profile_duplicate_key",
    Refusal.TOO_MANY_VALUES: "broken_profile_too_many_values",
    Refusal.TOO_MANY_REGISTERS: "broken_profile_too_many_registers",
}


def user_profile_dir(hass: HomeAssistant) -> Path:
    """The folder a user drops their own profile files into."""
    return Path(hass.config.path(*USER_PROFILE_SUBDIR))


def broken_profile_issue_id(file_name: str) -> str:
    """One issue per file: a second error in the same file replaces the first."""
    return f"{BROKEN_PROFILE_ISSUE_PREFIX}{file_name}"


async def async_load_profiles(hass: HomeAssistant) -> ProfileSet:
    """Built-in profiles first, then the user's; broken files are reported, not fatal.

    The files are read in a worker thread, bounded in size and in what their
    YAML expands to, so a hostile file costs the event loop nothing and is
    reported within a second.
    """
    loaded = await hass.async_add_executor_job(
        load_profile_dirs, [BUILTIN_PROFILE_DIR, user_profile_dir(hass)]
    )
    for error in loaded.errors:
        _LOGGER.warning("Skipping meter profile %s", error)
    async_report_broken_profiles(hass, loaded.errors)
    return loaded


@callback
def async_report_broken_profiles(
    hass: HomeAssistant, errors: tuple[ProfileError, ...]
) -> None:
    """Raise an issue for each broken file and drop those of files now fixed.

    Only user files can be broken (the built-in ones are tested), so the
    file is named by its path inside the configuration folder, where the
    user finds it.
    """
    current = {broken_profile_issue_id(error.source): error for error in errors}
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if (
            domain == DOMAIN
            and issue_id.startswith(BROKEN_PROFILE_ISSUE_PREFIX)
            and issue_id not in current
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, error in current.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=BROKEN_PROFILE_TRANSLATION_KEYS[error.refusal],
            translation_placeholders={
                **error.details,
                "file": "/".join((*USER_PROFILE_SUBDIR, error.source)),
                "key": error.key,
                "reason": error.reason,
            },
        )
