"""Run a fake service's aiohttp application on a TCP port, and stop it cleanly."""

from aiohttp import web


class ServiceServer:
    """An aiohttp application bound to one host and port (0: any free port)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        """Prepare; nothing listens before `start`."""
        self._app = app
        self.host = host
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port = port

    @property
    def url(self) -> str:
        """The base URL clients use."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen; afterwards `port` is the real port, also when 0 was asked for."""
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close the listening socket and every open connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
