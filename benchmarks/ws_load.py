"""A class of 50 on one core: browserless load test of the dashboard, on Streamlit's own wire protocol.

    python benchmarks/ws_load.py --pin                  # the issue's table: sessions 1 10 25 50, 10 alpha
                                                        # changes each, think 0-10 s, then saturation
                                                        # (15-20 minutes on 2 cores)
    python benchmarks/ws_load.py --sessions 1 10 --think 2 --changes 5    # a shorter look
    python benchmarks/ws_load.py --quick                # CI: 3 sessions x 2 changes, no think time, both
                                                        # apps; exits 1 on any error or protocol change

Why: the hosted demo's real use is a teacher sharing a link with a class of about 50 students who move
sliders. Streamlit serves every session from one Python process (one GIL), so the class's capacity is the
server's CPU per rerun. benchmarks/load.py drives real Chromium tabs, and on 2 cores the browsers, not the
server, dominated its numbers. This client does on the wire what a tab does, at a tiny fraction of a
browser's cost, so 50 sessions fit beside the server and what is measured is the server:

  * GET `/` and the static files the page links (<script src>, <link href> of stylesheets, module
    preloads, preloads, icons; once per session, up to 6 keep-alive connections at a time as a browser,
    a request on one the server has closed meanwhile sent again on a new one; the JS chunks the app's
    code imports on demand are not fetched), then `_stcore/health` (sets the XSRF cookie) and
    `_stcore/host-config`, as the frontend does before it connects;
  * the websocket `_stcore/stream` (the `websockets` client, a Streamlit dependency: 1.67 serves with
    uvicorn and starlette; subprotocols `streamlit` + the XSRF cookie's value, Origin and the cookie as a
    browser sends them), then BackMsg `rerun_script` with a ClientState: the URL's query
    string, the page script hash (from ForwardMsg `new_session`; "" with the page name from the URL
    before the first one), the widget states the session holds, the hashes of the ForwardMsgs it has
    cached, and the browser context (timezone, locale, URL);
  * ForwardMsgs read until a `script_finished` that is not FINISHED_EARLY_FOR_RERUN. Widgets are learned
    from the deltas (a keyed widget's id ends with `-<key>`) and their values held as the frontend holds
    them: the value the server pushes (`set_value`), else the value held already, else the default; a
    widget that is no longer drawn after a finished run is forgotten. A change sends the new value
    together with every other held state. The α slider (key `alpha`) is a select_slider whose state is
    a `string_array_value` with the formatted option (f"{v:g}");
  * the frontend's ForwardMsg cache: a delta marked `metadata.cacheable` (>= 10 kB) is kept by its hash,
    the hashes go back in every `rerun_script`, the server then sends `ref_hash` references instead,
    resolved from the cache (a miss is a protocol error), and entries not used for
    `new_session.config.max_cached_message_age` finished runs are dropped.

The dashboard (`streamlit_app.py`) and benchmarks/minimal_app.py (one select_slider and two small
Altair charts) each get their own `streamlit run` (devtools.browser.streamlit_command, free loopback port,
with --pin both on CPU 0 and this client on the other CPUs); every phase runs on one app and then the other
(alternating which goes first), so both see the same machine. Each server is warmed up first (one session,
two changes; its imports and first run are not a student's cost). Phases, on the same servers in order,
as a lesson would go (the app's shared st.cache_resource sees every α any session has asked for):

  1. for each N in --sessions: N sessions connect at once (the last of them waits for all the others'
     static files and first runs), then each makes --changes α changes with a uniform 0..--think s pause
     before each. The largest N is "the class run". Every session walks its own random sequence over the
     slider's stable part (α <= 0.8; plain GD diverges past α_max ~ 0.95 on the default data).
  2. saturation: the largest N sessions, --changes changes each, no think time: reruns/s the server
     sustains, and its CPU per rerun.

Reported per app and phase: first load (GET + static files + websocket + first script_finished) p50, p95
and the last one; rerun latency (rerun_script sent to its script_finished) p50 / p95 / max; errors; server
CPU (utime + stime from /proc of the server and its child processes) per first load, over the phase until
every session had loaded, and per rerun, over the rest (with think time that includes the idle server's
own CPU, a few ms a second; the table takes it from the saturation phase, which has none); reruns/s;
server RSS, peak = VmHWM; with --pin, how busy CPU 0 was and how much of that was the server (the machine
may be shared). An error is a run that does not finish successfully (a compile error, the page not
found), an exception element in a delta, a timeout or closed socket, a traceback in the server's log, a
cached-message miss, and a session whose URL query (ForwardMsg `page_info_changed`) does not show the α
it set itself (another session's value) or shows a changed value of another setting (a widget state
sent wrong).

Then one table (the issue's): CPU per rerun app / minimal (target <= 1.3x), saturation app / minimal
(>= 0.75x), class-run errors (0), class-run rerun p95 app / minimal (<= 1.5x), class-run last first load
app / minimal (<= 1.5x), server peak RSS (<= 500 MB), PASS or FAIL each (--quick: errors only, the timing
rows are shown without a verdict). Exits 1 on any error (any mode), 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import streamlit
from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from devtools.browser import free_loopback_port, stop_process_group, streamlit_command

REPO_ROOT = Path(__file__).resolve().parents[1]
APPS = {"app": "streamlit_app.py", "minimal": "benchmarks/minimal_app.py"}
ALPHA_KEY = "alpha"
STABLE_ALPHA_MAX = 0.8
TARGET_CPU_RATIO, TARGET_SATURATION_RATIO, TARGET_P95_RATIO, TARGET_FIRST_LOAD_RATIO = 1.3, 0.75, 1.5, 1.5
PEAK_RSS_LIMIT_MB = 500.0
RERUN_TIMEOUT_S = 120.0
FIRST_LOAD_TIMEOUT_S = 240.0
SERVER_START_TIMEOUT_S = 90.0
HTTP_CONNECTIONS = 6  # a browser's connections per host
ASSET_RELS = {"stylesheet", "modulepreload", "preload", "icon", "shortcut icon"}
FINISHED = ForwardMsg.ScriptFinishedStatus


class ProtocolError(Exception):
    """The server said something a browser tab would not understand (or not expect)."""


# What ends a session with an error: a timeout, a closed or broken socket, a protocol surprise.
SESSION_ERRORS = (
    TimeoutError,
    ProtocolError,
    DecodeError,
    WebSocketException,
    OSError,
    ValueError,
    IndexError,
)


# ------------------------------------------------------------------------------------------ HTTP (first load)
class AssetLinks(HTMLParser):
    """The static files an HTML page makes a browser fetch: <script src> and <link href> of a fetched kind."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "script" and attr.get("src"):
            self.links.append(str(attr["src"]))
        elif tag == "link" and attr.get("href") and (attr.get("rel") or "").lower() in ASSET_RELS:
            self.links.append(str(attr["href"]))


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to the server (GET only, Content-Length or chunked bodies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.answered = False  # the server began its answer to the request in flight

    async def get(self, path: str, cookies: dict[str, str]) -> tuple[int, dict[str, list[str]], bytes]:
        """GET path. A reused connection the server has closed meanwhile (uvicorn drops idle keep-alive
        connections after 5 s) gets the request again on a new one, as a browser does."""
        if self.writer is not None and not self.writer.is_closing():
            try:
                return await self._get(path, cookies)
            except ConnectionError:
                if self.answered:
                    raise
                await self.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return await self._get(path, cookies)

    async def _get(self, path: str, cookies: dict[str, str]) -> tuple[int, dict[str, list[str]], bytes]:
        assert self.reader is not None and self.writer is not None
        self.answered = False
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "User-Agent: gdlab-ws-load",
            "Accept: */*",
            "Accept-Encoding: gzip, deflate",
            "Connection: keep-alive",
        ]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError(f"GET {path}: the server closed the connection")
        self.answered = True
        status = int(status_line.split()[1])
        headers: dict[str, list[str]] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            body = bytearray()
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                body += await self.reader.readexactly(size)
                await self.reader.readline()
            while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            body = bytes(body)
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"][0]))
        else:
            body = await self.reader.read()
            await self.close()
        if "close" in ",".join(headers.get("connection", [])).lower():
            await self.close()
        return status, headers, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


