"""In-memory state of the reference service: sessions, the idempotency cache, used stream-token
ids, and the counters the tests read through GET /_test/stats.

Request handlers all run on the event loop thread, so the store needs no lock; the counters are
also written by webhook delivery threads and are guarded by one."""
import asyncio
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple

IDEMPOTENCY_TTL_SECONDS = 600
# W3C Trace Context: version-traceid-parentid-flags, lower-case hex; a later version may add fields.
TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


def parse_traceparent(value: Optional[str]) -> dict:
    """What a traceparent header names, as the service's tracing would read it (CONTRACT section 6):
    {"valid": False} when absent or malformed (the request then starts a new trace)."""
    match = TRACEPARENT.match(value or "")
    if (not match or match.group(1) == "ff" or set(match.group(2)) == {"0"} or set(match.group(3)) == {"0"}
            or (match.group(1) == "00" and match.group(5))):
        return {"valid": False}
    return {"valid": True, "trace_id": match.group(2), "parent_id": match.group(3),
            "sampled": int(match.group(4), 16) & 1 == 1}


def utc_now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id(prefix: str, hex_bytes: int = 6) -> str:
    return prefix + secrets.token_hex(hex_bytes)


@dataclass
class Message:
    message_id: str
    role: str
    content: str
    created_at: str

    def to_json(self) -> dict:
        return {"message_id": self.message_id, "role": self.role, "content": self.content,
                "created_at": self.created_at}


@dataclass
class ChatSession:
    session_id: str
    user_id: str
    company_id: str
    seq: int
    title: str
    created_at: str
    last_activity_at: str
    messages: List[Message] = field(default_factory=list)
    busy: bool = False

    def owned_by(self, user_id: str, company_id: str) -> bool:
        return self.user_id == user_id and self.company_id == company_id

    def add(self, role: str, content: str, message_id: Optional[str] = None) -> Message:
        message = Message(message_id or new_id("msg_"), role, content, utc_now())
        self.messages.append(message)
        self.last_activity_at = message.created_at
        return message

    def summary(self) -> dict:
        return {"session_id": self.session_id, "title": self.title, "created_at": self.created_at,
                "last_activity_at": self.last_activity_at, "message_count": len(self.messages)}

    def detail(self) -> dict:
        body = self.summary()
        body["messages"] = [m.to_json() for m in self.messages]
        return body


@dataclass
class IdempotentResult:
    fingerprint: str
    result: dict
    expires: float


class Store:
    def __init__(self) -> None:
        self.epoch = 0
        self.reset()

    def reset(self) -> None:
        self.epoch += 1
        self.sessions: Dict[str, ChatSession] = {}
        self._seq = itertools.count(1)
        self._idempotency: Dict[Tuple[str, str, str], IdempotentResult] = {}
        self._used_jtis: Dict[str, float] = {}
        self.fault_attempts: Counter = Counter()
        self.stream_ends: Dict[str, dict] = {}
        self._stream_end_events: Dict[str, asyncio.Event] = {}

    def stream_ended(self, request_id: Optional[str], outcome: str, tokens_sent: int) -> None:
        """Records how a stream ended (for GET /_test/streams/{request_id}) and wakes its waiters."""
        if not request_id:
            return
        self.stream_ends[request_id] = {"request_id": request_id, "outcome": outcome, "tokens_sent": tokens_sent}
        self._stream_end_events.setdefault(request_id, asyncio.Event()).set()

    async def wait_stream_end(self, request_id: str, timeout: float) -> Optional[dict]:
        event = self._stream_end_events.setdefault(request_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.stream_ends.get(request_id)

    def new_session(self, user_id: str, company_id: str, title: str) -> ChatSession:
        now = utc_now()
        session = ChatSession(new_id("sess_", 8), user_id, company_id, next(self._seq),
                              title[:60], now, now)
        self.sessions[session.session_id] = session
        return session

    def sessions_of(self, user_id: str, company_id: str) -> List[ChatSession]:
        mine = [s for s in self.sessions.values() if s.owned_by(user_id, company_id)]
        return sorted(mine, key=lambda s: s.seq, reverse=True)

    @staticmethod
    def fingerprint(body: dict) -> str:
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

    def idempotent(self, user_id: str, company_id: str, key: str) -> Optional[IdempotentResult]:
        now = time.monotonic()
        for k in [k for k, v in self._idempotency.items() if v.expires < now]:
            del self._idempotency[k]
        return self._idempotency.get((user_id, company_id, key))

    def remember(self, user_id: str, company_id: str, key: str, fingerprint: str, result: dict) -> None:
        self._idempotency[(user_id, company_id, key)] = IdempotentResult(
            fingerprint, result, time.monotonic() + IDEMPOTENCY_TTL_SECONDS)

    def use_jti(self, jti: str, expires_at: float) -> bool:
        """Marks a stream-token id used; False when it was used before."""
        now = time.time()
        for k in [k for k, exp in self._used_jtis.items() if exp < now - 60]:
            del self._used_jtis[k]
        if jti in self._used_jtis:
            return False
        self._used_jtis[jti] = expires_at
        return True


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_request_id: Counter = Counter()
            self._generations = 0
            self._generations_by_key: Counter = Counter()
            self._generations_by_request_id: Counter = Counter()
            self._replays = 0
            self._replays_by_key: Counter = Counter()
            self._faults = 0
            self._stream_tokens = 0
            self._webhooks: List[dict] = []
            self._traces: Dict[str, List[dict]] = {}

    def trace(self, request_id: Optional[str], traceparent: Optional[str], tracestate: Optional[str]) -> None:
        """Records the trace context an /api/ request carried, per request id (one entry per attempt)."""
        if not request_id:
            return
        with self._lock:
            self._traces.setdefault(request_id, []).append(
                {"traceparent": traceparent, "tracestate": tracestate, **parse_traceparent(traceparent)})

    def traces(self, request_id: str) -> List[dict]:
        with self._lock:
            return list(self._traces.get(request_id, []))

    def request(self, request_id: Optional[str]) -> None:
        with self._lock:
            self._requests += 1
            if request_id:
                self._by_request_id[request_id] += 1

    def tag(self, request_id: str) -> None:
        """Counts a request under a request id it did not carry as a header (a stream token's rid)."""
        with self._lock:
            self._by_request_id[request_id] += 1

    def generation(self, idempotency_key: Optional[str], request_id: Optional[str]) -> None:
        with self._lock:
            self._generations += 1
            if idempotency_key:
                self._generations_by_key[idempotency_key] += 1
            if request_id:
                self._generations_by_request_id[request_id] += 1

    def replay(self, idempotency_key: str) -> None:
        with self._lock:
            self._replays += 1
            self._replays_by_key[idempotency_key] += 1

    def fault(self) -> None:
        with self._lock:
            self._faults += 1

    def stream_token(self) -> None:
        with self._lock:
            self._stream_tokens += 1

    def webhook(self, record: dict) -> None:
        with self._lock:
            self._webhooks.append(record)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self._requests,
                "requests_by_request_id": dict(self._by_request_id),
                "generations": self._generations,
                "generations_by_idempotency_key": dict(self._generations_by_key),
                "generations_by_request_id": dict(self._generations_by_request_id),
                "idempotent_replays": self._replays,
                "idempotent_replays_by_key": dict(self._replays_by_key),
                "faults_injected": self._faults,
                "stream_tokens_accepted": self._stream_tokens,
                "webhook_deliveries": list(self._webhooks),
            }
