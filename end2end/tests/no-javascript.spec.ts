import type { APIRequestContext, Page } from "@playwright/test";
import * as OTPAuth from "otpauth";
import { test, expect, PASSWORD, uniqueName, mailTo, linkIn } from "./fixtures";

// The entry pages work before the WASM loads (issue 30 part 3): sign-up, log-in (with
// its second step), forgotten password and log-out are plain HTML forms the server
// answers itself. A slow network, a blocked script or JavaScript turned off must not
// keep anyone out. These tests run with JavaScript off, so nothing hydrates: pages are
// opened with page.goto (fixtures' open() waits for data-hydrated).
test.use({ javaScriptEnabled: false });

// A 1 × 1 PNG: the smallest picture the server's decoder takes.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

/** An account created through the JSON API (the browser only tests the forms). */
async function register(request: APIRequestContext, name: string): Promise<void> {
  const response = await request.post("/api/register", {
    data: { username: name, email: `${name}@example.com`, password: PASSWORD },
  });
  expect(response.status()).toBe(201);
}

/** The authenticator app for a secret (otpauth, as second-factors.spec.ts). */
function app(secret: string) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  const at = (offset: number) => totp.generate({ timestamp: Date.now() + offset });
  // The activation used the current step's code: later sign-ins use the next one.
  return { now: () => at(0), next: () => at(30_000), valid: () => [at(-30_000), at(0), at(30_000)] };
}

/** An account with the authenticator app turned on (API): the app and the recovery codes. */
async function withAuthenticator(request: APIRequestContext, name: string) {
  await register(request, name);
  const login = await request.post("/api/login", { form: { username: name, password: PASSWORD } });
  expect(login.status()).toBe(200);
  const headers = { authorization: `Bearer ${(await login.json()).access_token}` };
  const setup = await request.post("/api/users/me/authenticator/setup", { headers, data: { current_password: PASSWORD } });
  expect(setup.status()).toBe(200);
  const authenticator = app((await setup.json()).secret as string);
  const activate = "/api/users/me/authenticator/activate";
  const activated = await request.post(activate, { headers, data: { code: authenticator.now() } });
  expect(activated.status()).toBe(200);
  return { authenticator, codes: (await activated.json()).recovery_codes as string[] };
}

/** Sends a form that the server answers with a page (no redirect): that page's status. */
async function sendExpectingPage(page: Page, button: string): Promise<number> {
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.request().isNavigationRequest());
  await page.getByRole("button", { name: button, exact: true }).click();
  return (await answer).status();
}

/** The password step of /login (the page must be open). */
async function fillLogIn(page: Page, name: string, password = PASSWORD): Promise<void> {
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password", { exact: true }).fill(password);
}

async function expectSignedInOnProfile(page: Page, name: string): Promise<void> {
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("header-username")).toHaveText(name);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
}

test("sign up with a picture, then log out, all without JavaScript", async ({ page }) => {
  const name = uniqueName("nojs_pic");
  await page.goto("/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Profile image (optional)").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: PNG });
  await page.getByRole("button", { name: "Sign up", exact: true }).click();
  await expectSignedInOnProfile(page, name);
  const avatar = page.locator(".profile").getByRole("img", { name: `Profile picture of ${name}` });
  await expect(avatar).toHaveAttribute("src", /^\/media\/avatars\//);
  expect((await page.request.get((await avatar.getAttribute("src"))!)).status()).toBe(200);
  await expect(page.locator(".site-header").getByRole("img", { name: `Profile picture of ${name}` })).toBeVisible();
  await page.screenshot({ path: "screenshots/no-js-profile.png", fullPage: true });

  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId("header-username")).toHaveCount(0);
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
});

