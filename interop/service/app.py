"""Reference implementation of the LLM chat service (CONTRACT.md v1) for the SDK's interop tests.

Run it with Debian's Python (python3-fastapi, python3-uvicorn, python3-jwt):

    LLM_SERVICE_TOKEN=... LLM_JWT_KEYS='{"k1": "<32+ bytes>"}' /usr/bin/python3 app.py --port 8000

or as an ASGI factory: /usr/bin/python3 -m uvicorn --factory app:create_app --host 127.0.0.1.
Configuration is read from the environment (see settings.py). It binds to 127.0.0.1 only. With
LLM_TEST_MODE=1 it also offers the test-only /_test endpoints and fault knobs (see faults.py)."""
import argparse
import asyncio
import base64
import binascii
import json
import logging
import os
import socket
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, List, Literal, Optional

import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, validator
from starlette.datastructures import Headers
from starlette.responses import StreamingResponse

import faults as fault_knobs
import model
from faults import Fault, FaultError, FaultMiddleware, Faults
from security import SCOPE_DELETE, SCOPE_READ, SCOPE_SEND, Authenticator, Principal
from settings import ConfigError, Settings
from state import ChatSession, Stats, Store, new_id, utc_now
from webhooks import WebhookSender

PREFIX = "/api/v1/llm-chat/recruiter"


class ChatBody(BaseModel):
    query: str = Field(..., min_length=1, max_length=2000)
    session_id: Optional[str] = Field(None, regex=r"^[A-Za-z0-9_-]{1,128}$")
    user_intent: Optional[Literal["search", "chat", "user_action"]] = None
    profile_id: Optional[str] = Field(None, regex=r"^(id_[0-9a-f]{8}|[0-9a-fA-F]{24})$")
    metadata: Optional[Dict[str, Any]] = None

    @validator("query")
    def query_not_blank(cls, value: str) -> str:  # noqa: N805 (pydantic validator)
        if not value.strip():
            raise ValueError("query must not be blank")
        return value


@dataclass
class Plan:
    """What one stream sends."""
    session_id: str
    message_id: str
    intent: str
    tokens: List[str]
    candidates: List[dict]
    actions: List[dict]
    usage: dict
    prompt_tokens: int
    extra: Dict[str, Any] = field(default_factory=dict)


class InjectedAbort(Exception):
    """Raised inside a stream body by the abort_after fault; uvicorn then drops the connection."""


@dataclass
class StreamRun:
    """How a stream ended, filled in by the generator; None outcome means the client went away."""
    outcome: Optional[str] = None
    tokens_sent: int = 0


class ServiceStream(StreamingResponse):
    """A text/event-stream response that always runs `on_close` when it ends, however it ends
    (done, error, cut, or the client went away and Starlette cancelled the body)."""

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], None], headers: Dict[str, str]):
        super().__init__(content, media_type="text/event-stream", headers=headers)
        self._on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except InjectedAbort:
            pass  # uvicorn closes a connection whose response did not complete
        finally:
            self._on_close()