async def load_page(port: int) -> tuple[dict[str, str], int, int]:
    """What a tab fetches before it opens the websocket: the page, its static files, the health check
    and the host config. Returns (cookies, files fetched, bytes fetched); raises on a non-200 answer."""
    connections = [HttpConnection(port) for _ in range(HTTP_CONNECTIONS)]
    cookies: dict[str, str] = {}
    fetched = [0, 0]

    async def get(conn: HttpConnection, path: str) -> bytes:
        status, headers, body = await conn.get(path, cookies)
        if status != 200:
            raise ProtocolError(f"GET {path}: HTTP {status}")
        for cookie in headers.get("set-cookie", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            cookies[name.strip()] = value.strip()
        fetched[0] += 1
        fetched[1] += len(body)
        return body

    try:
        parser = AssetLinks()
        parser.feed((await get(connections[0], "/")).decode("utf-8", errors="replace"))
        base = f"http://127.0.0.1:{port}/"
        paths = list(dict.fromkeys(urlsplit(urljoin(base, link)).path for link in parser.links))
        if not paths:
            raise ProtocolError("the page links no static files (a changed index.html?)")
        queue: asyncio.Queue[str] = asyncio.Queue()
        for path in paths:
            queue.put_nowait(path)

        async def worker(conn: HttpConnection) -> None:
            while not queue.empty():
                await get(conn, queue.get_nowait())

        await asyncio.gather(*(worker(conn) for conn in connections))
        await asyncio.gather(
            get(connections[0], "/_stcore/health"), get(connections[1], "/_stcore/host-config")
        )
    finally:
        await asyncio.gather(*(conn.close() for conn in connections))
    return cookies, fetched[0], fetched[1]


# ------------------------------------------------------------------------------------------ protocol state
class MessageCache:
    """The frontend's ForwardMsg cache (1.67): cacheable deltas by hash, referenced later by `ref_hash`."""

    def __init__(self) -> None:
        self.entries: dict[str, list] = {}  # hash -> [serialized ForwardMsg, run count when last used]
        self.run_count = 0
        self.hits = 0

    def process(self, msg: ForwardMsg, raw: bytes) -> ForwardMsg:
        """Cache a cacheable message; resolve a reference into the message it stands for."""
        if msg.WhichOneof("type") != "ref_hash":
            if msg.metadata.cacheable and msg.hash:
                entry = self.entries.setdefault(msg.hash, [raw, self.run_count])
                entry[1] = self.run_count
            return msg
        entry = self.entries.get(msg.ref_hash)
        if entry is None:
            raise ProtocolError(f"cached ForwardMsg miss: ref_hash {msg.ref_hash}")
        entry[1] = self.run_count
        self.hits += 1
        full = ForwardMsg.FromString(entry[0])
        full.metadata.CopyFrom(msg.metadata)
        return full

    def finished_run(self, max_age: int) -> None:
        """A run finished (not cut short): age every entry, drop those unused for more than max_age runs."""
        self.run_count += 1
        for key in [k for k, (_, used) in self.entries.items() if self.run_count - used > max_age]:
            del self.entries[key]

    def hashes(self) -> list[str]:
        return list(self.entries)


def widget_value(kind: str, proto, held: WidgetState | None) -> WidgetState | None:
    """The state the frontend holds for a widget element just drawn: the value the server sets
    (`set_value`), else what it held already, else the widget's default. None: it holds nothing
    (buttons, empty widgets, kinds this client does not model)."""
    if kind in ("button", "download_button") or not proto.id:
        return None  # triggers: only ever sent with a click
    if held is not None and not proto.set_value:
        return held
    state = WidgetState(id=proto.id)
    if kind == "slider":
        if proto.options:  # select_slider: formatted options
            values = (
                list(proto.raw_value) if proto.set_value else [proto.options[int(i)] for i in proto.default]
            )
            state.string_array_value.data[:] = values
        else:
            state.double_array_value.data[:] = list(proto.value if proto.set_value else proto.default)
    elif kind == "checkbox":
        state.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "number_input":
        field_name = "value" if proto.set_value else "default"
        if not proto.HasField(field_name):
            return None
        state.double_value = getattr(proto, field_name)
    elif kind in ("radio", "selectbox"):
        if proto.set_value:
            if not proto.HasField("raw_value"):
                return None
            state.string_value = proto.raw_value
        elif proto.HasField("default"):
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "multiselect":
        values = list(proto.raw_values) if proto.set_value else [proto.options[i] for i in proto.default]
        state.string_array_value.data[:] = values
    else:
        return None
    return state


class Session:
    """One browser tab's worth of Streamlit session, on the wire."""

    def __init__(self, port: int, name: str, rng: random.Random) -> None:
        self.port = port
        self.name = name
        self.rng = rng
        self.ws: ClientConnection | None = None
        self.query = ""  # the URL's query string, as the app last set it (page_info_changed)
        self.page_script_hash = ""
        self.max_cached_age = 2
        self.widgets: dict[str, WidgetState] = {}  # what the frontend holds, by widget id
        self.options: dict[str, list[str]] = {}  # formatted options of the select sliders, by widget id
        self.unmodelled: set[str] = set()
        self.cache = MessageCache()
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.first_load_s = float("nan")
        self.files = self.bytes = 0
        self.baseline_query: dict[str, str] = {}
        self.initial_alpha = float("nan")
        self.alpha_options: list[str] = []
        self.alive = False

    def error(self, text: str) -> None:
        self.errors.append(f"{self.name}: {text}")

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/" + (f"?{self.query}" if self.query else "")

    # ---------------------------------------------------------------- wire
    async def send_rerun(self) -> None:
        """BackMsg rerun_script with the ClientState a tab would send now."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_script_hash
        state.page_name = ""  # the main page: the URL's path is "/"
        state.widget_states.widgets.extend(self.widgets.values())
        state.cached_message_hashes.extend(self.cache.hashes())
        state.context_info.CopyFrom(
            ContextInfo(
                timezone="UTC", timezone_offset=0, locale="en-US", url=self.url(), color_scheme="light"
            )
        )
        state.context_info.is_embedded = False
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())

    async def read_run(self, timeout_s: float) -> None:
        """Read ForwardMsgs until this run's script_finished; raise ProtocolError if it did not succeed."""
        assert self.ws is not None
        drawn: set[str] = set()
        async with asyncio.timeout(timeout_s):
            while True:
                raw = await self.ws.recv()
                if not isinstance(raw, bytes):
                    raise ProtocolError("a text frame on the stream (Streamlit sends binary protobufs)")
                msg = self.cache.process(ForwardMsg.FromString(raw), raw)
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.page_script_hash = msg.new_session.page_script_hash
                    self.max_cached_age = msg.new_session.config.max_cached_message_age or self.max_cached_age
                elif kind == "page_info_changed":
                    self.query = msg.page_info_changed.query_string
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    self.on_element(msg.delta.new_element, drawn)
                elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
                    exc = msg.session_event.script_compilation_exception
                    self.error(f"script compilation exception: {exc.type}: {exc.message[:200]}")
                elif kind == "page_not_found":
                    raise ProtocolError("page not found")
                elif kind == "script_finished":
                    if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue  # a newer run follows (not expected: this client waits for each run)
                    self.cache.finished_run(self.max_cached_age)
                    if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        raise ProtocolError(f"the run finished {FINISHED.Name(msg.script_finished)}")
                    for widget_id in set(self.widgets) - drawn:  # no longer on the page: forgotten
                        del self.widgets[widget_id]
                    return

    def on_element(self, element, drawn: set[str]) -> None:
        """An element drawn by the run: an exception is an error; a widget's state is held."""
        kind = element.WhichOneof("type")
        if kind == "exception":
            exc = element.exception
            what = "warning" if exc.is_warning else "exception"
            self.error(f"{what} element: {exc.type + ': ' if exc.type else ''}{exc.message[:200]}")
            return
        proto = getattr(element, kind)
        widget_id = getattr(proto, "id", "")
        if not widget_id or not hasattr(proto, "set_value"):
            return  # not a widget with a value (text, charts, buttons)
        state = widget_value(kind, proto, self.widgets.get(widget_id))
        if state is None:
            self.unmodelled.add(kind)
            return
        self.widgets[widget_id] = state
        if kind == "slider" and proto.options:
            self.options[widget_id] = list(proto.options)
        drawn.add(widget_id)

    def widget_id(self, key: str) -> str:
        """The id of the held widget with this key (Streamlit ends a keyed widget's id with `-<key>`)."""
        ids = [wid for wid in self.widgets if wid.endswith(f"-{key}")]
        if len(ids) != 1:
            raise ProtocolError(f"{len(ids)} widgets with key {key!r} among the {len(self.widgets)} held")
        return ids[0]

    # ---------------------------------------------------------------- a student
    async def open(self, timeout_s: float = FIRST_LOAD_TIMEOUT_S) -> None:
        """First load: page and static files, health and host config, websocket, first run."""
        start = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                cookies, self.files, self.bytes = await load_page(self.port)
                self.ws = await connect(
                    f"ws://127.0.0.1:{self.port}/_stcore/stream",
                    subprotocols=["streamlit", cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")],
                    origin=f"http://127.0.0.1:{self.port}",
                    additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
                    user_agent_header="gdlab-ws-load",
                    proxy=None,
                    max_size=None,
                    ping_interval=None,  # a tab does not ping; it answers the server's pings
                    open_timeout=None,
                )
                if self.ws.subprotocol != "streamlit":
                    raise ProtocolError(f"the server chose the subprotocol {self.ws.subprotocol!r}")
                await self.send_rerun()
                await self.read_run(timeout_s)
            alpha_id = self.widget_id(ALPHA_KEY)
            self.initial_alpha = float(self.widgets[alpha_id].string_array_value.data[0])
            self.alpha_options = [o for o in self.options.get(alpha_id, []) if float(o) <= STABLE_ALPHA_MAX]
            if len(self.alpha_options) < 2:
                raise ProtocolError(f"the {ALPHA_KEY} select_slider offers no stable options")
        except SESSION_ERRORS as exc:
            self.error(f"first load: {type(exc).__name__}: {exc}")
            await self.close()
            return
        self.first_load_s = time.perf_counter() - start
        self.baseline_query = dict(parse_qsl(self.query))
        self.alive = True

    async def change_alpha(self, value: str) -> None:
        """Move the α slider to this formatted option, as a tab does; time the rerun; check the URL."""
        widget_id = self.widget_id(ALPHA_KEY)
        state = WidgetState(id=widget_id)
        state.string_array_value.data[:] = [value]
        self.widgets[widget_id] = state
        start = time.perf_counter()
        try:
            await self.send_rerun()
            await self.read_run(RERUN_TIMEOUT_S)
        except SESSION_ERRORS as exc:
            self.error(f"alpha {value}: {type(exc).__name__}: {exc}")
            self.alive = False
            await self.close()
            return
        self.latencies.append(time.perf_counter() - start)
        self.check_query(value)

    def check_query(self, alpha: str) -> None:
        """The URL query the app set shows the α this session set and no other change: another session's
        α would be cross-talk, another changed setting a widget state sent wrong."""
        shown = dict(parse_qsl(self.query))
        url_alpha = shown.get(ALPHA_KEY)
        try:
            same = math.isclose(float(url_alpha or self.initial_alpha), float(alpha), rel_tol=1e-9)
        except ValueError:
            same = False
        if not same:
            self.error(f"the URL shows alpha={url_alpha!r} after this session set {alpha} (?{self.query})")
        others = {k: v for k, v in shown.items() if k != ALPHA_KEY}
        baseline = {k: v for k, v in self.baseline_query.items() if k != ALPHA_KEY}
        if others != baseline:
            self.error(f"the URL's other settings changed: {baseline} -> {others}")

    async def play(self, changes: int, think_s: float) -> None:
        """`changes` α changes, each after a uniform 0..think_s pause, each to another stable option."""
        for _ in range(changes):
            if not self.alive:
                return
            if think_s > 0:
                await asyncio.sleep(self.rng.uniform(0, think_s))
            held = list(self.widgets[self.widget_id(ALPHA_KEY)].string_array_value.data)
            await self.change_alpha(self.rng.choice([o for o in self.alpha_options if o not in held]))

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), timeout=5)
            self.ws = None


