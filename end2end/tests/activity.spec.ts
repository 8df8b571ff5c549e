import { test, expect, open, openSettings, signUp, logIn, uniqueName, PASSWORD } from "./fixtures";

const FIREFOX =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const NEW_PASSWORD = "a new passphrase nobody else knows";

test("recent security activity: a failed sign-in and another device, then \"This wasn't me\"", async ({ page, browser }) => {
  const name = uniqueName("activity");
  await signUp(page, name);
  // Somewhere else: a wrong password, then a sign-in.
  const other = await browser.newContext({ userAgent: FIREFOX });
  const otherPage = await other.newPage();
  await logIn(otherPage, name, "a wrong password, long enough");
  await expect(otherPage.getByRole("alert")).toContainText("Incorrect username or password");
  await logIn(otherPage, name);
  await expect(otherPage).toHaveURL(/\/profile$/);

  await open(page, "/profile/security");
  const entries = page.getByTestId("activity");
  await expect(entries).toHaveCount(3);
  await expect(entries.nth(0)).toContainText("Signed in");
  await expect(entries.nth(0)).toContainText("Firefox on Windows");
  await expect(entries.nth(0)).toContainText("127.0.0.1");
  await expect(entries.nth(1)).toContainText("Failed sign-in: wrong password");
  await expect(entries.nth(2)).toContainText("This device");

  // The other sign-in was not me: that device is signed out at once, and the page
  // leads to the password change.
  await entries.nth(0).getByRole("button", { name: /^This wasn't me: Signed in/ }).click();
  await expect(page.getByTestId("activity-notice")).toContainText("1 other session was signed out");
  await expect(page.getByRole("region", { name: "Change password" }).getByLabel("Current password", { exact: true })).toBeFocused();
  await expect(entries.nth(0)).toContainText("You reported activity that wasn't you");
  await openSettings(page, "Sessions");
  await expect(page.getByTestId("session")).toHaveCount(1);
  await open(otherPage, "/profile");
  await expect(otherPage).toHaveURL(/\/login\?next=%2Fprofile$/);
  await other.close();

  await openSettings(page, "Security");
  await page.getByRole("region", { name: "Change password" }).getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed.")).toBeVisible();
  await expect(entries.nth(0)).toContainText("Password changed");
});

test("older activity comes a page at a time", async ({ page, request }) => {
  const name = uniqueName("paging");
  await signUp(page, name);
  // Eleven sign-ins elsewhere (what one session repeats would fold into one entry).
  for (let i = 0; i < 11; i++) {
    expect((await request.post("/api/login", { form: { username: name, password: PASSWORD } })).status()).toBe(200);
  }
  await open(page, "/profile/security");
  const entries = page.getByTestId("activity");
  await expect(entries).toHaveCount(10);
  const older = page.getByRole("button", { name: "Show older activity" });
  await older.click();
  await expect(entries).toHaveCount(12);
  await expect(entries.nth(11)).toContainText("Signed in");
  await expect(older).toHaveCount(0);
});

test("activity that cannot be loaded says so", async ({ page }) => {
  await signUp(page, uniqueName("nolog"));
  await page.route("**/api/users/me/activity*", (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({ error: "unavailable", message: "The server is busy right now; try again in a moment.", field: null }),
    }),
  );
  await openSettings(page, "Security");
  const section = page.getByRole("region", { name: "Recent security activity" });
  await expect(section.getByRole("alert")).toHaveText("The server is busy right now; try again in a moment.");
});
