#!/usr/bin/env python3
"""
TEST HARNESS, NEVER SHIPPED: the ClickHouse HTTP interface on top of chdb (ClickHouse as a Python
package), so that the server's real ClickHouse client (@clickhouse/client) and its real SQL can be
tested where no clickhouse-server binary or image can be installed (issue 6). Production talks to a
real ClickHouse server; nothing in server/ imports or starts this file.

It serves the part of the HTTP interface the client uses:
- GET /ping and GET /ping-like `SELECT 'ping'` queries; GET /?query=... and POST / (query in the
  body, or in the `query` URL parameter with the body as insert data, e.g. FORMAT JSONEachRow);
- multipart/form-data bodies (the client sends large query parameters that way);
- query parameters `param_<name>` for {name:Type} placeholders (chdb parses them as the server does);
- `database`, `default_format`, and ClickHouse settings as URL parameters (applied with SET for the
  one query, then reset); gzip request bodies (Content-Encoding) and gzip responses when asked
  (enable_http_compression=1 and Accept-Encoding: gzip);
- errors as HTTP 500 with ClickHouse's own error text and X-ClickHouse-Exception-Code, so the
  client raises ClickHouseError as it would against a server.

One chdb Session (a persistent database directory) serves every connection; queries run one at a
time under a lock, which is all tests need (the SET and USE a request needs are part of the one
session's state, so they could not run concurrently anyway). The harness is also what the query
and migration benchmarks measure ClickHouse through (bench/query.ts --storage=clickhouse):
GET /harness/stats gives the seconds spent inside chdb on the requests' statements (engine_s),
on changing session settings (state_s) and in the request handler in all, up to sending the
answer (handler_s), so that the benchmark can separate engine time from harness time.
Usage: chdb_http.py --port 0 --path DIR; it prints `listening on PORT` once ready.
"""
import argparse
import gzip
import json
import os
import re
import sys
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chdb_session

# URL parameters that are part of the HTTP protocol rather than settings of the query.
PROTOCOL_PARAMS = {"query", "query_id", "database", "default_format", "session_id", "user", "password", "role",
                   "session_timeout", "session_check", "compress", "decompress"}
# Settings that only shape the HTTP exchange: the harness honours or ignores them itself.
HTTP_SETTINGS = {"wait_end_of_query", "enable_http_compression", "send_progress_in_http_headers",
                 "http_headers_progress_interval_ms", "http_response_buffer_size", "buffer_size",
                 "http_zlib_compression_level", "cancel_http_readonly_queries_on_client_close"}
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CODE = re.compile(r"Code: (\d+)")
# CHDB_HTTP_LOG=1 prints every query with its parameters and settings to stderr (debugging tests).
LOG = os.environ.get("CHDB_HTTP_LOG") == "1"
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)


class Engine:
    """One chdb Session, its session state (database, settings) tracked so that a request sends
    only the SET and USE statements that change it. Most requests repeat the same settings; setting
    and resetting them for each request took 8 extra statements for a read of the server (0.2-0.4 ms
    each, measured on a loaded 2-core machine), harness time that a real server does not spend."""

    def __init__(self, path):
        self.session = chdb_session.Session(path)
        self.lock = threading.Lock()
        self.database = "default"
        self.settings = {}
        # Seconds inside chdb for the requests' own statements, and in the handler in all: the
        # difference is what the harness adds (GET /harness/stats; the query benchmark reads it).
        self.stats = {"queries": 0, "engine_s": 0.0, "state_s": 0.0, "handler_s": 0.0, "result_bytes": 0}

    def run(self, sql, fmt, params, settings, database):
        with self.lock:
            t0 = time.perf_counter()
            self.apply_state(settings, database or "default")
            t1 = time.perf_counter()
            try:
                if params:
                    return self.session.query(sql, fmt, params=params)
                return self.session.query(sql, fmt)
            finally:
                t2 = time.perf_counter()
                self.stats["queries"] += 1
                self.stats["state_s"] += t1 - t0
                self.stats["engine_s"] += t2 - t1

    def apply_state(self, settings, database):
        if database != self.database:
            self.session.query(f"USE `{database}`")
            self.database = database
        for name in [n for n in self.settings if n not in settings]:
            del self.settings[name]
            try:
                self.session.query(f"SET {name} = DEFAULT")
            except Exception:  # noqa: BLE001 - a reset failure must not hide the answer
                pass
        for name, value in settings.items():
            if self.settings.get(name) != value:
                self.settings.pop(name, None)
                self.session.query(f"SET {name} = {literal(value)}")
                self.settings[name] = value


