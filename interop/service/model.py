"""The deterministic "model" of the reference service: the same query always gets the same intent,
answer text, tokens, candidates, actions and usage, so tests can compare a streamed answer with the
synchronous one. The text holds non-ASCII characters on purpose (curly quotes, an em dash, accented
names) so that byte-by-byte delivery splits UTF-8 sequences."""
import hashlib
import re
from dataclasses import dataclass, field
from typing import List, Optional

MODEL_NAME = "recruiter-v3"

_NAMES = ["Ada L.", "Zoë K.", "José M.", "Grace H.", "Linus T.", "Małgorzata W."]
_HEADLINES = [
    "Senior Rails Engineer",
    "Staff Backend Engineer",
    "Platform Engineer — Kubernetes",
    "Full-stack Developer",
    "Data Engineer",
]
_SEARCH_WORDS = re.compile(r"\b(find|search|looking for|hire|engineers?|developers?|candidates?)\b", re.IGNORECASE)
_TOKEN = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Answer:
    intent: str
    tokens: List[str]
    candidates: List[dict] = field(default_factory=list)
    actions: List[dict] = field(default_factory=list)
    usage: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def answer(query: str, user_intent: Optional[str] = None, profile_id: Optional[str] = None) -> Answer:
    """Answers a query (fault directives already stripped)."""
    digest = hashlib.sha256(query.encode("utf-8")).digest()
    intent = user_intent or ("search" if _SEARCH_WORDS.search(query) else "chat")
    candidates: List[dict] = []
    actions: List[dict] = []
    if intent == "search":
        count = 1 + digest[0] % 3
        for i in range(count):
            candidates.append({
                "profile_id": "id_" + digest[1 + 4 * i:5 + 4 * i].hex(),
                "name": _NAMES[(digest[13] + i) % len(_NAMES)],
                "headline": _HEADLINES[digest[17 + i] % len(_HEADLINES)],
                "score": round(0.97 - 0.05 * i - (digest[21 + i] % 4) / 100, 2),
            })
        names = ", ".join(c["name"] for c in candidates)
        plural = "s" if count != 1 else ""
        text = f"I found {count} candidate{plural} for “{query}”: {names} — want me to narrow them down by location?"
        actions.append({"type": "suggest_filter", "field": "location", "label": "Narrow by location"})
    elif intent == "user_action":
        target = profile_id or "id_" + digest[1:5].hex()
        text = f"Done — I opened profile {target} for “{query}”."
        actions.append({"type": "open_profile", "profile_id": target})
    else:
        text = f"Here’s a short answer to “{query}”: strong candidates reply within 48 h, so follow up on day 3 ✔."
    tokens = tokenize(text)
    prompt_tokens = 24 + len(query.split())
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(tokens),
        "total_tokens": prompt_tokens + len(tokens),
    }
    return Answer(intent=intent, tokens=tokens, candidates=candidates, actions=actions, usage=usage)


def tokenize(text: str) -> List[str]:
    """Splits an answer text into the token pieces a stream sends."""
    return _TOKEN.findall(text)
