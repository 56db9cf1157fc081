"""A tiny OpenID Connect provider on 127.0.0.1, for tests only (no internet).

It plays an organisation's identity provider (Google Workspace, Microsoft Entra, Keycloak …) just far
enough for Streamlit's ``st.login`` (Authlib) to do the real authorization-code flow against it:

* ``/.well-known/openid-configuration``  the discovery document (PKCE S256 offered);
* ``/authorize``   "signs in" at once as ``provider.identity`` and redirects back with a one-time code,
                   after checking the client id and the registered redirect address;
* ``/token``       checks the client secret, the code, the redirect address and the PKCE verifier, and
                   returns an ID token signed (RS256) with a throw-away RSA key, carrying the nonce;
* ``/jwks``        the public half of that key;  ``/userinfo``  the same claims for the access token.

Everything it saw is kept in ``provider.seen`` so that a test can check the flow was the real one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class OIDCProvider:
    def __init__(self, client_id: str, client_secret: str, redirect_uri_prefix: str = "http://127.0.0.1:"):
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri_prefix = redirect_uri_prefix
        self.identity: dict = {"sub": "user-1", "email": "someone@example.org", "email_verified": True,
                               "name": "Someone"}
        self.seen: list[dict] = []
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-" + secrets.token_hex(4)
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.discovery())
                if url.path == "/jwks":
                    return self._json(200, provider.jwks())
                if url.path == "/authorize":
                    return provider._authorize(self, q)
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                    claims = provider._tokens.get(token)
                    return self._json(200, claims) if claims else self._json(401, {"error": "invalid_token"})
                self._json(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                if urlparse(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = provider._token(form, self.headers.get("Authorization", ""))
                self._json(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OIDCProvider":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- documents --------------------------------------------------------------------------
    def discovery(self) -> dict:
        u = self.url
        return {"issuer": u, "authorization_endpoint": f"{u}/authorize", "token_endpoint": f"{u}/token",
                "jwks_uri": f"{u}/jwks", "userinfo_endpoint": f"{u}/userinfo",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"], "claims_supported": ["sub", "email", "name"]}

    def jwks(self) -> dict:
        pub = self._key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": _int_b64(pub.n),
                          "e": _int_b64(pub.e)}]}

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    def id_token(self, claims: dict) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    # --- the flow ---------------------------------------------------------------------------
    def _authorize(self, handler: BaseHTTPRequestHandler, q: dict) -> None:
        self.seen.append({"step": "authorize", **q})
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect.startswith(self.redirect_uri_prefix) \
                or q.get("response_type") != "code":
            handler.send_response(400)
            handler.end_headers()
            handler.wfile.write(b"bad authorization request")
            return
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = {"redirect_uri": redirect, "nonce": q.get("nonce"),
                                 "challenge": q.get("code_challenge"), "method": q.get("code_challenge_method"),
                                 "identity": dict(self.identity), "used": False}
        handler.send_response(302)
        handler.send_header("Location", f"{redirect}?{urlencode({'code': code, 'state': q.get('state', '')})}")
        handler.end_headers()

    def _token(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.seen.append({"step": "token", **{k: v for k, v in form.items() if k != "client_secret"}})
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            from urllib.parse import unquote

            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            if grant is None or grant["used"] or form.get("grant_type") != "authorization_code" \
                    or form.get("redirect_uri") != grant["redirect_uri"]:
                return 400, {"error": "invalid_grant"}
            grant["used"] = True
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE check failed"}
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 300, "auth_time": now,
                  **grant["identity"]}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        access = secrets.token_urlsafe(24)
        self._tokens[access] = {k: v for k, v in grant["identity"].items()}
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "scope": "openid email profile",
                     "id_token": self.id_token(claims)}
