import { test, expect, open, openSettings, signUp, uniqueName, SETTINGS, SETTINGS_PAGES } from "./fixtures";

// Screenshots of every page, light and dark, narrow (360 px) and wide (1440 px), saved
// under end2end/screenshots/ (git-ignored) for people to look at.
const sizes = [
  { label: "narrow", width: 360, height: 780 },
  { label: "wide", width: 1440, height: 900 },
];

for (const scheme of ["light", "dark"] as const) {
  for (const size of sizes) {
    test(`screenshots ${scheme} ${size.label}`, async ({ page }) => {
      // Every page, full length, the five settings pages among them.
      test.slow();
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: size.width, height: size.height });
      const shot = (name: string) =>
        page.screenshot({ path: `screenshots/${name}-${scheme}-${size.label}.png`, fullPage: true });

      await open(page, "/");
      await shot("home");
      await open(page, "/signup");
      await shot("signup");
      await page.getByLabel("Username").fill("x");
      await page.getByLabel("Email").fill("x@example.com");
      await page.getByLabel("Password", { exact: true }).fill("short");
      await page.getByRole("button", { name: "Sign up" }).click();
      await expect(page.locator("#username-error")).not.toBeEmpty();
      await shot("signup-errors");
      await open(page, "/login");
      await shot("login");
      await page.getByLabel("Username").fill("nobody_here");
      await page.getByLabel("Password", { exact: true }).fill("not anybody's password");
      await page.getByRole("button", { name: "Show password" }).click();
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page.getByRole("alert")).not.toBeEmpty();
      // The window only (not fullPage): the notice is pinned to its bottom.
      await page.screenshot({ path: `screenshots/login-notice-${scheme}-${size.label}.png`, animations: "disabled" });
      await page.goto("/no-such-page");
      await shot("not-found");
      await open(page, "/forgot-password");
      await shot("forgot-password");
      await open(page, "/reset-password?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
      await page.getByLabel("New password", { exact: true }).fill("a new passphrase, long enough");
      await shot("reset-password");
      await open(page, "/verify-email?token=used");
      await expect(page.getByRole("alert")).not.toBeEmpty();
      await shot("verify-email-used");
      await signUp(page, uniqueName(`shot_${scheme}`));
      for (const name of SETTINGS_PAGES) {
        const { path, shows } = SETTINGS[name];
        // Sign-up lands on the profile; the others through the settings navigation.
        if (name !== "Profile") await openSettings(page, name);
        await expect(shows(page)).toBeVisible();
        // profile, profile-security, profile-sessions, profile-data, profile-delete
        await shot(path.slice(1).replace("/", "-"));
        // Nothing may stick out sideways at any width (the settings navigation included).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, path).toBeLessThanOrEqual(0);
      }
    });
  }
}
