"""Misbehaviour knobs of the reference service. TEST MODE ONLY (LLM_TEST_MODE=1): a production
service has none of this.

A fault is written as comma-separated items, `key=value` or a bare flag:

  status=<400..599>  answer with this status instead     times=<n>       only the first n attempts
                     (per X-Request-Id) fail; default: every attempt for a directive, 1 when armed
  retry_after=<s>    Retry-After header (seconds)        body=json|html|empty   error body (html as
                     from an nginx proxy)                when=before|after      fail before the work
                     or after it (the answer is generated, then lost as by a proxy timeout)
  heartbeats=<n>     n ": ping" comments before the first event and one between tokens
  crlf | cr          CRLF or CR line ends               bytes          flush every byte on its own
  error_after=<n>    an error event after n tokens      cut_after=<n>  end the body after n tokens,
                     without done and [DONE]            stall_after=<n> send nothing more after n
                     tokens (until the client leaves or LLM_STALL_MAX_SECONDS)
  oversize=<bytes>   one token event of that size       think_ms=<ms>  think before the first event,
                     sending ": ping" every ping_ms=<ms> (default LLM_HEARTBEAT_SECONDS)
  delay_ms=<ms>      pause between tokens               growth         unknown fields, an unknown
                     event type and an unknown intent (contract: open for growth)
  abort_after=<n>    fail the response after n tokens: the connection drops without the end of the
                     chunked body (a network cut rather than a clean end)
  cut_at_start       end the body before the first event (after any heartbeats)
  skip_done          leave out the done event but still end with [DONE] (a contract violation)

Three ways to ask for one:
  * "#fault:<items>" anywhere in a chat query (stripped before the model sees the query);
  * the request header "X-Test-Fault: <items>";
  * POST /_test/faults {"directive": "<items>", "times": 2, "status": 503, "retry_after": "1",
    "body": "html", "when": "after", "path": "/api/v1/llm-chat/recruiter/chat", "user_id": "u1"}
    arms a fault for the next `times` requests whose path starts with `path` (and whose user is
    `user_id`, when given).
Status faults from the header or armed ones are answered before authentication, as a proxy in
front of the service would; stream faults reach the endpoint and shape its stream."""
import re
from email.utils import parsedate_to_datetime
from dataclasses import dataclass, fields, replace
from typing import List, Optional

import jwt
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

DIRECTIVE = re.compile(r"#fault:(\S*)")
_DIRECTIVE_WITH_SPACE = re.compile(r"\s*#fault:\S*")

_HTML = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
         "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


class FaultError(ValueError):
    """A malformed fault; answered 400 so a typo in a test fails loudly."""


@dataclass(frozen=True)
class Fault:
    spec: str = ""
    status: Optional[int] = None
    times: Optional[int] = None
    retry_after: Optional[str] = None
    body: str = "json"
    when: str = "before"
    heartbeats: int = 0
    line_end: str = "\n"
    bytewise: bool = False
    error_after: Optional[int] = None
    cut_after: Optional[int] = None
    stall_after: Optional[int] = None
    abort_after: Optional[int] = None
    oversize: Optional[int] = None
    think_ms: int = 0
    ping_ms: Optional[int] = None
    delay_ms: int = 0
    growth: bool = False
    cut_at_start: bool = False
    skip_done: bool = False

    def merged(self, other: Optional["Fault"]) -> "Fault":
        """This fault with every field `other` sets explicitly taking precedence."""
        if other is None:
            return self
        default = Fault()
        changes = {f.name: getattr(other, f.name) for f in fields(Fault)
                   if f.name != "spec" and getattr(other, f.name) != getattr(default, f.name)}
        spec = ",".join(s for s in (self.spec, other.spec) if s)
        return replace(self, spec=spec, **changes)


