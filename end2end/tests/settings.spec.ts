import { test, expect, open, openSettings, signUp, uniqueName, PASSWORD, SETTINGS, settingsNav, type SettingsPage } from "./fixtures";

// The settings pages share one navigation. Each page's code is loaded when it is first
// visited, through the navigation or by a full load of its address: either way the page
// must show and answer.

test("the settings navigation: the keyboard, every page, a full load, Back, and signed out", async ({ page, browser, request }) => {
  // Ten page visits, several loading a page's code for the first time, and a second
  // browser: more than the usual 30 s on 2 busy cores.
  test.slow();
  const username = uniqueName("settings");
  await signUp(page, username);
  const nav = settingsNav(page);
  const link = (name: SettingsPage) => nav.getByRole("link", { name, exact: true });

  // From the top of a freshly loaded page, Tab reaches the navigation and Enter follows a link.
  await open(page, "/profile");
  const security = link("Security");
  for (let i = 0; i < 15 && !(await security.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(security).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/profile\/security$/);
  await expect(page.getByRole("heading", { level: 1, name: "Security", exact: true })).toBeVisible();
  await expect(security).toHaveAttribute("aria-current", "page");
  await expect(link("Profile")).not.toHaveAttribute("aria-current");

  // Every page through the navigation: one h1, its title, and only its link current.
  for (const name of ["Profile", "Sessions", "Your data", "Delete account", "Security"] as const) {
    await openSettings(page, name);
    const { heading, title } = SETTINGS[name];
    await expect(page.locator("main h1")).toHaveCount(1);
    await expect(page.locator("main h1")).toHaveText(heading ?? username);
    await expect(page).toHaveTitle(`${title} · Keyhold`);
    await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
    await expect(nav.locator('[aria-current="page"]')).toHaveText(name);
  }

  // Back returns to the page before (the last step went from "Delete account" to "Security").
  await page.goBack();
  await expect(page).toHaveURL(/\/profile\/delete$/);
  await expect(page.getByRole("heading", { level: 1, name: "Delete your account", exact: true })).toBeVisible();
  await expect(page).toHaveTitle("Delete your account · Keyhold");
  await expect(link("Delete account")).toHaveAttribute("aria-current", "page");
  await expect(security).not.toHaveAttribute("aria-current");

  // A full load of a page whose code comes later than the rest: once hydrated its buttons
  // are enabled and answer (another session, signed in through the API, gives them work).
  const other = await request.post("/api/login", { form: { username, password: PASSWORD } });
  expect(other.status()).toBe(200);
  await open(page, "/profile/sessions");
  await expect(page.getByRole("heading", { level: 2, name: "Your sessions" })).toBeVisible();
  await expect(page.getByTestId("session")).toHaveCount(2);
  await expect(page.locator('[data-testid="session"][data-current="false"]').getByRole("button", { name: /^Sign out / })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Log out everywhere" })).toBeEnabled();
  const others = page.getByRole("button", { name: "Sign out everywhere else" });
  await expect(others).toBeEnabled();
  await others.click();
  await expect(page.getByRole("status").filter({ hasText: "Signed out 1 other session." })).toBeVisible();
  await expect(page.getByTestId("session")).toHaveCount(1);

  // Signed out, a settings page's address leads to the log-in page (the server answers
  // 303 before any page is rendered), and the log-in back to that page.
  const visitor = await browser.newPage();
  await open(visitor, "/profile/delete");
  await expect(visitor).toHaveURL(/\/login\?next=%2Fprofile%2Fdelete$/);
  await expect(visitor.getByRole("heading", { name: "Log in" })).toBeVisible();
  await visitor.getByLabel("Username").fill(username);
  await visitor.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await visitor.getByRole("button", { name: "Log in" }).click();
  await expect(visitor).toHaveURL(/\/profile\/delete$/);
  await expect(visitor.getByRole("heading", { level: 1, name: "Delete your account", exact: true })).toBeVisible();
  await visitor.close();
});

test("a log-in goes back only to a page of this site", async ({ page }) => {
  const username = uniqueName("next");
  await signUp(page, username);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  for (const next of ["https://evil.example/", "//evil.example/", "/\\evil.example/"]) {
    await open(page, `/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/^http:\/\/(127\.0\.0\.1|localhost):\d+\/profile$/);
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  }
});

test("a signed-in page's first HTML already shows the person", async ({ page, browser }) => {
  const username = uniqueName("firsthtml");
  await signUp(page, username);
  // The page as the server sent it, before any script ran.
  const html = await (await page.request.get("/profile/security")).text();
  expect(html).toContain("Signed in as");
  expect(html).toContain(username);
  const home = await (await page.request.get("/")).text();
  expect(home).toContain(username);
  // The same browser session with JavaScript off: the settings page, signed in.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  await noScript.addCookies(await page.context().cookies());
  const still = await noScript.newPage();
  await still.goto("/profile/security");
  await expect(still).toHaveURL(/\/profile\/security$/);
  await expect(still.getByTestId("header-username")).toHaveText(username);
  await expect(still.getByRole("heading", { level: 1, name: "Security" })).toBeVisible();
  await still.screenshot({ path: "screenshots/profile-security-no-js.png", fullPage: true });
  await noScript.close();
});
