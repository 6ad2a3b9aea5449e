"""Authentication (CONTRACT section 1) and stream tokens (section 4).

Scheme 1: X-Service-Token (the shared secret, compared in constant time) plus the user headers.
Scheme 2: Authorization: Bearer <HS256 JWT>, verified with PyJWT: the `kid` header picks the
secret, aud llm-chat, iss rails-api, exp - iat <= 300 s, string sub and company_id, and the scope
the endpoint needs (403 when missing). Stream tokens: the same checks with aud llm-chat-stream and
their own key set, plus a single-use jti, a `req` object and a `rid` string."""
import hmac
from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

import jwt
from fastapi import HTTPException
from starlette.requests import Request

AUDIENCE = "llm-chat"
STREAM_AUDIENCE = "llm-chat-stream"
ISSUER = "rails-api"
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 5

SCOPE_SEND = "llm:chat:send"
SCOPE_READ = "llm:chat:read"
SCOPE_DELETE = "llm:chat:delete"


@dataclass(frozen=True)
class Principal:
    user_id: str
    company_id: str
    role: str
    company_role: Optional[str]
    scheme: str
    scopes: Optional[FrozenSet[str]] = None


def _unauthorized(detail: str, bearer: bool = False) -> HTTPException:
    return HTTPException(status_code=401, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"} if bearer else None)


class Authenticator:
    def __init__(self, settings, store) -> None:
        self.settings = settings
        self.store = store

    def principal(self, request: Request, scope: str) -> Principal:
        auth = request.headers.get("authorization")
        if auth is not None:
            kind, _, token = auth.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise _unauthorized("Authorization must be 'Bearer <token>'", bearer=True)
            claims = self._verify(token.strip(), self.settings.jwt_keys, AUDIENCE)
            principal = _principal_from_claims(claims, "jwt")
            if scope not in principal.scopes:
                raise HTTPException(status_code=403, detail=f"Token lacks the scope {scope}")
            return principal
        token = request.headers.get("x-service-token")
        if token is None:
            raise _unauthorized("Not authenticated")
        if not hmac.compare_digest(token.encode("utf-8"), self.settings.service_token.encode("utf-8")):
            raise _unauthorized("Invalid service token")
        missing = [h for h in ("X-User-Id", "X-Company-Id", "X-User-Role") if not request.headers.get(h)]
        if missing:
            raise _unauthorized("Missing user headers: " + ", ".join(missing))
        return Principal(request.headers["x-user-id"], request.headers["x-company-id"],
                         request.headers["x-user-role"], request.headers.get("x-company-role"), "service-token")

    def stream_token(self, token: str) -> Tuple[Principal, dict]:
        claims = self._verify(token, self.settings.stream_keys, STREAM_AUDIENCE)
        principal = _principal_from_claims(claims, "stream-token")
        if SCOPE_SEND not in principal.scopes:
            raise HTTPException(status_code=403, detail=f"Stream token lacks the scope {SCOPE_SEND}")
        if not isinstance(claims.get("req"), dict):
            raise _unauthorized("Stream token has no req object")
        if not isinstance(claims.get("rid"), str) or not claims["rid"]:
            raise _unauthorized("Stream token has no rid")
        if not self.store.use_jti(str(claims["jti"]), float(claims["exp"])):
            raise _unauthorized("Stream token was already used")
        return principal, claims

    @staticmethod
    def _verify(token: str, keys: Dict[str, bytes], audience: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthorized("Malformed token", bearer=True) from None
        kid = header.get("kid")
        if kid is None and len(keys) == 1:
            secret = next(iter(keys.values()))
        else:
            secret = keys.get(kid) if isinstance(kid, str) else None
        if secret is None:
            raise _unauthorized("Unknown signing key", bearer=True)
        try:
            claims = jwt.decode(
                token, secret, algorithms=["HS256"], audience=audience, issuer=ISSUER, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]})
        except jwt.ExpiredSignatureError:
            raise _unauthorized("Token expired", bearer=True) from None
        except jwt.PyJWTError as e:
            raise _unauthorized(f"Invalid token ({type(e).__name__})", bearer=True) from None
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise _unauthorized(f"Token lifetime exceeds {MAX_LIFETIME_SECONDS} s", bearer=True)
        return claims


def _principal_from_claims(claims: dict, scheme: str) -> Principal:
    sub, company = claims.get("sub"), claims.get("company_id")
    if not isinstance(sub, str) or not sub or not isinstance(company, str) or not company:
        raise _unauthorized("sub and company_id must be non-empty strings", bearer=True)
    scopes = claims.get("scopes")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _unauthorized("scopes must be a list of strings", bearer=True)
    role = claims.get("role")
    company_role = claims.get("company_role")
    return Principal(sub, company, role if isinstance(role, str) else "",
                     company_role if isinstance(company_role, str) else None, scheme, frozenset(scopes))
