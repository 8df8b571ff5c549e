import type { Browser, BrowserContext, Page } from "@playwright/test";
import { test, expect, open, openSettings, signUp, logIn, uniqueName } from "./fixtures";

const token = (page: Page) =>
  page.evaluate(() => {
    const stored = localStorage.getItem("keyhold.token");
    return stored === null ? null : (JSON.parse(stored) as string);
  });

const FIREFOX =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/** A second device: its own browser context (own storage and cookies), logged in. */
async function otherDevice(browser: Browser, name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ userAgent: FIREFOX });
  const page = await context.newPage();
  await logIn(page, name);
  await expect(page).toHaveURL(/\/profile$/);
  return { context, page };
}

test("log-in sets an HttpOnly, SameSite=Strict refresh cookie the page cannot read", async ({ page, context }) => {
  await signUp(page, uniqueName("cookie"));
  const cookies = await context.cookies();
  const refresh = cookies.find((c) => c.name === "__Host-keyhold-refresh");
  expect(refresh, JSON.stringify(cookies)).toBeTruthy();
  expect(refresh!.httpOnly).toBe(true);
  expect(refresh!.secure).toBe(true);
  expect(refresh!.sameSite).toBe("Strict");
  expect(refresh!.path).toBe("/");
  expect(await page.evaluate(() => document.cookie)).not.toContain("keyhold-refresh");
});

test("a refused access token is renewed once with the cookie and the request retried", async ({ page }) => {
  const name = uniqueName("renew");
  await signUp(page, name);
  const before = await token(page);
  // A token the server refuses (its signature no longer matches).
  const forged = await page.evaluate(() => {
    // gloo-storage keeps values as JSON strings.
    const t: string = JSON.parse(localStorage.getItem("keyhold.token")!);
    const forged = t.slice(0, -4) + (t.endsWith("AAAA") ? "BBBB" : "AAAA");
    localStorage.setItem("keyhold.token", JSON.stringify(forged));
    return forged;
  });
  await open(page, "/profile");
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  // The page arrives signed in (the session cookie); the browser's own request with the
  // refused token is what renews it.
  await expect.poll(() => token(page)).not.toBe(forged);
  const after = await token(page);
  expect(after).not.toBe(before);
  expect((await page.request.get("/api/users/me", { headers: { authorization: `Bearer ${after}` } })).status()).toBe(200);
});

test("the token is renewed shortly before it expires, without a reload", async ({ page }) => {
  await page.clock.install();
  const name = uniqueName("clock");
  await signUp(page, name);
  const first = await token(page);
  // The access token lives 15 minutes; renewal is due a minute before.
  await page.clock.fastForward("14:30");
  await expect.poll(() => token(page), { timeout: 10_000 }).not.toBe(first);
  await page.getByRole("link", { name: /Signed in as/ }).click();
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("tabs stay in sync: renewal in both, then a log-out in one signs out the other", async ({ context }) => {
  const name = uniqueName("tabs");
  const first = await context.newPage();
  await first.clock.install();
  await signUp(first, name);
  const second = await context.newPage();
  await second.clock.install();
  await open(second, "/profile");
  await expect(second.getByTestId("profile-username")).toHaveText(name);

  // Both tabs reach the renewal time together: neither signs the other out.
  await Promise.all([first.clock.fastForward("14:58"), second.clock.fastForward("14:58")]);
  await expect.poll(async () => (await token(first)) !== null && (await token(first)) === (await token(second))).toBe(true);
  for (const tab of [first, second]) {
    await open(tab, "/profile");
    await expect(tab.getByTestId("profile-username")).toHaveText(name);
  }

  const stale = await token(first);
  await second.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(second).toHaveURL(/\/login$/);
  // The other tab hears about it through the storage event.
  await expect(first).toHaveURL(/\/login$/);
  await expect(first.getByRole("link", { name: "Log in" })).toBeVisible();
  // And the session is over on the server, not just forgotten by the browser.
  expect((await first.request.get("/api/users/me", { headers: { authorization: `Bearer ${stale}` } })).status()).toBe(401);
});

test("your sessions: see the other device and sign it out", async ({ page, browser }) => {
  const name = uniqueName("devices");
  await signUp(page, name);
  const other = await otherDevice(browser, name);

  await open(page, "/profile/sessions");
  const sessions = page.getByTestId("session");
  await expect(sessions).toHaveCount(2);
  const here = page.locator('[data-testid="session"][data-current="true"]');
  await expect(here).toContainText("This device");
  await expect(here).toContainText("active now");
  const there = page.locator('[data-testid="session"][data-current="false"]');
  await expect(there).toContainText("Firefox on Windows");
  await expect(there).toContainText("127.0.0.1");
  await expect(there).toContainText("just now");

  await there.getByRole("button", { name: /Sign out Firefox on Windows/ }).click();
  await expect(page.getByRole("status").filter({ hasText: "Signed out Firefox on Windows." })).toBeVisible();
  await expect(sessions).toHaveCount(1);

  // The other device is signed out at its next request.
  await open(other.page, "/profile");
  await expect(other.page).toHaveURL(/\/login\?next=%2Fprofile$/);
  await other.context.close();
});

test("sign out everywhere else keeps this device signed in", async ({ page, browser }) => {
  const name = uniqueName("elsewhere");
  await signUp(page, name);
  const devices = [await otherDevice(browser, name), await otherDevice(browser, name)];
  await openSettings(page, "Sessions");
  await expect(page.getByTestId("session")).toHaveCount(3);
  await page.getByRole("button", { name: "Sign out everywhere else" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Signed out 2 other sessions." })).toBeVisible();
  await expect(page.getByTestId("session")).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Sign out everywhere else" })).toBeDisabled();
  for (const device of devices) {
    await open(device.page, "/profile");
    await expect(device.page).toHaveURL(/\/login\?next=%2Fprofile$/);
    await device.context.close();
  }
  await open(page, "/profile");
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});