# ------------------------------------------------------------------------------------------ server
def process_tree_cpu_s(root: int) -> float:
    """utime + stime of a process and its live descendants, plus its reaped children's, in seconds."""
    parents: dict[int, int] = {}
    ticks: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    if root not in ticks:
        return float("nan")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return (sum(ticks[pid][0] for pid in tree) + ticks[root][1]) / os.sysconf("SC_CLK_TCK")


def cpu0_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of CPU 0 since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            if line.startswith("cpu0 "):
                values = [int(v) for v in line.split()[1:9]]  # guest time is already in user time
                return sum(values) - values[3] - values[4], sum(values)  # idle and iowait are not busy
    return 0, 0


class Server:
    """`streamlit run <app>` in its own process group on a free loopback port, optionally on CPU 0 alone."""

    def __init__(self, name: str, app: str, log_dir: Path, pin: bool) -> None:
        self.name = name
        self.port = free_loopback_port()
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                streamlit_command(self.port, app),
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if pin else None,
            )

    async def wait_ready(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name}: streamlit exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            conn = HttpConnection(self.port)
            with contextlib.suppress(OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                status, _, _ = await conn.get("/_stcore/health", {})
                if status == 200:
                    await conn.close()
                    return time.perf_counter() - start
            await conn.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name}: streamlit did not answer its health check within {timeout_s:.0f} s")

    def cpu_s(self) -> float:
        return process_tree_cpu_s(self.process.pid)

    def status_mb(self, field_name: str) -> float:
        """A memory field of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(field_name + ":"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return float("nan")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 12) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        """Stop this server's own process group, by its id."""
        stop_process_group(self.process)