def literal(value):
    """A setting value as SQL: numbers and booleans as they are, anything else quoted."""
    if re.fullmatch(r"-?\d+(\.\d+)?", value) or value in ("true", "false"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out as two writes; with Nagle's algorithm the second waited for
    # the client's delayed ACK, about 40 ms on every request (measured: a SELECT 1 took 56 ms
    # through the client, of which 7 ms in chdb). A real server does not add this.
    disable_nagle_algorithm = True
    engine: Engine = None

    def log_message(self, fmt, *args):  # quiet: tests read their own output
        pass

    def do_GET(self):
        self.t0 = time.perf_counter()
        url = urlsplit(self.path)
        if url.path == "/harness/stats":
            with self.engine.lock:
                data = json.dumps(self.engine.stats).encode()
            return self.reply(200, data, {"Content-Type": "application/json"})
        if url.path in ("/ping", "/"):
            if url.path == "/ping" or not dict(parse_qsl(url.query)).get("query"):
                return self.reply(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
        self.handle_query(b"")

    def do_POST(self):
        self.t0 = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else self.read_chunked()
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        self.handle_query(body)

    def read_chunked(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return b""
        out = bytearray()
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()

    def handle_query(self, body):
        url = urlsplit(self.path)
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            parts = multipart(content_type, body)
            args.update(parts)
            body = b""
        params = {k[len("param_"):]: v for k, v in args.items() if k.startswith("param_")}
        settings = {k: v for k, v in args.items()
                    if k not in PROTOCOL_PARAMS and k not in HTTP_SETTINGS and not k.startswith("param_")}
        bad = [k for k in settings if not SETTING_NAME.match(k)]
        if bad:
            return self.error(f"Code: 115. DB::Exception: Unknown setting {bad[0]}. (UNKNOWN_SETTING)")
        if "query" in args:
            sql = args["query"]
            if body:
                sql = sql + "\n" + body.decode("utf-8")
        else:
            sql = body.decode("utf-8")
        if not sql.strip():
            return self.error("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
        fmt = args.get("default_format") or "TabSeparated"
        m = FORMAT_CLAUSE.search(sql.split("\n", 1)[0] if sql.lstrip().upper().startswith("INSERT") else sql)
        out_format = m.group(1) if m and not sql.lstrip().upper().startswith("INSERT") else fmt
        query_id = args.get("query_id") or str(uuid.uuid4())
        if LOG:
            print(json.dumps({"sql": sql[:2000], "params": params, "settings": settings}), file=sys.stderr, flush=True)
        started = time.time()
        try:
            result = self.engine.run(sql, fmt, params, settings, args.get("database"))
        except Exception as e:  # noqa: BLE001 - every engine error goes back as ClickHouse sends it
            return self.error(str(e), query_id)
        data = result.bytes()
        summary = {
            "read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
            "written_rows": str(result.rows_written()), "written_bytes": str(result.bytes_written()),
            "total_rows_to_read": "0", "result_rows": "0", "result_bytes": str(len(data)),
            "elapsed_ns": str(int((time.time() - started) * 1e9)),
        }
        headers = {
            "Content-Type": "application/json; charset=UTF-8" if "JSON" in out_format else "text/plain; charset=UTF-8",
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Format": out_format,
            "X-ClickHouse-Summary": json.dumps(summary),
        }
        if args.get("enable_http_compression") == "1" and "gzip" in self.headers.get("Accept-Encoding", ""):
            data = gzip.compress(data, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        # Counted before the answer is sent: once the client has it, it may ask for the counters.
        with self.engine.lock:
            self.engine.stats["handler_s"] += time.perf_counter() - self.t0
            self.engine.stats["result_bytes"] += len(data)
        self.reply(200, data, headers)

    def error(self, message, query_id=""):
        m = CODE.search(message)
        code = m.group(1) if m else "1000"
        if not m:
            message = f"Code: 1000. DB::Exception: {message}. (STD_EXCEPTION)"
        self.reply(500, (message.strip() + "\n").encode("utf-8"), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": code,
            "X-ClickHouse-Query-Id": query_id,
        })

    def reply(self, status, data, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def multipart(content_type, body):
    """The fields of a multipart/form-data body (query and param_* parts), as text."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    out = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            out[name] = part.get_payload(decode=True).decode("utf-8")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--path", required=True, help="chdb database directory (kept between runs)")
    a = ap.parse_args()
    Handler.engine = Engine(a.path)
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        Handler.engine.session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
