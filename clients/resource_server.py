"""A FastAPI resource server that checks Keyhold's tokens on its own (PyJWT's
PyJWKClient over the published JWKS, found through discovery): it accepts a token
fetched from Keyhold and refuses a tampered one, one signed with alg "none" and one
signed HS256 with the public key. The dependency is the one docs/api.md shows.

    resource_server.py <keyhold base url> <algorithm>
"""

import base64
import hashlib
import hmac
import json
import sys
import uuid
import warnings

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# Starlette's test client asks for httpx2; httpx 0.28 is what this venv pins.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402

BASE, ALG = sys.argv[1], sys.argv[2]
ISSUER, AUDIENCE = "keyhold", "keyhold-api"

discovery = httpx.get(f"{BASE}/.well-known/openid-configuration").json()
assert discovery["issuer"] == ISSUER, discovery
jwks = jwt.PyJWKClient(discovery["jwks_uri"], cache_jwk_set=True, lifespan=600)
bearer = HTTPBearer()


def keyhold_claims(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> dict:
    """The token's claims if Keyhold signed it, for this API, and it has not expired."""
    try:
        key = jwks.get_signing_key_from_jwt(credentials.credentials)
        return jwt.decode(
            credentials.credentials,
            key,
            algorithms=["EdDSA", "ES256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
        raise HTTPException(401, f"invalid token: {error}") from error


app = FastAPI()


@app.get("/orders")
def orders(claims: dict = Depends(keyhold_claims)) -> dict:
    return {"user_id": claims["sub"]}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keyhold_token() -> str:
    name = f"rs_{uuid.uuid4().hex[:12]}"
    password = "correct horse battery staple"
    body = {"username": name, "email": f"{name}@example.com", "password": password}
    assert httpx.post(f"{BASE}/api/register", json=body).status_code == 201
    response = httpx.post(f"{BASE}/api/login", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def main() -> None:
    token = keyhold_token()
    header, payload, signature = token.split(".")
    assert json.loads(unb64(header))["alg"] == ALG
    client = TestClient(app)
    ok = client.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    claims = json.loads(unb64(payload))
    assert ok.json() == {"user_id": claims["sub"]}

    other = dict(claims, sub="1" if claims["sub"] != "1" else "2")
    tampered = f"{header}.{b64(json.dumps(other).encode())}.{signature}"
    none_header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    public = json.dumps(httpx.get(discovery["jwks_uri"]).json()["keys"][0]).encode()
    hs_header = json.loads(unb64(header)) | {"alg": "HS256"}
    hs_message = f"{b64(json.dumps(hs_header).encode())}.{payload}"
    hs_signature = b64(hmac.new(public, hs_message.encode(), hashlib.sha256).digest())
    for what, forged in [
        ("tampered payload", tampered),
        ("alg none", f"{none_header}.{payload}."),
        ("HS256 with the public key", f"{hs_message}.{hs_signature}"),
        ("garbage", "not.a.token"),
    ]:
        refused = client.get("/orders", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401, f"{what}: {refused.status_code} {refused.text}"
    print(f"FastAPI + PyJWT ({ALG}): Keyhold's token accepted, 4 forgeries refused")


if __name__ == "__main__":
    main()
