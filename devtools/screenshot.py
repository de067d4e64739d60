"""Screenshot a dashboard of the running demo with headless Chromium.

    scripts/develop                      # in one terminal; wait for the banner
    .venv/bin/python -m devtools.screenshot --out docs/images/dashboard.png

Logging in without a browser automation library: the login flow runs over REST, and
its authorization code is handed to the frontend in the URL, exactly as the login
page does after the password was entered (`?auth_callback=1&code=...&state=...`). The
frontend exchanges the code for tokens itself. Chromium then renders the page and
writes the screenshot when its virtual time budget is spent, which lets the charts
fetch their history and finish their animations.

The browser is Debian's `chromium` (or $CHROMIUM), started with networking limited
to what the page asks for: no component updates, sync or first-run checks.
"""

import argparse
import base64
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

from devtools.dashboard import DASHBOARD_URL_PATH
from devtools.ha_bootstrap import REPO_ROOT, Account, HomeAssistantApi, login_code

DEMO_ACCOUNT = Account(username="demo", password="demo-energy")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def logged_in_url(base_url: str, path: str, code: str) -> str:
    """The frontend URL that completes a login with an authorization code.

    `state` is what the frontend itself would have sent to the login page: its own
    address and client id, base64-encoded JSON; it accepts the code only if they
    match the page's address.
    """
    state = {"hassUrl": base_url, "clientId": f"{base_url}/"}
    query = urllib.parse.urlencode(
        {
            "auth_callback": "1",
            "code": code,
            "state": base64.b64encode(json.dumps(state).encode()).decode(),
        }
    )
    return f"{base_url}/{path}?{query}"


def chromium_command() -> str:
    """The Chromium executable: $CHROMIUM, else chromium on the PATH."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        msg = "screenshot: no chromium found (install it, or set $CHROMIUM)"
        raise SystemExit(msg)
    return found


def take_screenshot(
    url: str, out: Path, *, width: int, height: int, wait_s: float
) -> None:
    """Render url in a fresh profile and write a PNG of width x height pixels."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        argv = [
            chromium_command(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={int(wait_s * 1000)}",
            f"--screenshot={out}",
            url,
        ]
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=wait_s + 120, check=False
        )
    if completed.returncode != 0 or not out.exists():
        msg = f"screenshot: chromium failed ({completed.returncode}):\n{completed.stderr[-2000:]}"
        raise SystemExit(msg)


def main(argv: list[str] | None = None) -> int:
    """Log in to the demo, screenshot the dashboard, print where it went."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.screenshot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--path", default=DASHBOARD_URL_PATH, help="dashboard path")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "docs" / "images" / "dashboard.png"
    )
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument(
        "--wait", type=float, default=20.0, help="seconds of page time to render"
    )
    args = parser.parse_args(argv)
    base_url = args.url.rstrip("/")
    code = login_code(HomeAssistantApi(base_url), DEMO_ACCOUNT)
    take_screenshot(
        logged_in_url(base_url, args.path, code),
        args.out,
        width=args.width,
        height=args.height,
        wait_s=args.wait,
    )
    print(f"screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