test("a wrong password is explained and the username kept; then next= is followed", async ({ page, request }) => {
  const name = uniqueName("nojs_login");
  await register(request, name);
  await page.goto("/login?next=%2Fprofile%2Fsecurity");
  await fillLogIn(page, name, "this is not my password");
  expect(await sendExpectingPage(page, "Log in")).toBe(401);
  // The error names no field: the notice of the form says it.
  await expect(page.getByRole("alert")).toContainText("Incorrect username or password.");
  await expect(page.getByLabel("Username")).toHaveValue(name);
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile%2Fsecurity$/);
  await page.screenshot({ path: "screenshots/no-js-login-error.png", fullPage: true });

  // The re-rendered form posts to the same URL, next= included.
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/profile\/security$/);
  await expect(page.getByTestId("header-username")).toHaveText(name);
  await expect(page.getByRole("heading", { level: 1, name: "Security" })).toBeVisible();
});

test("log in with the authenticator app's code as the second step", async ({ page, request }) => {
  const name = uniqueName("nojs_totp");
  const { authenticator } = await withAuthenticator(request, name);
  await page.goto("/login");
  await fillLogIn(page, name);
  expect(await sendExpectingPage(page, "Log in")).toBe(200);
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toBeHidden();

  const code = page.getByLabel("Code", { exact: true });
  const wrong = ["000000", "111111", "222222", "333333"].find((c) => !authenticator.valid().includes(c))!;
  await code.fill(wrong);
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expect(page.locator("#mfa-code-error")).toContainText("That code is not right");
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
  await page.screenshot({ path: "screenshots/no-js-login-second-step.png", fullPage: true });

  await code.fill(authenticator.next());
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expectSignedInOnProfile(page, name);
});

test("a recovery code typed in the Code field finishes the log-in", async ({ page, request }) => {
  const name = uniqueName("nojs_rcode");
  const { codes } = await withAuthenticator(request, name);
  await page.goto("/login");
  await fillLogIn(page, name);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  await page.getByLabel("Code", { exact: true }).fill(codes[0]);
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expectSignedInOnProfile(page, name);
});

test("forgot password: the mailed link sets a new one, then log in with it", async ({ page, request }) => {
  const name = uniqueName("nojs_forgot");
  const email = `${name}@example.com`;
  const newPassword = "a new passphrase without any script";
  await register(request, name);
  await page.goto("/forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a link", exact: true }).click();
  await expect(page.getByTestId("forgot-sent")).toContainText("If an account uses that address");

  const link = linkIn(await mailTo(request, email, "Reset your Keyhold password"));
  await page.goto(link.replace(/^https?:\/\/[^/]+/, ""));
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Set new password", exact: true }).click();
  await expect(page.getByTestId("reset-done")).toContainText("Your password was changed");

  await page.goto("/login");
  await fillLogIn(page, name, newPassword);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expectSignedInOnProfile(page, name);
});

test("a refused sign-up is explained beside its fields and keeps what was typed", async ({ page, request }) => {
  const taken = uniqueName("nojs_taken");
  await register(request, taken);
  const signUp = async (username: string, email: string, password: string) => {
    await page.goto("/signup");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    return sendExpectingPage(page, "Sign up");
  };
  const expectKept = async (username: string, email: string) => {
    await expect(page).toHaveURL(/\/signup$/);
    await expect(page.getByLabel("Username")).toHaveValue(username);
    await expect(page.getByLabel("Email")).toHaveValue(email);
    await expect(page.getByTestId("header-username")).toHaveCount(0);
  };

  const otherEmail = `other-${taken}@example.com`;
  expect(await signUp(taken.toUpperCase(), otherEmail, PASSWORD)).toBe(409);
  await expect(page.locator("#username-error")).toHaveText("That username is already taken.");
  await expectKept(taken.toUpperCase(), otherEmail);
  await page.screenshot({ path: "screenshots/no-js-signup-errors.png", fullPage: true });

  const fresh = uniqueName("nojs_short");
  expect(await signUp(fresh, `${fresh}@example.com`, "too short")).toBe(422);
  await expect(page.locator("#password-error")).toContainText("at least 15 characters");
  await expectKept(fresh, `${fresh}@example.com`);

  // Nothing was signed in.
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
});
