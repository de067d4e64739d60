"""A small blocking client of Home Assistant's WebSocket API, on the standard library.

Some settings have no REST endpoint (the HTTP server settings that must be confirmed, the
Energy dashboard's preferences), only WebSocket commands, which is what the frontend uses.
This client speaks just enough RFC 6455 for request/response commands: unfragmented or
fragmented text frames, ping/pong and close, no extensions. Blocking sockets keep it free
of event loops and threads, which the test plugin would flag as left behind.
"""

import base64
from collections.abc import Mapping
from contextlib import suppress
import hashlib
import json
import os
import socket
import struct
from types import TracebackType
from typing import Any, Self
import urllib.parse

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_CONTINUATION, _OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA
_LEN_16, _LEN_64 = 126, 127


class WebSocketError(RuntimeError):
    """The connection failed, or a command answered with an error."""

    def __init__(self, message: str, code: str | None = None) -> None:
        """Keep Home Assistant's error code (e.g. "unknown_command") when there is one."""
        super().__init__(message)
        self.code = code


class HomeAssistantWebSocket:
    """One authenticated connection to /api/websocket; use it as a context manager."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        """Prepare a connection to base_url (http://host:port) with an access token."""
        url = urllib.parse.urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            msg = f"only plain http:// URLs are supported, not {base_url!r}"
            raise WebSocketError(msg)
        self._host = url.hostname
        self._port = url.port or 80
        self._token = token
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._next_id = 1

    def __enter__(self) -> Self:
        """Connect, upgrade to WebSocket and authenticate."""
        self._sock = socket.create_connection((self._host, self._port), self._timeout)
        try:
            self._handshake()
            self._authenticate()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection."""
        self.close()

    def close(self) -> None:
        """Send a close frame (best effort) and close the socket."""
        if self._sock is None:
            return
        with suppress(OSError):
            self._send_frame(_OP_CLOSE, struct.pack("!H", 1000))
        self._sock.close()
        self._sock = None

    def call(self, command: str, **payload: Any) -> Any:
        """Send one command and return its result; raise WebSocketError on an error."""
        msg_id = self._next_id
        self._next_id += 1
        self._send_json({"id": msg_id, "type": command, **payload})
        while True:
            message = self._receive_json()
            if message.get("id") != msg_id or message.get("type") != "result":
                continue  # events of earlier subscriptions; none are made here
            if message.get("success"):
                return message.get("result")
            error = message.get("error") or {}
            msg = f"{command}: {error.get('message', message)}"
            raise WebSocketError(msg, error.get("code"))

    # --- protocol ---------------------------------------------------------------------

    def _handshake(self) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET /api/websocket HTTP/1.1\r\n"
            f"Host: {self._host}:{self._port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self._socket().sendall(request.encode())
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        if " 101 " not in lines[0]:
            msg = f"WebSocket upgrade refused: {lines[0]}"
            raise WebSocketError(msg)
        accept = base64.b64encode(
            hashlib.sha1((key + _GUID).encode(), usedforsecurity=False).digest()
        ).decode()
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        if headers.get("sec-websocket-accept") != accept:
            msg = "WebSocket upgrade answered with a wrong Sec-WebSocket-Accept"
            raise WebSocketError(msg)

    def _authenticate(self) -> None:
        if (first := self._receive_json()).get("type") != "auth_required":
            msg = f"unexpected greeting: {first}"
            raise WebSocketError(msg)
        self._send_json({"type": "auth", "access_token": self._token})
        if (answer := self._receive_json()).get("type") != "auth_ok":
            msg = f"authentication failed: {answer.get('message', answer)}"
            raise WebSocketError(msg)

    def _send_json(self, message: Mapping[str, Any]) -> None:
        self._send_frame(_OP_TEXT, json.dumps(message).encode())

    def _receive_json(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self._receive_message())
        return message

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        """Send one final frame; a client masks every frame it sends."""
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < _LEN_16:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | _LEN_16]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | _LEN_64]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket().sendall(header + mask + masked)

    def _receive_message(self) -> str:
        """Read frames until a complete text message; answer pings on the way."""
        parts: list[bytes] = []
        while True:
            final, opcode, payload = self._receive_frame()
            if opcode == _OP_PING:
                self._send_frame(_OP_PONG, payload)
            elif opcode == _OP_CLOSE:
                msg = "Home Assistant closed the WebSocket connection"
                raise WebSocketError(msg)
            elif opcode in (_OP_TEXT, _OP_CONTINUATION):
                parts.append(payload)
                if final:
                    return b"".join(parts).decode()

    def _receive_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == _LEN_16:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == _LEN_64:
            (length,) = struct.unpack("!Q", self._read(8))
        mask = self._read(4) if second & 0x80 else None
        payload = self._read(length)
        if mask is not None:
            payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _fill(self) -> None:
        chunk = self._socket().recv(65536)
        if not chunk:
            msg = "connection closed by Home Assistant"
            raise WebSocketError(msg)
        self._buffer += chunk

    def _socket(self) -> socket.socket:
        if self._sock is None:
            msg = "not connected"
            raise WebSocketError(msg)
        return self._sock