# ------------------------------------------------------------------------------------------ phases
@dataclass
class PhaseResult:
    app: str
    sessions: int
    first_loads: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    wall_s: float = 0.0
    load_cpu_s: float = 0.0
    change_cpu_s: float = 0.0
    change_wall_s: float = 0.0
    files: int = 0
    bytes: int = 0
    cache_hits: int = 0
    rss_mb: float = float("nan")
    core0_busy: float = float("nan")

    @property
    def cpu_per_rerun(self) -> float:
        return self.change_cpu_s / len(self.latencies) if self.latencies else float("nan")

    @property
    def cpu_per_first_load(self) -> float:
        return self.load_cpu_s / len(self.first_loads) if self.first_loads else float("nan")

    @property
    def reruns_per_s(self) -> float:
        return len(self.latencies) / self.change_wall_s if self.change_wall_s > 0 else float("nan")


def tracebacks(log: str) -> list[str]:
    """The exception line that ends each traceback in a server log excerpt."""
    found, lines = [], log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            last = next((t for t in lines[i + 1 :] if t.strip() and not t.startswith((" ", "\t"))), "?")
            found.append(last.strip()[:200])
    return found


async def run_phase(server: Server, label: str, sessions: int, changes: int, think_s: float) -> PhaseResult:
    """N sessions connect at once; once all have loaded, each makes its α changes; then all close."""
    result = PhaseResult(server.name, sessions)
    log_offset = len(server.log_text())
    busy0, total0 = cpu0_ticks()
    start, cpu_start = time.perf_counter(), server.cpu_s()
    clients = [Session(server.port, f"{label} s{i}", random.Random(f"{label}/{i}")) for i in range(sessions)]
    await asyncio.gather(*(c.open() for c in clients))
    loaded_at, cpu_loaded = time.perf_counter(), server.cpu_s()
    await asyncio.gather(*(c.play(changes, think_s) for c in clients))
    result.change_wall_s, result.change_cpu_s = time.perf_counter() - loaded_at, server.cpu_s() - cpu_loaded
    result.load_cpu_s = cpu_loaded - cpu_start
    result.wall_s = time.perf_counter() - start
    busy1, total1 = cpu0_ticks()
    result.core0_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else float("nan")
    await asyncio.gather(*(c.close() for c in clients))
    result.rss_mb = server.status_mb("VmRSS")
    for client in clients:
        result.errors.extend(client.errors)
        result.latencies.extend(client.latencies)
        result.cache_hits += client.cache.hits
        result.notes.update(
            f"{kind} widgets are not modelled (their state is not sent)" for kind in client.unmodelled
        )
        if not math.isnan(client.first_load_s):
            result.first_loads.append(client.first_load_s)
            result.files, result.bytes = client.files, client.bytes
    missing = sum(changes for c in clients if not math.isnan(c.first_load_s)) - len(result.latencies)
    if missing > 0 and not result.errors:
        result.errors.append(f"{missing} reruns did not complete")
    await asyncio.sleep(0.3)  # a traceback of the last run reaches the log
    result.errors.extend(f"server log traceback: {tb}" for tb in tracebacks(server.log_text()[log_offset:]))
    return result


