import { test, expect, open, signUp, logIn, uniqueName, PASSWORD } from "./fixtures";

const TOKEN_KEY = "keyhold.token";

test("sign up leads to the profile with the new account", async ({ page }) => {
  const name = uniqueName("ada");
  await signUp(page, name);
  await expect(page.getByTestId("profile-email")).toHaveText(`${name}@example.com`);
  await expect(page.locator(".profile").getByRole("img", { name: `Initials of ${name}` })).toHaveText(
    name.split("_").map((part) => part[0].toUpperCase()).join("").slice(0, 2),
  );
  await expect(page.getByTestId("header-username")).toHaveText(name);
  await expect(page.getByRole("button", { name: "Log out", exact: true })).toBeVisible();
  const token = await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  expect(token).toBeTruthy();
});

test("a reload keeps the user signed in", async ({ page }) => {
  const name = uniqueName("reload");
  await signUp(page, name);
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("log out, then log in again", async ({ page }) => {
  const name = uniqueName("grace");
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  expect(await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY)).toBeNull();

  // The profile is closed now: the server sends the browser to log in first.
  await open(page, "/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);

  await logIn(page, name);
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("logging in with the e-mail address works too", async ({ page }) => {
  const name = uniqueName("mail");
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await logIn(page, `${name.toUpperCase()}@EXAMPLE.COM`);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("a wrong password shows the message and keeps the user out", async ({ page }) => {
  const name = uniqueName("wrong");
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await logIn(page, name, "this is not my password");
  await expect(page.getByRole("alert")).toContainText("Incorrect username or password.");
  await expect(page).toHaveURL(/\/login$/);
  // The form is usable again.
  await expect(page.getByRole("button", { name: "Log in" })).toBeEnabled();
});

test("a taken username is reported under the Username field", async ({ page, browser }) => {
  const name = uniqueName("taken");
  await signUp(page, name);
  const other = await browser.newPage();
  await open(other, "/signup");
  await other.getByLabel("Username").fill(name.toUpperCase());
  await other.getByLabel("Email").fill(`other-${name}@example.com`);
  await other.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await other.getByRole("button", { name: "Sign up" }).click();
  await expect(other.locator("#username-error")).toHaveText("That username is already taken.");
  await expect(other.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
  await expect(other.getByLabel("Username")).toBeFocused();
  await expect(other).toHaveURL(/\/signup$/);
  await other.close();
});

test("invalid sign-up input is explained field by field", async ({ page }) => {
  await open(page, "/signup");
  await page.getByLabel("Username").fill(uniqueName("short"));
  await page.getByLabel("Email").fill("someone@example.com");
  await page.getByLabel("Password", { exact: true }).fill("too short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator("#password-error")).toContainText("at least 15 characters");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();

  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator("#email-error")).not.toBeEmpty();
  await expect(page.locator("#password-error")).toBeEmpty();
});

test("the button is disabled while the request runs", async ({ page }) => {
  const name = uniqueName("pending");
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await open(page, "/login");
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/login", async (route) => {
    await held;
    await route.continue();
  });
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  const pending = page.getByRole("button", { name: "Logging in…" });
  await expect(pending).toBeDisabled();
  release();
  await expect(page).toHaveURL(/\/profile$/);
});

test("the profile sends a signed-out visitor to the login page", async ({ page }) => {
  await open(page, "/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("a rejected token is forgotten and the visitor sent to log in", async ({ page }) => {
  await open(page, "/");
  await page.evaluate((key) => localStorage.setItem(key, JSON.stringify("not.a.valid-token")), TOKEN_KEY);
  await open(page, "/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
  // The server sent the browser to log in before the app saw the token; the log-in page
  // then finds it refused and forgets it (its own request: wait for it).
  await expect.poll(() => page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY)).toBeNull();
});

test("logging out in one tab signs out the other", async ({ context }) => {
  const first = await context.newPage();
  const name = uniqueName("tabs");
  await signUp(first, name);
  const second = await context.newPage();
  await open(second, "/profile");
  await expect(second.getByTestId("profile-username")).toHaveText(name);
  await first.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(second).toHaveURL(/\/login$/);
});

test("unknown pages answer 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