class RequestIdMiddleware:
    """Echoes X-Request-Id on every response (a generated one when the request had none and the
    endpoint set none), counts requests per request id and records the W3C trace context
    (traceparent, tracestate) each carried, for GET /_test/traces/{request_id}."""

    def __init__(self, app, stats: Stats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        incoming = request_headers.get("x-request-id")
        if scope["path"].startswith("/api/"):
            self.stats.request(incoming)
            self.stats.trace(incoming, request_headers.get("traceparent"), request_headers.get("tracestate"))
        fallback = (incoming or str(uuid.uuid4())).encode("latin-1")

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", fallback))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or Settings.from_env(os.environ)
    store = Store()
    stats = Stats()
    knobs = Faults(store, stats)
    auth = Authenticator(settings, store)
    webhooks = WebhookSender(settings, stats, lambda: store.epoch)

    app = FastAPI(title="LLM chat service (reference implementation)", version="1",
                  docs_url=None, redoc_url=None, openapi_url=None)
    if settings.test_mode:
        app.add_middleware(FaultMiddleware, faults=knobs)
    app.add_middleware(RequestIdMiddleware, stats=stats)

    def requires(scope: str):
        def dependency(request: Request) -> Principal:
            return auth.principal(request, scope)
        return dependency

    def request_fault(request: Request, query: str) -> Optional[Fault]:
        if not settings.test_mode:
            return None
        try:
            from_query = fault_knobs.from_query(query)
        except FaultError as e:
            raise HTTPException(status_code=400, detail=f"Invalid #fault directive: {e}") from None
        from_state = getattr(request.state, "fault", None)
        return from_state.merged(from_query) if from_state else from_query

    def model_query(query: str) -> str:
        return fault_knobs.strip(query) if settings.test_mode else query

    def open_session(principal: Principal, body: ChatBody) -> ChatSession:
        if body.session_id is None:
            return store.new_session(principal.user_id, principal.company_id, model_query(body.query))
        session = store.sessions.get(body.session_id)
        if session is None:
            raise HTTPException(status_code=404, detail="Session not found")
        if not session.owned_by(principal.user_id, principal.company_id):
            raise HTTPException(status_code=403, detail="Session belongs to another user")
        if session.busy:
            raise HTTPException(status_code=409, detail="Session is busy with another message")
        return session

    def check_idempotency(principal: Principal, key: Optional[str], body: ChatBody) -> Optional[dict]:
        if not key:
            return None
        cached = store.idempotent(principal.user_id, principal.company_id, key)
        if cached is None:
            return None
        if cached.fingerprint != Store.fingerprint(body.dict()):
            raise HTTPException(status_code=422, detail="Idempotency-Key was already used with another request")
        stats.replay(key)
        return cached.result

    def growth(fault: Optional[Fault]) -> bool:
        return fault is not None and fault.growth

    def generate(principal: Principal, body: ChatBody, fault: Optional[Fault], key: Optional[str],
                 request_id: Optional[str]) -> Plan:
        session = open_session(principal, body)
        query = model_query(body.query)
        answer = model.answer(query, body.user_intent, body.profile_id)
        stats.generation(key, request_id)
        session.add("user", query)
        extra = {"trace_id": "tr_" + uuid.uuid4().hex[:12]} if growth(fault) else {}
        return Plan(session.session_id, new_id("msg_"), "compare_candidates" if growth(fault) else answer.intent,
                    answer.tokens, answer.candidates, answer.actions, answer.usage, answer.usage["prompt_tokens"],
                    extra)

    def result_of(plan: Plan, fault: Optional[Fault]) -> dict:
        candidates = plan.candidates
        if growth(fault):
            candidates = [{**c, "location": "Berlin"} for c in candidates]
        return {"session_id": plan.session_id, "message_id": plan.message_id, "intent": plan.intent,
                "answer": "".join(plan.tokens), "candidates": candidates, "actions": plan.actions,
                "usage": plan.usage, "model": model.MODEL_NAME, **plan.extra}

    def plan_of(result: dict) -> Plan:
        extra = {k: v for k, v in result.items() if k not in (
            "session_id", "message_id", "intent", "answer", "candidates", "actions", "usage", "model")}
        return Plan(result["session_id"], result["message_id"], result["intent"], model.tokenize(result["answer"]),
                    result["candidates"], result["actions"], result["usage"], result["usage"]["prompt_tokens"], extra)

    def finish(principal: Principal, plan: Plan, key: Optional[str], body: ChatBody, fault: Optional[Fault]) -> dict:
        """Records a finished generation: the assistant message, and the idempotent result."""
        result = result_of(plan, fault)
        session = store.sessions.get(plan.session_id)
        if session is not None and not any(m.message_id == plan.message_id for m in session.messages):
            session.add("assistant", result["answer"], plan.message_id)
        if key:
            store.remember(principal.user_id, principal.company_id, key, Store.fingerprint(body.dict()), result)
        return result

    # ---- health -----------------------------------------------------------------------------

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    # ---- chat -------------------------------------------------------------------------------

    @app.post(PREFIX + "/chat")
    async def chat(body: ChatBody, request: Request, principal: Principal = Depends(requires(SCOPE_SEND)),
                   idempotency_key: Optional[str] = Header(None)):
        request_id = request.headers.get("x-request-id")
        fault = request_fault(request, body.query)
        due = knobs.due(fault, request_id)
        if due and fault.when == "before":
            stats.fault()
            return fault_knobs.response(fault, request_id)
        result = check_idempotency(principal, idempotency_key, body)
        if result is None:
            plan = generate(principal, body, fault, idempotency_key, request_id)
            result = finish(principal, plan, idempotency_key, body, fault)
        if due:
            stats.fault()
            return fault_knobs.response(fault, request_id)
        return JSONResponse(result)

    @app.post(PREFIX + "/chat/stream")
    async def chat_stream(body: ChatBody, request: Request, principal: Principal = Depends(requires(SCOPE_SEND)),
                          idempotency_key: Optional[str] = Header(None)):
        request_id = request.headers.get("x-request-id")
        fault = request_fault(request, body.query)
        if knobs.due(fault, request_id):
            stats.fault()
            return fault_knobs.response(fault, request_id)
        cached = check_idempotency(principal, idempotency_key, body)
        if cached is not None:
            return ServiceStream(sse_body(plan_of(cached), fault, StreamRun(), lambda: None), lambda: None,
                                 stream_headers(request_id))
        plan = generate(principal, body, fault, idempotency_key, request_id)
        return open_stream(principal, body, plan, fault, idempotency_key, request_id, direct=False)

    @app.get(PREFIX + "/chat/stream")
    async def chat_stream_direct(request: Request, token: Optional[str] = Query(None)):
        if not token:
            raise HTTPException(status_code=401, detail="Missing stream token")
        principal, claims = auth.stream_token(token)
        stats.stream_token()
        try:
            body = ChatBody(**claims["req"])
        except (ValidationError, TypeError) as e:
            errors = e.errors() if isinstance(e, ValidationError) else [
                {"loc": [], "msg": str(e), "type": "type_error"}]
            raise HTTPException(status_code=422, detail=[
                {"loc": ["query", "token", "req", *err["loc"]], "msg": err["msg"], "type": err["type"]}
                for err in errors]) from None
        request_id = claims["rid"]
        stats.tag(request_id)
        fault = request_fault(request, body.query)
        if knobs.due(fault, request_id):
            stats.fault()
            return fault_knobs.response(fault, request_id)
        plan = generate(principal, body, fault, None, request_id)
        return open_stream(principal, body, plan, fault, None, request_id, direct=True)

    def stream_headers(request_id: Optional[str]) -> Dict[str, str]:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        if request_id:
            headers["X-Request-Id"] = request_id
        return headers

    def open_stream(principal: Principal, body: ChatBody, plan: Plan, fault: Optional[Fault],
                    key: Optional[str], request_id: Optional[str], direct: bool) -> ServiceStream:
        session = store.sessions[plan.session_id]
        session.busy = True
        run = StreamRun()

        def on_done():
            finish(principal, plan, key, body, fault)

        def on_close():
            session.busy = False
            status = {"completed": "completed", "failed": "failed"}.get(run.outcome, "cancelled")
            store.stream_ended(request_id, status, run.tokens_sent)
            if direct:
                completion = run.tokens_sent
                webhooks.send({
                    "request_id": request_id, "session_id": plan.session_id, "message_id": plan.message_id,
                    "user_id": principal.user_id, "company_id": principal.company_id, "status": status,
                    "finish_reason": {"completed": "stop", "cancelled": "cancelled"}.get(status),
                    "usage": {"prompt_tokens": plan.prompt_tokens, "completion_tokens": completion,
                              "total_tokens": plan.prompt_tokens + completion},
                    "completed_at": utc_now(),
                })

        return ServiceStream(sse_body(plan, fault, run, on_done), on_close, stream_headers(request_id))

    async def sse_body(plan: Plan, fault: Optional[Fault], run: StreamRun,
                       on_done: Callable[[], None]) -> AsyncIterator[bytes]:
        fault = fault or Fault()
        async for frame in sse_frames(plan, fault, run, on_done):
            data = frame.encode("utf-8")
            if fault.bytewise:
                for i in range(len(data)):
                    yield data[i:i + 1]
                    await asyncio.sleep(0)
            else:
                yield data

    async def sse_frames(plan: Plan, fault: Fault, run: StreamRun, on_done: Callable[[], None]) -> AsyncIterator[str]:
        eol = fault.line_end
        ping = ": ping" + eol
        extra = plan.extra

        def event(payload: dict) -> str:
            return "data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + eol + eol

        remaining = fault.think_ms / 1000
        interval = (fault.ping_ms / 1000) if fault.ping_ms else settings.heartbeat_seconds
        while remaining > 0:
            step = min(interval, remaining)
            await asyncio.sleep(step)
            remaining -= step
            if remaining > 0:
                yield ping
        for _ in range(fault.heartbeats):
            yield ping
        if fault.cut_at_start:
            run.outcome = "failed"
            return
        yield event({"type": "session", "session_id": plan.session_id, "message_id": plan.message_id, **extra})
        yield event({"type": "intent", "intent": plan.intent, **extra})
        if fault.growth:
            yield event({"type": "progress", "stage": "ranking", "percent": 50})
        count = len(plan.tokens)
        for i in range(count + 1):
            if fault.cut_after is not None and min(fault.cut_after, count) == i:
                run.outcome = "failed"
                return
            if fault.error_after is not None and min(fault.error_after, count) == i:
                run.outcome = "failed"
                yield event({"type": "error", "code": "model_overloaded",
                             "message": "The model is overloaded; try again shortly", "retryable": True})
                yield "data: [DONE]" + eol + eol
                return
            if fault.abort_after is not None and min(fault.abort_after, count) == i:
                run.outcome = "failed"
                raise InjectedAbort("abort_after fault: dropping the connection mid-stream")
            if fault.stall_after is not None and min(fault.stall_after, count) == i:
                await asyncio.sleep(settings.stall_max_seconds)
                run.outcome = "failed"
                return
            if i == count:
                break
            if i > 0:
                if fault.heartbeats:
                    yield ping
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
            if fault.oversize and i == 1:
                yield event({"type": "token", "content": "x" * fault.oversize})
            yield event({"type": "token", "content": plan.tokens[i], **extra})
            run.tokens_sent += 1
        if plan.candidates:
            candidates = [{**c, "location": "Berlin"} for c in plan.candidates] if fault.growth else plan.candidates
            yield event({"type": "candidates", "candidates": candidates})
        for action in plan.actions:
            yield event({"type": "action", "action": action})
        if not fault.skip_done:
            yield event({"type": "done", "finish_reason": "stop", "usage": plan.usage, **extra})
        on_done()
        run.outcome = "completed"
        yield "data: [DONE]" + eol + eol

    # ---- sessions ---------------------------------------------------------------------------

    def encode_cursor(seq: int) -> str:
        return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")

    def decode_cursor(cursor: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            before = json.loads(raw)["before"]
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise HTTPException(status_code=400, detail="Invalid cursor") from None
        if not isinstance(before, int):
            raise HTTPException(status_code=400, detail="Invalid cursor")
        return before

    @app.get(PREFIX + "/sessions")
    async def list_sessions(principal: Principal = Depends(requires(SCOPE_READ)),
                            limit: int = Query(10, ge=1, le=100), cursor: Optional[str] = Query(None)):
        sessions = store.sessions_of(principal.user_id, principal.company_id)
        if cursor:
            before = decode_cursor(cursor)
            sessions = [s for s in sessions if s.seq < before]
        page = sessions[:limit]
        next_cursor = encode_cursor(page[-1].seq) if len(sessions) > limit else None
        return {"sessions": [s.summary() for s in page], "next_cursor": next_cursor}

    def owned_session(session_id: str, principal: Principal) -> ChatSession:
        session = store.sessions.get(session_id)
        if session is None:
            raise HTTPException(status_code=404, detail="Session not found")
        if not session.owned_by(principal.user_id, principal.company_id):
            raise HTTPException(status_code=403, detail="Session belongs to another user")
        return session

    @app.get(PREFIX + "/sessions/{session_id}")
    async def get_session(session_id: str, principal: Principal = Depends(requires(SCOPE_READ))):
        return owned_session(session_id, principal).detail()

    @app.delete(PREFIX + "/sessions/{session_id}", status_code=204)
    async def delete_session(session_id: str, principal: Principal = Depends(requires(SCOPE_DELETE))):
        owned_session(session_id, principal)
        del store.sessions[session_id]
        return Response(status_code=204)

    # ---- test-only administration -------------------------------------------------------------

    if settings.test_mode:
        @app.post("/_test/reset", include_in_schema=False)
        async def test_reset():
            store.reset()
            stats.reset()
            knobs.reset()
            webhooks.url = settings.webhook_url
            return {"reset": True}

        @app.post("/_test/faults", include_in_schema=False)
        async def test_arm_fault(request: Request):
            try:
                armed = knobs.arm(await request.json())
            except (FaultError, ValueError) as e:
                raise HTTPException(status_code=400, detail=f"Invalid fault: {e}") from None
            return {"armed": armed.fault.spec, "times": armed.remaining, "path": armed.path}

        @app.get("/_test/stats", include_in_schema=False)
        async def test_stats():
            return stats.snapshot()

        @app.get("/_test/traces/{request_id}", include_in_schema=False)
        async def test_traces(request_id: str):
            """The trace context each request with this X-Request-Id carried, in order: the header
            values as received and, when traceparent is valid, the trace id and parent span id the
            service's own spans would continue."""
            return {"request_id": request_id, "requests": stats.traces(request_id)}

        @app.get("/_test/streams/{request_id}", include_in_schema=False)
        async def test_stream_end(request_id: str, wait_seconds: float = Query(10.0, ge=0, le=60)):
            """How the stream with this request id ended (completed, failed, cancelled), waiting
            up to wait_seconds for it to end; 408 if it has not."""
            ended = await store.wait_stream_end(request_id, wait_seconds)
            if ended is None:
                raise HTTPException(status_code=408, detail=f"Stream {request_id} has not ended")
            return ended

        @app.post("/_test/config", include_in_schema=False)
        async def test_config(request: Request):
            config = await request.json()
            if not isinstance(config, dict) or set(config) - {"webhook_url"}:
                raise HTTPException(status_code=400, detail="only webhook_url can be set")
            webhooks.url = config.get("webhook_url") or None
            return {"webhook_url": webhooks.url}

    return app


def _exit_when_stdin_closes(server: uvicorn.Server) -> None:
    """Stops the server when the parent process closes our stdin (or dies), so no orphan stays."""
    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        server.should_exit = True
        threading.Timer(5.0, lambda: os._exit(0)).start()
    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="LLM chat service reference implementation")
    parser.add_argument("--port", type=int, default=8000, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin is closed")
    parser.add_argument("--backlog", type=int, default=128,
                        help="connections the OS may queue before they are accepted (default 128)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(args.backlog)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http="h11", ws="none", lifespan="off",
                            loop="asyncio", log_config=None, log_level="warning", access_log=False,
                            timeout_keep_alive=5)
    server = uvicorn.Server(config)
    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes(server)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"LLM chat reference service on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
