"""Where the integration finds meter profiles: built in, and the user's own.

User profiles live in `<config>/energy_meters/profiles/*.yaml`, next to the
rest of the user's configuration, so they survive updates of the integration.
Files are read in the executor: profile loading touches the disk.
"""

import logging
from pathlib import Path

from homeassistant.core import HomeAssistant

from .meterlib.profiles import BUILTIN_PROFILE_DIR, ProfileSet, load_profile_dirs

_LOGGER = logging.getLogger(__package__)

USER_PROFILE_SUBDIR = ("energy_meters", "profiles")


def user_profile_dir(hass: HomeAssistant) -> Path:
    """The folder a user drops their own profile files into."""
    return Path(hass.config.path(*USER_PROFILE_SUBDIR))


async def async_load_profiles(hass: HomeAssistant) -> ProfileSet:
    """Built-in profiles first, then the user's; broken files are reported, not fatal."""
    loaded = await hass.async_add_executor_job(
        load_profile_dirs, [BUILTIN_PROFILE_DIR, user_profile_dir(hass)]
    )
    for error in loaded.errors:
        _LOGGER.warning("Skipping meter profile %s", error)
    return loaded
