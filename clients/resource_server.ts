// A Node service that checks Keyhold's tokens on its own with jose's
// createRemoteJWKSet (the key set found through discovery): it accepts a token fetched
// from Keyhold and refuses a tampered one, alg "none" and HS256 keyed with the public
// key. The verification is the one docs/api.md shows.
// Usage: tsx resource_server.ts <base url> <algorithm>
import { createHmac, randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";

const [base, alg] = process.argv.slice(2);
const ISSUER = "keyhold";
const AUDIENCE = "keyhold-api";
const PASSWORD = "correct horse battery staple";

function check(condition: boolean, what: string): void {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
}

const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
check(discovery.issuer === ISSUER, "discovery names the issuer");
const keyhold = createRemoteJWKSet(new URL(discovery.jwks_uri));

/** The claims of a token Keyhold signed for this API, or null. */
async function verified(token: string): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(token, keyhold, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["EdDSA", "ES256"],
      requiredClaims: ["exp", "sub"],
    });
    return payload;
  } catch {
    return null;
  }
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const unb64 = (text: string) => JSON.parse(Buffer.from(text, "base64url").toString());

const name = `js${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const registered = await fetch(`${base}/api/register`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ username: name, email: `${name}@example.com`, password: PASSWORD }),
});
check(registered.status === 201, "register answers 201");
const login = await fetch(`${base}/api/login`, {
  method: "POST",
  body: new URLSearchParams({ username: name, password: PASSWORD }),
});
check(login.status === 200, "log-in answers 200");
const token: string = (await login.json()).access_token;
const [header, payload, signature] = token.split(".");
check(unb64(header).alg === alg, `the token is signed ${alg}`);

const claims = await verified(token);
check(claims !== null && claims.sub === unb64(payload).sub, "Keyhold's token is accepted");

const other = { ...unb64(payload), sub: "999999" };
const publicKey = JSON.stringify((await (await fetch(discovery.jwks_uri)).json()).keys[0]);
const hsMessage = `${b64(JSON.stringify({ ...unb64(header), alg: "HS256" }))}.${payload}`;
const hsSignature = createHmac("sha256", publicKey).update(hsMessage).digest("base64url");
const forgeries: [string, string][] = [
  ["tampered payload", `${header}.${b64(JSON.stringify(other))}.${signature}`],
  ["alg none", `${b64(JSON.stringify({ alg: "none", typ: "JWT" }))}.${payload}.`],
  ["HS256 with the public key", `${hsMessage}.${hsSignature}`],
  ["garbage", "not.a.token"],
];
for (const [what, forged] of forgeries) {
  check((await verified(forged)) === null, `${what} is refused`);
}
console.log(`Node + jose (${alg}): Keyhold's token accepted, ${forgeries.length} forgeries refused`);
