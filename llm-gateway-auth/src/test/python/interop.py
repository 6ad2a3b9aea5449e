#!/usr/bin/env python3
"""Interop helper for the llm-gateway-auth tests: PyJWT (as the service uses it) and a
Standard Webhooks HMAC reference written from the spec with hmac/hashlib/base64.

Usage: interop.py COMMAND, with one JSON object on stdin; writes one JSON object on stdout.
Secrets travel on stdin only, never as arguments. Commands:

  verify-jwt      {token, secret_b64, audience, issuer}        -> {claims, header} or {error}
  mint-jwt        {claims, secret_b64, headers, algorithm?}    -> {token} or {error}
  sign-webhook    {secret, msg_id, timestamp, body_b64}        -> {signature}
  verify-webhook  {secret, headers, body_b64, now, tolerance}  -> {valid, reason?}

Run it with Debian's /usr/bin/python3 and the python3-jwt package.
"""
import base64
import hashlib
import hmac
import json
import sys

import jwt


def verify_jwt(req):
    secret = base64.b64decode(req["secret_b64"])
    try:
        claims = jwt.decode(
            req["token"],
            secret,
            algorithms=["HS256"],
            audience=req["audience"],
            issuer=req["issuer"],
            options={"require": ["exp", "iat", "sub", "jti", "aud", "iss"]},
        )
    except jwt.exceptions.PyJWTError as e:
        return {"error": type(e).__name__}
    return {"claims": claims, "header": jwt.get_unverified_header(req["token"])}


def mint_jwt(req):
    secret = base64.b64decode(req["secret_b64"])
    algorithm = req.get("algorithm", "HS256")
    try:
        token = jwt.encode(req["claims"], secret, algorithm=algorithm, headers=req.get("headers"))
    except jwt.exceptions.PyJWTError as e:
        return {"error": type(e).__name__}
    if isinstance(token, bytes):  # PyJWT 1.x
        token = token.decode("ascii")
    return {"token": token}


def _secret_bytes(secret):
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret)


def _signature(secret, msg_id, timestamp, body):
    signed = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_webhook(req):
    body = base64.b64decode(req["body_b64"])
    return {"signature": "v1," + _signature(req["secret"], req["msg_id"], req["timestamp"], body)}


def verify_webhook(req):
    headers = {name.lower(): value for name, value in req["headers"].items()}
    body = base64.b64decode(req["body_b64"])
    msg_id = headers["webhook-id"]
    timestamp = int(headers["webhook-timestamp"])
    if abs(int(req["now"]) - timestamp) > int(req.get("tolerance", 300)):
        return {"valid": False, "reason": "timestamp"}
    expected = _signature(req["secret"], msg_id, timestamp, body)
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            return {"valid": True}
    return {"valid": False, "reason": "signature"}


COMMANDS = {
    "verify-jwt": verify_jwt,
    "mint-jwt": mint_jwt,
    "sign-webhook": sign_webhook,
    "verify-webhook": verify_webhook,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: interop.py " + "|".join(COMMANDS))
    result = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    result["pyjwt_version"] = jwt.__version__
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
