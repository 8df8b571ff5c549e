// Keyhold's API through openapi-fetch, typed by openapi-typescript from the served
// document: register, log in, the profile, an image upload, a refused log-in.
// Usage: tsx flow.ts <base url> <image file>   (./generated/api.d.ts made first)
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { paths } from "./generated/api.js";

const [base, imagePath] = process.argv.slice(2);
const PASSWORD = "correct horse battery staple";

function check(condition: boolean, what: string): void {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

const client = createClient<paths>({ baseUrl: base });
const name = `ts${randomUUID().replaceAll("-", "").slice(0, 12)}`;

const created = await client.POST("/api/register", {
  body: { username: name, email: `${name}@example.com`, password: PASSWORD },
});
check(created.response.status === 201, "register answers 201");
check(created.data?.username === name && created.data?.email === `${name}@example.com`,
  "register returns the user");

// The OAuth2 password form: openapi-fetch encodes the body as a form for this header.
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };
const wrong = await client.POST("/api/login", {
  body: { username: name, password: `wrong ${PASSWORD}` },
  headers: FORM,
});
check(wrong.response.status === 401, "a wrong password is 401");
check(wrong.error?.error === "invalid_credentials", "the refusal is an ApiError invalid_credentials");

const login = await client.POST("/api/login", {
  body: { username: name, password: PASSWORD },
  headers: FORM,
});
const token = login.data?.access_token;
check(login.response.status === 200 && login.data?.token_type === "bearer" && !!token,
  "login returns a bearer token");

const headers = { Authorization: `Bearer ${token}` };
const me = await client.GET("/api/users/me", { headers });
check(me.data?.username === name && me.data?.email === `${name}@example.com`,
  "users/me returns the user");

const picture = new Blob([await readFile(imagePath)], { type: "image/png" });
// The document types the file field as a string (format: binary): a placeholder body,
// and the multipart form built by hand, as openapi-fetch's documentation does.
const upload = await client.POST("/api/users/me/image", {
  headers,
  body: { image: "" },
  bodySerializer: () => {
    const data = new FormData();
    data.append("image", picture, "avatar.png");
    return data;
  },
});
const imageUrl = upload.data?.image_url;
check(upload.response.status === 200 && typeof imageUrl === "string" && imageUrl.endsWith("/256.webp"),
  "the upload sets image_url");
const served = await fetch(base + imageUrl);
check(served.status === 200 && served.headers.get("content-type") === "image/webp",
  "the image is served as WebP");