def _int(key: str, value: Optional[str], low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise FaultError(f"fault {key} must be an integer from {low} to {high}")
    return number


def parse(spec: str) -> Fault:
    items = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key, _, value = item.partition("=")
        items[key] = value if _ else None
    f = {}
    for key, value in items.items():
        if key == "status":
            f["status"] = _int(key, value, 400, 599)
        elif key == "times":
            f["times"] = _int(key, value, 1, 1_000_000)
        elif key == "retry_after":
            f["retry_after"] = str(_int(key, value, 0, 86_400))
        elif key == "body":
            if value not in ("json", "html", "empty"):
                raise FaultError("fault body must be json, html or empty")
            f["body"] = value
        elif key == "when":
            if value not in ("before", "after"):
                raise FaultError("fault when must be before or after")
            f["when"] = value
        elif key == "heartbeats":
            f["heartbeats"] = _int(key, value, 0, 1000)
        elif key in ("crlf", "cr", "bytes", "growth", "cut_at_start", "skip_done"):
            if value is not None:
                raise FaultError(f"fault {key} takes no value")
            if key == "crlf":
                f["line_end"] = "\r\n"
            elif key == "cr":
                f["line_end"] = "\r"
            elif key == "bytes":
                f["bytewise"] = True
            else:
                f[key] = True
        elif key in ("error_after", "cut_after", "stall_after", "abort_after"):
            f[key] = _int(key, value, 0, 100_000)
        elif key == "oversize":
            f["oversize"] = _int(key, value, 1, 64 * 1024 * 1024)
        elif key in ("think_ms", "delay_ms"):
            f[key] = _int(key, value, 0, 600_000)
        elif key == "ping_ms":
            f["ping_ms"] = _int(key, value, 10, 600_000)
        else:
            raise FaultError(f"unknown fault {key!r}")
    return Fault(spec=spec, **f)


def from_query(query: str) -> Optional[Fault]:
    found = DIRECTIVE.findall(query)
    if not found:
        return None
    fault = Fault()
    for spec in found:
        fault = fault.merged(parse(spec))
    return fault


def strip(query: str) -> str:
    return _DIRECTIVE_WITH_SPACE.sub("", query).strip()


def response(fault: Fault, request_id: Optional[str]) -> Response:
    """The answer of a status fault."""
    code = fault.status or 503
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    if request_id:
        headers["X-Request-Id"] = request_id
    reason = _REASONS.get(code, "Error")
    if fault.body == "html":
        return Response(_HTML.format(code=code, reason=reason), status_code=code, headers=headers,
                        media_type="text/html")
    if fault.body == "empty":
        return Response(b"", status_code=code, headers=headers)
    return JSONResponse({"detail": f"{reason} (injected fault)"}, status_code=code, headers=headers)


@dataclass
class ArmedFault:
    fault: Fault
    remaining: int
    path: str
    user_id: Optional[str]

    def matches(self, path: str, user_id: Optional[str]) -> bool:
        return path.startswith(self.path) and (self.user_id is None or self.user_id == user_id)


class Faults:
    """Armed faults and the attempt counts of per-request ones."""

    def __init__(self, store, stats) -> None:
        self.store = store
        self.stats = stats
        self.armed: List[ArmedFault] = []

    def reset(self) -> None:
        self.armed = []

    def arm(self, spec: dict) -> ArmedFault:
        if not isinstance(spec, dict):
            raise FaultError("expected a JSON object")
        known = {"directive", "times", "status", "retry_after", "body", "when", "path", "user_id"}
        unknown = set(spec) - known
        if unknown:
            raise FaultError(f"unknown keys {sorted(unknown)}; known: {sorted(known)}")
        items = [spec["directive"]] if spec.get("directive") else []
        for key in ("status", "body", "when"):
            if spec.get(key) is not None:
                items.append(f"{key}={spec[key]}")
        fault = parse(",".join(items))
        if spec.get("retry_after") is not None:  # seconds or an HTTP date (which holds commas)
            retry_after = str(spec["retry_after"])
            if not retry_after.isdigit():
                try:
                    parsedate_to_datetime(retry_after)
                except (TypeError, ValueError):
                    raise FaultError("retry_after must be seconds or an HTTP date") from None
            fault = replace(fault, retry_after=retry_after)
        times = spec.get("times", 1)
        if not isinstance(times, int) or times < 1:
            raise FaultError("times must be a positive integer")
        path = spec.get("path") or "/api/"
        armed = ArmedFault(replace(fault, times=None), times, path, spec.get("user_id"))
        self.armed.append(armed)
        return armed

    def take_armed(self, path: str, user_id: Optional[str]) -> Optional[Fault]:
        for armed in self.armed:
            if armed.remaining > 0 and armed.matches(path, user_id):
                armed.remaining -= 1
                if armed.remaining == 0:
                    self.armed.remove(armed)
                return armed.fault
        return None

    def due(self, fault: Optional[Fault], request_id: Optional[str]) -> bool:
        """Whether this request fails with the fault's status; counts attempts per request id."""
        if fault is None or fault.status is None:
            return False
        if fault.times is None:
            return True
        key = (request_id or "", fault.spec)
        self.store.fault_attempts[key] += 1
        return self.store.fault_attempts[key] <= fault.times


class FaultMiddleware:
    """Answers armed and X-Test-Fault status faults before the app (as a proxy would), and hands
    stream faults to the endpoints in scope["state"]["fault"]."""

    def __init__(self, app, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id")
        fault = self.faults.take_armed(scope["path"], _user_id(headers))
        header = headers.get("x-test-fault")
        if header:
            try:
                fault = (fault or Fault()).merged(parse(header))
            except FaultError as e:
                await JSONResponse({"detail": f"Invalid X-Test-Fault: {e}"}, status_code=400)(scope, receive, send)
                return
        armed_status = fault is not None and fault.status is not None
        if armed_status and self.faults.due(fault, request_id):
            self.faults.stats.fault()
            if fault.when == "after":
                await self.app(scope, receive, _discard)
            await response(fault, request_id)(scope, receive, send)
            return
        if fault is not None:
            scope.setdefault("state", {})["fault"] = replace(fault, status=None) if armed_status else fault
        await self.app(scope, receive, send)


async def _discard(message) -> None:
    """Swallows the app's answer: it was produced, then lost on the way back."""


def _user_id(headers: Headers) -> Optional[str]:
    user = headers.get("x-user-id")
    if user:
        return user
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        try:  # only to match an armed fault to a user; the endpoint verifies the token
            return str(jwt.decode(auth[7:].strip(), options={"verify_signature": False}).get("sub"))
        except jwt.PyJWTError:
            return None
    return None