# ------------------------------------------------------------------------------------------ report
def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def spread(values: list[float], scale: float) -> str:
    """p50 / p95 / max (the last, for first loads) of these values, times scale, as one column."""
    last = max(values, default=math.nan)
    return f"{percentile(values, 50) * scale:,.0f}/{percentile(values, 95) * scale:,.0f}/{last * scale:,.0f}"


def quantity(value: float) -> str:
    """A measured value with three significant digits, without an exponent."""
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def print_phase(title: str, results: dict[str, PhaseResult], pinned: bool) -> None:
    """One phase, one line per app, then its errors."""
    print(f"\n{title}")
    core = f" {'CPU 0 busy (server)':>20}" if pinned else ""
    print(
        f"   {'':8} {'first load ms':>20} {'rerun ms':>18} {'reruns':>6} {'per s':>6} "
        f"{'CPU/load':>9} {'CPU/rerun':>9} {'errors':>6} {'RSS':>7}{core}"
    )
    print(f"   {'':8} {'p50/p95/last':>20} {'p50/p95/max':>18}")
    for name, r in results.items():
        if pinned:
            server_share = (r.load_cpu_s + r.change_cpu_s) / r.wall_s if r.wall_s else math.nan
            core = f" {r.core0_busy:>12.0%} ({server_share:.0%})"
        print(
            f"   {name:8} {spread(r.first_loads, 1000):>20} {spread(r.latencies, 1000):>18} "
            f"{len(r.latencies):>6} {r.reruns_per_s:>6.1f} {r.cpu_per_first_load * 1000:>6.0f} ms "
            f"{r.cpu_per_rerun * 1000:>6.1f} ms {len(r.errors):>6} {r.rss_mb:>4.0f} MB{core}"
        )
    for name, r in results.items():
        for note in sorted(r.notes):
            print(f"   {name}: note: {note}")
        for error in r.errors[:8]:
            print(f"   {name}: ERROR {error[:300]}")
        if len(r.errors) > 8:
            print(f"   {name}: ... and {len(r.errors) - 8} more errors")
    hits = ", ".join(f"{name} {r.cache_hits}" for name, r in results.items())
    some = next(iter(results.values()))
    print(
        f"   (a first load: {some.files} HTTP requests, {some.bytes / 1e6:.1f} MB; "
        f"cached-message references resolved: {hits})"
    )


