import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { test, expect, open, signUp, uniqueName, PASSWORD } from "./fixtures";

// axe-core on every page, signed out and in, light and dark: zero WCAG 2.1 A/AA violations.
async function expectNoViolations(page: Page, what: string) {
  // Colours are judged once they settle (a toast fading in is briefly low-contrast).
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"));
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  expect(summary, `${what}: accessibility violations`).toEqual([]);
  // axe really looked at the page (colour contrast, labels, landmarks, ...).
  expect(results.passes.length, `${what}: rules checked`).toBeGreaterThan(10);
  // One h1 per page, inside the main landmark.
  await expect(page.locator("h1"), `${what}: one h1`).toHaveCount(1);
  await expect(page.locator("main h1"), `${what}: h1 in main`).toHaveCount(1);
}

for (const scheme of ["light", "dark"] as const) {
  test(`no accessibility violations, signed out (${scheme})`, async ({ page }) => {
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
    await page.emulateMedia({ colorScheme: scheme });
    await signUp(page, uniqueName(`axe_${scheme}`));
    await expectNoViolations(page, "/profile");
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
