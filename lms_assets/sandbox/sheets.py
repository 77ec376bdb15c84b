"""A loopback stand-in of the Google Sheets API v4 and Google's OAuth token endpoint.

Only what the LTI report's gspread calls use: the service-account token exchange
(``POST /token``, a JWT signed with the account's key, verified here against the key
this stand-in issued), spreadsheet metadata (``GET /v4/spreadsheets/{id}``), adding a
worksheet (``:batchUpdate`` with ``addSheet``), and reading and writing a range of
values (``GET``/``PUT /v4/spreadsheets/{id}/values/{range}``). Every Sheets call needs
the issued bearer token (401 otherwise); an unknown spreadsheet is a 404, as at Google.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_EMAIL = "lms-report@sandbox-project.iam.gserviceaccount.com"
_VALUES = re.compile(r"^/v4/spreadsheets/(?P<id>[^/:]+)/values/(?P<range>[^/?]+)$")
_SPREADSHEET = re.compile(r"^/v4/spreadsheets/(?P<id>[^/:]+)(?P<batch>:batchUpdate)?$")
_CELL = re.compile(r"^(?P<col>[A-Z]+)(?P<row>[0-9]+)")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def split_range(a1: str) -> tuple[str, int, int]:
    """(worksheet title, first row, first column), 0-based, of ``'Title'!B2:G2`` or ``Title``."""
    title, _, cells = unquote(a1).partition("!")
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    match = _CELL.match(cells)
    if not match:
        return title, 0, 0
    return title, int(match["row"]) - 1, _column_index(match["col"])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._send(*self.server.stand_in.handle("GET", self.path, self.headers, b""))

    def do_POST(self) -> None:
        self._send(*self.server.stand_in.handle("POST", self.path, self.headers, self._body()))

    def do_PUT(self) -> None:
        self._send(*self.server.stand_in.handle("PUT", self.path, self.headers, self._body()))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stand_in: SheetsStandIn


class SheetsStandIn:
    """Spreadsheets in memory (id -> worksheet title -> rows of strings), served on loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.spreadsheets: dict[str, dict[str, list[list[str]]]] = {}
        self.tokens: set[str] = set()
        self.calls: list[str] = []  # "METHOD path" of every Sheets call
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.stand_in = self

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SheetsStandIn:
        threading.Thread(target=self._server.serve_forever, name="sheets", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SheetsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_spreadsheet(self, spreadsheet_id: str | None = None) -> str:
        spreadsheet_id = spreadsheet_id or "sandbox-" + secrets.token_hex(8)
        self.spreadsheets.setdefault(spreadsheet_id, {"Sheet1": []})
        return spreadsheet_id

    def service_account_info(self) -> dict[str, str]:
        """A service-account JSON whose token_uri is this stand-in, with the key it checks."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "sandbox-project",
            "private_key_id": "sandbox-key-1",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "1",
            "token_uri": f"{self.base_url}/token",
        }

    def credentials_base64(self) -> str:
        """What GOOGLE_SHEETS_CREDENTIALS_BASE64 holds for this stand-in."""
        return base64.b64encode(json.dumps(self.service_account_info()).encode()).decode()

    def environment(self, spreadsheet_id: str) -> dict[str, str]:
        return {
            "GOOGLE_SHEETS_CREDENTIALS_BASE64": self.credentials_base64(),
            "SPREADSHEET_ID": spreadsheet_id,
            "LMS_SHEETS_API_URL": self.base_url,
        }

    # -- the API ---------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        url = urlsplit(path)
        if method == "POST" and url.path == "/token":
            return self._token(body)
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return 401, {"error": {"code": 401, "message": "Request had invalid credentials."}}
        with self._lock:
            self.calls.append(f"{method} {url.path}")
            if match := _VALUES.match(url.path):
                if match["id"] not in self.spreadsheets:
                    return 404, {"error": {"code": 404, "message": "Requested entity not found."}}
                if method == "GET":
                    return self._read(match["id"], match["range"])
                if method == "PUT":
                    return self._write(match["id"], match["range"], json.loads(body or b"{}"))
            if match := _SPREADSHEET.match(url.path):
                if match["id"] not in self.spreadsheets:
                    return 404, {"error": {"code": 404, "message": "Requested entity not found."}}
                if match["batch"] and method == "POST":
                    return self._batch_update(match["id"], json.loads(body or b"{}"))
                if method == "GET":
                    return 200, self._metadata(match["id"])
        return 400, {"error": {"code": 400, "message": f"not served by the stand-in: {path}"}}

    def _token(self, body: bytes) -> tuple[int, Any]:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        try:
            header, payload, signature = form["assertion"].split(".")
            self._key.public_key().verify(
                _b64decode(signature),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(_b64decode(payload))
        except Exception:  # any malformed or wrongly signed assertion
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if claims.get("iss") != CLIENT_EMAIL:
            return 400, {"error": "invalid_grant", "error_description": "Unknown issuer."}
        token = "ya29.sandbox-" + secrets.token_hex(12)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _metadata(self, spreadsheet_id: str) -> dict[str, Any]:
        sheets = self.spreadsheets[spreadsheet_id]
        return {
            "spreadsheetId": spreadsheet_id,
            "properties": {"title": "LMS report (sandbox)"},
            "sheets": [
                {
                    "properties": {
                        "sheetId": index,
                        "title": title,
                        "index": index,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": 1000, "columnCount": 26},
                    }
                }
                for index, title in enumerate(sheets)
            ],
        }

    def _batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        replies = []
        for request in body.get("requests", []):
            if "addSheet" not in request:
                return 400, {"error": {"code": 400, "message": "only addSheet is served"}}
            title = request["addSheet"]["properties"]["title"]
            self.spreadsheets[spreadsheet_id].setdefault(title, [])
            index = list(self.spreadsheets[spreadsheet_id]).index(title)
            properties = self._metadata(spreadsheet_id)["sheets"][index]["properties"]
            replies.append({"addSheet": {"properties": properties}})
        return 200, {"spreadsheetId": spreadsheet_id, "replies": replies}

    def _sheet(self, spreadsheet_id: str, a1: str) -> tuple[list[list[str]] | None, int, int]:
        title, row, column = split_range(a1)
        return self.spreadsheets[spreadsheet_id].get(title), row, column

    def _read(self, spreadsheet_id: str, a1: str) -> tuple[int, Any]:
        rows, _, _ = self._sheet(spreadsheet_id, a1)
        if rows is None:
            return 400, {"error": {"code": 400, "message": f"Unable to parse range: {a1}"}}
        return 200, {"range": unquote(a1), "majorDimension": "ROWS", "values": rows}

    def _write(self, spreadsheet_id: str, a1: str, body: dict[str, Any]) -> tuple[int, Any]:
        rows, first_row, first_column = self._sheet(spreadsheet_id, a1)
        if rows is None:
            return 400, {"error": {"code": 400, "message": f"Unable to parse range: {a1}"}}
        values = body.get("values", [])
        for offset, new in enumerate(values):
            while len(rows) <= first_row + offset:
                rows.append([])
            row = rows[first_row + offset]
            row.extend([""] * (first_column + len(new) - len(row)))
            row[first_column : first_column + len(new)] = ["" if v is None else str(v) for v in new]
        return 200, {
            "spreadsheetId": spreadsheet_id,
            "updatedRange": unquote(a1),
            "updatedRows": len(values),
            "updatedCells": sum(map(len, values)),
        }

    def rows(self, spreadsheet_id: str, title: str) -> list[list[str]]:
        return [list(row) for row in self.spreadsheets[spreadsheet_id].get(title, [])]