def print_table(
    class_run: dict[str, PhaseResult], saturation: dict[str, PhaseResult], peak: dict[str, float], quick: bool
) -> bool:
    """The issue's table; returns whether every row passed (in --quick only the error and RSS rows count)."""
    app, minimal = class_run["app"], class_run["minimal"]
    sat_app, sat_minimal = saturation["app"], saturation["minimal"]
    rows = [
        (
            "CPU per rerun (saturation phase)",
            (sat_app.cpu_per_rerun * 1000, sat_minimal.cpu_per_rerun * 1000, "ms"),
            (f"<= {TARGET_CPU_RATIO}x", lambda r: r <= TARGET_CPU_RATIO),
        ),
        (
            f"saturation: reruns/s, {sat_app.sessions} sessions, no think",
            (sat_app.reruns_per_s, sat_minimal.reruns_per_s, "/s"),
            (f">= {TARGET_SATURATION_RATIO}x", lambda r: r >= TARGET_SATURATION_RATIO),
        ),
        (
            "class run: rerun p95",
            (percentile(app.latencies, 95) * 1000, percentile(minimal.latencies, 95) * 1000, "ms"),
            (f"<= {TARGET_P95_RATIO}x", lambda r: r <= TARGET_P95_RATIO),
        ),
        (
            "class run: last first load",
            (max(app.first_loads, default=math.nan), max(minimal.first_loads, default=math.nan), "s"),
            (f"<= {TARGET_FIRST_LOAD_RATIO}x", lambda r: r <= TARGET_FIRST_LOAD_RATIO),
        ),
    ]
    print(f"\nThe issue's table: a class of {app.sessions}, one server process each")
    print(f"   {'':42} {'app':>12} {'minimal':>12} {'app/min':>8} {'target':>10}")
    passed = True
    for label, (a, m, unit), (target, ok) in rows:
        ratio = a / m if m else math.nan
        good = ok(ratio)
        passed &= quick or good
        verdict = "(quick: no target)" if quick else ("PASS" if good else "FAIL")
        shown = f"{quantity(a):>9} {unit:2} {quantity(m):>9} {unit:2} {ratio:>7.3g}x"
        print(f"   {label:42} {shown} {target:>10}  {verdict}")
    good = not app.errors and not minimal.errors
    passed &= good
    print(
        f"   {'class run: errors':42} {len(app.errors):>12} {len(minimal.errors):>12} {'':8} {'0':>10}  "
        f"{'PASS' if good else 'FAIL'}"
    )
    good = peak["app"] <= PEAK_RSS_LIMIT_MB
    passed &= good
    limit = f"<= {PEAK_RSS_LIMIT_MB:.0f} MB"
    print(
        f"   {'server peak RSS (VmHWM, whole run)':42} {peak['app']:>9.0f} MB {peak['minimal']:>9.0f} MB "
        f"{'':8} {limit:>10}  {'PASS' if good else 'FAIL'}"
    )
    return passed


