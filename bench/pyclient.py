"""A pure-Python HTTP QQ client (socket and hand-parsing, no C extension):
the baseline of the Python benchmarks. It does what the native module does
for the same exchanges: posts the body, reads the reply, checks CMD/SEQ/RES
and builds one object per message or friend, with the text percent-decoded.
"""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import unquote


class Message:
    __slots__ = ("kind", "sender", "text")

    def __init__(self, kind: int, sender: int, text: str) -> None:
        self.kind, self.sender, self.text = kind, sender, text


def _encode(value: str) -> str:
    out = []
    for ch in value:
        if ch in "%&=,+" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("".join(f"%{b:02X}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


class PureClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0, keep_alive: bool = False) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.keep_alive = keep_alive
        self.sock: socket.socket | None = None
        self.seq = 0

    def _exchange_kept(self, request: bytes) -> bytes:
        """One request on the kept connection: the reply read by its
        Content-Length."""
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            rest += chunk
        return head + b"\r\n\r\n" + rest

    def _post(self, fields: list[tuple[str, str]]) -> dict[str, str]:
        self.seq = self.seq % 65535 + 1
        body = "&".join(f"{k}={v}" for k, v in [("VER", "1.1")] + fields[:1] + [("SEQ", str(self.seq))] + fields[1:])
        data = body.encode("utf-8")
        connection = "" if self.keep_alive else "Connection: close\r\n"
        request = (
            f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: text/plain; charset=UTF-8\r\n{connection}"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode("ascii") + data
        if self.keep_alive:
            raw = self._exchange_kept(request)
        else:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(request)
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            raw = b"".join(chunks)
        if not raw:
            raise ConnectionError("no reply")
        head, _, reply = raw.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(head[:40].decode("latin-1"))
        fields_out = {}
        for pair in reply.decode("utf-8", "replace").split("&"):
            if pair.strip():
                key, _, value = pair.partition("=")
                fields_out[key.strip()] = value
        if fields_out.get("SEQ", "").strip() != str(self.seq):
            raise ValueError("SEQ mismatch")
        if fields_out.get("RES", "").strip() != "0":
            raise RuntimeError(f"RES={fields_out.get('RES')}")
        return fields_out

    def login(self, uin: int, password: str) -> None:
        self.uin = uin
        digest = hashlib.md5(password.encode("utf-8")).hexdigest()
        reply = self._post([("CMD", "Login"), ("UIN", str(uin)), ("PS", digest), ("M5", "1"), ("LC", "9326B87B234E7235")])
        if reply.get("RS", "").strip() != "0":
            raise RuntimeError("login refused")

    def messages(self) -> list[Message]:
        reply = self._post([("CMD", "GetMsgEx"), ("UIN", str(self.uin))])
        items = [reply.get(k, "") for k in ("MT", "UN", "MG")]
        kinds, senders, texts = (v[:-1].split(",") if v.endswith(",") else (v.split(",") if v else []) for v in items)
        if not (len(kinds) == len(senders) == len(texts)):
            raise ValueError("list lengths differ")
        return [Message(int(k), int(u), unquote(t)) for k, u, t in zip(kinds, senders, texts)]

    def friends(self, max_entries: int = 500) -> list[int]:
        reply = self._post([("CMD", "List"), ("UIN", str(self.uin)), ("TN", str(max_entries)), ("UN", "0")])
        value = reply.get("UN", "")
        items = value[:-1].split(",") if value.endswith(",") else (value.split(",") if value else [])
        return [int(u) for u in items]

    def send(self, target: int, text: str) -> None:
        self._post([("CMD", "CLTMSG"), ("UIN", str(self.uin)), ("UN", str(target)), ("MG", _encode(text))])
