"""Completion webhooks (CONTRACT section 5), signed the Standard Webhooks way and delivered from a
background thread: redelivered on any non-2xx answer or network failure, up to
LLM_WEBHOOK_MAX_REDELIVERIES times, waiting LLM_WEBHOOK_BACKOFF_SECONDS and doubling. The message
id and body stay the same on every delivery; the timestamp and signature are made anew."""
import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, Optional

LOG = logging.getLogger("llm_service.webhooks")
TIMEOUT_SECONDS = 5


def signature(secret: bytes, message_id: str, timestamp: str, body: bytes) -> str:
    signed = message_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode("ascii")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is a failed delivery, never followed


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class WebhookSender:
    def __init__(self, settings, stats, current_epoch: Callable[[], int]) -> None:
        self.secret = settings.webhook_secret
        self.url: Optional[str] = settings.webhook_url
        self.max_redeliveries = settings.webhook_max_redeliveries
        self.backoff = settings.webhook_backoff_seconds
        self.stats = stats
        self.current_epoch = current_epoch

    def send(self, data: dict) -> Optional[str]:
        """Queues one chat.completed message; returns its id, or None when webhooks are off."""
        url, secret = self.url, self.secret
        if not url or secret is None:
            LOG.info("completion webhook not sent: LLM_WEBHOOK_URL or LLM_WEBHOOK_SECRET unset")
            return None
        body = json.dumps({"type": "chat.completed", "data": data}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        message_id = "msg_" + secrets.token_urlsafe(18)
        epoch = self.current_epoch()
        threading.Thread(target=self._deliver, args=(url, secret, message_id, body, epoch),
                         name=f"webhook-{message_id}", daemon=True).start()
        return message_id

    def _deliver(self, url: str, secret: bytes, message_id: str, body: bytes, epoch: int) -> None:
        for attempt in range(1, self.max_redeliveries + 2):
            if attempt > 1:
                time.sleep(self.backoff * 2 ** (attempt - 2))
            if self.current_epoch() != epoch:
                return  # the test state was reset: this message belongs to a finished test
            timestamp = str(int(time.time()))
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json",
                "User-Agent": "llm-chat-service-reference",
                "webhook-id": message_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": signature(secret, message_id, timestamp, body),
            })
            status, error = None, None
            try:
                with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
                    status = answer.status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError as e:
                error = f"{type(e).__name__}: {e}"
            self.stats.webhook({"webhook_id": message_id, "attempt": attempt, "status": status, "error": error})
            if status is not None and 200 <= status < 300:
                return
            LOG.warning("webhook %s attempt %d failed: %s", message_id, attempt, status or error)
        LOG.error("webhook %s given up after %d attempts", message_id, self.max_redeliveries + 1)
