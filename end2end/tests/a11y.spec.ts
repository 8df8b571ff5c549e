import type { Page } from "@playwright/test";
import { test, expect, open, signUp, uniqueName, PASSWORD, expectNoViolations, SETTINGS, SETTINGS_PAGES } from "./fixtures";

for (const scheme of ["light", "dark"] as const) {
  test(`no accessibility violations, signed out (${scheme})`, async ({ page }) => {
    // axe on seven pages and three states: more than one test's usual 30 s on 2 busy cores.
    test.slow();
    await page.emulateMedia({ colorScheme: scheme });
    for (const path of ["/", "/signup", "/login", "/forgot-password", "/reset-password?token=x", "/undo-email-change?token=x"]) {
      await open(page, path);
      await expectNoViolations(page, path);
    }
    await page.goto("/no-such-page");
    await expectNoViolations(page, "404 page");
    // With field errors showing.
    await open(page, "/signup");
    await page.getByLabel("Username").fill("x");
    await page.getByRole("button", { name: "Sign up" }).click();
    await expect(page.locator("#username-error")).not.toBeEmpty();
    await expectNoViolations(page, "sign-up with errors");
    // With the form-level notice showing (wrong password).
    await open(page, "/login");
    await page.getByLabel("Username").fill(uniqueName("nobody"));
    await page.getByLabel("Password", { exact: true }).fill("not anybody's password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).not.toBeEmpty();
    await expectNoViolations(page, "log-in with the error notice");
    // The password shown as text.
    await page.getByRole("button", { name: "Show password" }).click();
    await expect(page.getByRole("button", { name: "Hide password" })).toHaveAttribute("aria-pressed", "true");
    await expectNoViolations(page, "log-in with the password shown");
    // The skip link, visible once focused.
    await open(page, "/login");
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
    await expectNoViolations(page, "log-in with the skip link focused");
  });

  test(`no accessibility violations, signed in (${scheme})`, async ({ page }) => {
    // axe on the five settings pages and the home page: more than 30 s on 2 busy cores.
    test.slow();
    await page.emulateMedia({ colorScheme: scheme });
    await signUp(page, uniqueName(`axe_${scheme}`));
    for (const name of SETTINGS_PAGES) {
      const { path, shows } = SETTINGS[name];
      await open(page, path);
      // Judged with their data in place, not while it loads.
      await expect(shows(page)).toBeVisible();
      await expectNoViolations(page, path);
    }
    await open(page, "/");
    await expectNoViolations(page, "/ signed in");
  });
}

/** Presses Tab until the element with this id has focus (from the top of the page). */
async function tabTo(page: Page, id: string) {
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((id) => document.activeElement?.id === id, id)) return;
  }
  throw new Error(`Tab never reached #${id}`);
}

test("sign up and log in with the keyboard only", async ({ page }) => {
  const name = uniqueName("keys");
  await open(page, "/signup");
  await tabTo(page, "field-username");
  await page.keyboard.type(name);
  await page.keyboard.press("Tab"); // to Email
  await page.keyboard.type(`${name}@example.com`);
  await page.keyboard.press("Tab"); // to Password
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);

  // Log out and back in, keyboard only.
  await page.getByRole("button", { name: "Log out", exact: true }).press("Enter");
  await open(page, "/login");
  await tabTo(page, "field-username");
  await page.keyboard.type(name);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/profile$/);
});
