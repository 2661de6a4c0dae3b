"""A local token issuer for tests: an RSA key and a JWKS served over HTTP on 127.0.0.1.

Until the identity service's embedded issuer exists, this is what signs test tokens; the
platform validates them exactly as it would validate Keycloak's (SPEC 7.2).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "prevention-api"


class TokenIssuer:
    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.kid = self.rotate()
        self.requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.requests += 1
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}/realms/prevention"
        self.jwks_url = f"{self.issuer}/protocol/openid-connect/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def rotate(self) -> str:
        kid = uuid.uuid4().hex[:16]
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        return kid

    def jwks(self) -> dict:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, use="sig", alg="RS256")
            keys.append(jwk)
        return {"keys": keys}

    def claims(self, *, tenant: str, roles: list[str], sub: str | None = None, **extra) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": sub or f"user-{uuid.uuid4().hex[:8]}", "aud": [AUDIENCE, "account"],
            "exp": now + 300, "iat": now, "azp": "prevention-console", "typ": "Bearer",
            "realm_access": {"roles": roles}, "tenant": tenant, "scope": "openid profile",
        }
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, *, kid: str | None = None, headers: dict | None = None) -> str:
        kid = kid or self.kid
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid, **(headers or {})})

    def token(self, *, tenant: str, roles: list[str], sub: str | None = None, **extra) -> str:
        return self.sign(self.claims(tenant=tenant, roles=roles, sub=sub, **extra))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
