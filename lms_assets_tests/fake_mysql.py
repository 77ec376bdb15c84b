"""A rogue MySQL server on loopback, speaking just enough of the protocol for the tests.

It greets with a v10 handshake, accepts any login, answers SHOW VARIABLES / SELECT with
one-row text results (what SQLAlchemy's dialect asks on its first connect) and every
other statement with OK; a statement containing ``trigger`` is answered with a LOAD
LOCAL request (0xFB) for ``requested_file``, and whatever the client sends back is
recorded in ``received``. With ``advertise_ssl`` it offers TLS and records the client's
SSLRequest, then hangs up (it has no certificate): enough to see what the client asked.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from types import TracebackType

CLIENT_SSL = 0x800
_CAPABILITIES = (
    0x1 | 0x2 | 0x4 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000
)  # long password, found rows, long flag, with db, LOCAL_FILES, 4.1, transactions,
# secure connection, multi results, plugin auth
_VARIABLES = {
    "sql_mode": "STRICT_TRANS_TABLES",
    "lower_case_table_names": "0",
    "transaction_isolation": "REPEATABLE-READ",
    "tx_isolation": "REPEATABLE-READ",
}


class FakeMySQLServer:
    def __init__(
        self, requested_file: str = "", trigger: str = "", advertise_ssl: bool = False
    ) -> None:
        self.requested_file = requested_file
        self.trigger = trigger
        self.advertise_ssl = advertise_ssl
        self.received = bytearray()  # file content the client sent after a LOAD LOCAL request
        self.load_requests = 0
        self.queries: list[str] = []
        self.client_flags: list[int] = []  # capability flags of each login or SSLRequest
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> FakeMySQLServer:
        self._accepting.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(OSError):  # wakes the blocked accept() (close alone does not)
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._accepting.join(timeout=5)
        for client in self._clients:  # pooled client connections: end their sessions too
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def url(self, query: str = "") -> str:
        return f"mysql+pymysql://rogue:pw@127.0.0.1:{self.port}/lms{query}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    # -- protocol -----------------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        with sock, contextlib.suppress(OSError):  # OSError: the client hung up
            self._session(sock)

    def _session(self, sock: socket.socket) -> None:
        caps = _CAPABILITIES | (CLIENT_SSL if self.advertise_ssl else 0)
        greeting = (
            b"\x0a5.7.99-fake\x00"
            + struct.pack("<I", 1)
            + b"abcdefgh\x00"
            + struct.pack("<HBHH", caps & 0xFFFF, 45, 2, caps >> 16)
            + bytes([21])
            + b"\x00" * 10
            + b"ijklmnopqrst\x00mysql_native_password\x00"
        )
        _send(sock, 0, greeting)
        seq, login = _recv(sock)
        self.client_flags.append(struct.unpack("<I", login[:4])[0])
        if len(login) == 32:  # an SSLRequest: TLS next, which this server cannot do
            return
        _send(sock, seq + 1, _ok())
        while True:
            _, command = _recv(sock)
            if command[:1] == b"\x01":  # COM_QUIT
                return
            if command[:1] != b"\x03":  # COM_PING and the like
                _send(sock, 1, _ok())
                continue
            query = command[1:].decode()
            self.queries.append(query)
            if self.trigger and self.trigger in query:
                self._ask_for_file(sock)
            elif match := re.match(r"SHOW VARIABLES LIKE '(\w+)'", query):
                name = match.group(1)
                _result(sock, ["Variable_name", "Value"], [[name, _VARIABLES.get(name, "")]])
            elif query.startswith("SHOW WARNINGS"):
                _result(sock, ["Level", "Code", "Message"], [])
            elif query.upper().startswith("SELECT"):
                variable = re.search(r"@@(?:\w+\.)?(\w+)", query)
                answer = _VARIABLES.get(variable.group(1), "") if variable else "5.7.99-fake"
                _result(sock, ["value"], [[answer]])
            else:
                _send(sock, 1, _ok())

    def _ask_for_file(self, sock: socket.socket) -> None:
        self.load_requests += 1
        _send(sock, 1, b"\xfb" + self.requested_file.encode())
        seq = 1
        while True:  # the client's file, in packets, ended by an empty one
            seq, chunk = _recv(sock)
            if not chunk:
                break
            self.received += chunk
        _send(sock, seq + 1, _ok())


def _ok() -> bytes:
    return b"\x00\x00\x00" + struct.pack("<HH", 2, 0)


def _lenenc(value: bytes) -> bytes:
    return bytes([len(value)]) + value  # short values only


def _result(sock: socket.socket, columns: list[str], rows: list[list[str]]) -> None:
    packets = [bytes([len(columns)])]
    for name in columns:
        packets.append(
            b"".join(_lenenc(part) for part in (b"def", b"", b"", b"", name.encode(), b""))
            + b"\x0c"
            + struct.pack("<HIBHB", 45, 255, 0xFD, 0, 0)
            + b"\x00\x00"
        )
    eof = b"\xfe" + struct.pack("<HH", 0, 2)
    packets += [eof, *(b"".join(_lenenc(v.encode()) for v in row) for row in rows), eof]
    for seq, payload in enumerate(packets, start=1):
        _send(sock, seq, payload)


def _send(sock: socket.socket, seq: int, payload: bytes) -> None:
    sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq % 256]) + payload)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def _recv(sock: socket.socket) -> tuple[int, bytes]:
    header = _recv_exactly(sock, 4)
    length = int.from_bytes(header[:3], "little")
    return header[3], _recv_exactly(sock, length)
