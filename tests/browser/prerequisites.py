"""What the browser tests need, checked without importing Playwright."""

import importlib.util
import os
import shutil
import warnings

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PLAYWRIGHT_MISSING = importlib.util.find_spec("playwright") is None


def in_ci() -> bool:
    """Whether this run is CI's: there a missing browser is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def chromium_executable() -> str | None:
    """$CHROMIUM, else chromium on the PATH, else Debian's /usr/bin/chromium."""
    candidates = [
        os.environ.get("CHROMIUM"),
        shutil.which("chromium"),
        "/usr/bin/chromium",
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def missing_prerequisites() -> list[str]:
    """What the browser tests lack on this machine (empty when they can run)."""
    missing = []
    if PLAYWRIGHT_MISSING:
        missing.append(
            "the Python package playwright is not installed in this environment "
            "(scripts/setup installs requirements_test.txt)"
        )
    if chromium_executable() is None:
        missing.append(
            "Chromium is not installed (Debian: `apt-get install chromium`; "
            "or point $CHROMIUM at a Chromium executable)"
        )
    return missing


def require_browser() -> None:
    """Fail (CI) or skip with a warning (elsewhere) when the browser tests cannot run."""
    missing = missing_prerequisites()
    if not missing:
        return
    message = "BROWSER TESTS NOT RUN: " + "; ".join(missing)
    if in_ci():
        pytest.fail(message, pytrace=False)
    warnings.warn(message, pytest.PytestWarning, stacklevel=1)
    pytest.skip(message)