# ------------------------------------------------------------------------------------------ main
def describe_machine(quick: bool) -> None:
    load1, load5, _ = os.getloadavg()
    print(f"Gradient Descent Lab: browserless websocket load test ({'--quick' if quick else 'full run'})")
    print(
        f"python {platform.python_version()}, streamlit {streamlit.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load1:.2f} / {load5:.2f} (1 / 5 min) at the start"
    )


async def start_servers(servers: dict[str, Server]) -> None:
    ready = await asyncio.gather(*(server.wait_ready() for server in servers.values()))
    for (name, server), seconds in zip(servers.items(), ready, strict=True):
        pid = server.process.pid
        print(f"{name}: streamlit run {APPS[name]}, port {server.port}, pid {pid}, up in {seconds:.1f} s")


async def main_async(args: argparse.Namespace) -> int:
    quick = args.quick
    sessions_list = [3] if quick else sorted(set(args.sessions))
    changes, think = (2, 0.0) if quick else (args.changes, args.think)
    biggest = max(sessions_list)
    describe_machine(quick)
    if args.pin:
        others = set(range(os.cpu_count() or 1)) - {0}
        if others:
            os.sched_setaffinity(0, others)
        print(f"servers pinned to CPU 0 alone; this client on CPU {sorted(others or {0})}")
    plan = [
        (n, think, f"{n} session(s) at once, {changes} α changes each, think 0-{think:g} s")
        for n in sessions_list
    ]
    if not quick:
        plan.append(
            (biggest, 0.0, f"saturation: {biggest} sessions, {changes} α changes each, no think time")
        )
    class_index = len(sessions_list) - 1
    log_dir = Path(tempfile.mkdtemp(prefix="gdlab-ws-load-"))
    servers = {name: Server(name, app, log_dir, args.pin) for name, app in APPS.items()}
    try:
        await start_servers(servers)
        warm = {
            name: await run_phase(server, f"{name} warm-up", 1, 2, 0.0) for name, server in servers.items()
        }
        print_phase(
            "0. warm-up: one session, two changes (imports, first runs; not in the table)", warm, args.pin
        )
        errors = sum(len(r.errors) for r in warm.values())
        results: list[dict[str, PhaseResult]] = []
        for k, (n, pause, title) in enumerate(plan, start=1):
            order = list(servers) if k % 2 else list(reversed(servers))  # alternate which app goes first
            phase = {
                name: await run_phase(servers[name], f"{name} phase {k}", n, changes, pause) for name in order
            }
            phase = {name: phase[name] for name in servers}
            print_phase(
                f"{k}. {title}" + (" (the class run)" if k - 1 == class_index else ""), phase, args.pin
            )
            errors += sum(len(r.errors) for r in phase.values())
            results.append(phase)
        peak = {name: server.status_mb("VmHWM") for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    passed = print_table(results[class_index], results[-1], peak, quick)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    load1, load5, _ = os.getloadavg()
    print(
        f"\nthis client used {usage.ru_utime + usage.ru_stime:.1f} s of CPU; load average {load1:.2f} / "
        f"{load5:.2f} (1 / 5 min) at the end"
    )
    if errors:
        print(f"server logs: {log_dir}")
        print(f"FAIL: {errors} error(s) over all phases (target 0)")
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    if quick:
        print("no errors (--quick: the timings are reported, not judged)")
    else:
        print("no errors; " + ("every target met" if passed else "some targets missed (FAIL above)"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 sessions x 2 changes, no think time (CI)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 25, 50], help="sessions per phase")
    parser.add_argument("--changes", type=int, default=10, help="alpha changes per session and phase")
    parser.add_argument("--think", type=float, default=10.0, help="longest pause before a change, seconds")
    parser.add_argument(
        "--pin", action="store_true", help="the servers on CPU 0 alone, this client elsewhere"
    )
    args = parser.parse_args()
    args.sessions = [max(1, min(n, 200)) for n in args.sessions]  # bounded, whatever is asked
    args.changes = max(1, min(args.changes, 100))
    args.think = max(0.0, min(args.think, 120.0))
    try:
        return asyncio.run(main_async(args))
    except RuntimeError as exc:
        print(f"cannot run: {exc}")
        return 2
    except KeyboardInterrupt:  # the servers were stopped on the way out
        print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
