import { test, expect, open, openSettings, signUp, logIn, uniqueName, PASSWORD } from "./fixtures";

test("password rules are ticked while typing", async ({ page }) => {
  await open(page, "/signup");
  const name = uniqueName("rules");
  await page.getByLabel("Username").fill(name);
  const rules = page.getByRole("list", { name: "Password rules" });
  await page.getByLabel("Password", { exact: true }).fill("short");
  await expect(rules.getByText("At least 15 characters (5 so far)")).not.toHaveClass(/rule--met/);
  await expect(page.getByText("Strength:")).toContainText("Weak");
  await page.getByLabel("Password", { exact: true }).fill(`${name} is my password`);
  await expect(rules.getByText("Does not contain your username")).not.toHaveClass(/rule--met/);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await expect(rules.getByText(/At least 15 characters/)).toHaveClass(/rule--met/);
  await expect(rules.getByText("Does not contain your username")).toHaveClass(/rule--met/);
  await expect(page.getByText("Strength:")).toContainText("Strong");
});

test("a common password is refused with the reason", async ({ page }) => {
  await open(page, "/signup");
  const name = uniqueName("common");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("PolniyPizdec0211");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator("#password-error")).toContainText("most common passwords");
});

test("change password keeps this device signed in and the new one works", async ({ page }) => {
  const name = uniqueName("change");
  await signUp(page, name);
  await openSettings(page, "Security");
  await page.getByRole("region", { name: "Change password" }).getByLabel("Current password").fill("not my current password");
  await page.getByLabel("New password").fill("a new and long passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#current_password-error")).toHaveText("Your current password is not correct.");
  await expect(page.getByRole("region", { name: "Change password" }).getByLabel("Current password")).toBeFocused();

  await page.getByRole("region", { name: "Change password" }).getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Password changed" })).toBeVisible();
  await page.reload();
  // Still signed in: the page shows again, for this user.
  await expect(page.getByRole("heading", { level: 1, name: "Security" })).toBeVisible();
  await expect(page.getByTestId("header-username")).toHaveText(name);

  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await logIn(page, name, PASSWORD);
  await expect(page.getByRole("alert")).toContainText("Incorrect username or password.");
  await logIn(page, name, "a new and long passphrase");
  await expect(page).toHaveURL(/\/profile$/);
});

test("log out everywhere signs out every browser", async ({ browser }) => {
  const name = uniqueName("everywhere");
  const laptop = await (await browser.newContext()).newPage();
  const phone = await (await browser.newContext()).newPage();
  await signUp(laptop, name);
  await logIn(phone, name);
  await expect(phone).toHaveURL(/\/profile$/);

  await open(laptop, "/profile/sessions");
  await laptop.getByRole("button", { name: "Log out everywhere" }).click();
  await expect(laptop).toHaveURL(/\/login$/);
  // The other browser still has its token, but the server refuses it now.
  await phone.reload();
  await expect(phone).toHaveURL(/\/login\?next=%2Fprofile$/);
});

test("too many wrong passwords get a clear wait message", async ({ page }) => {
  const name = uniqueName("throttle");
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await open(page, "/login");
  await page.getByLabel("Username").fill(name);
  for (let attempt = 1; attempt <= 5; attempt++) {
    await page.getByLabel("Password", { exact: true }).fill(`wrong password number ${attempt}`);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toContainText("Incorrect username or password.");
    await expect(page.getByRole("button", { name: "Log in" })).toBeEnabled();
  }
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Too many attempts. Wait");
  await expect(page).toHaveURL(/\/login$/);
});
