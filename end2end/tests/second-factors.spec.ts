import type { Page } from "@playwright/test";
import * as OTPAuth from "otpauth";
import { test, expect, open, openSettings, signUp, logIn, uniqueName, PASSWORD, expectNoViolations } from "./fixtures";

// Each test runs axe and several sign-ins: more than the usual 30 s on 2 busy cores.
test.describe.configure({ timeout: 90_000 });

/** The authenticator app: codes for the secret the page showed (otpauth from npm). */
function app(secret: string) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  return {
    now: () => totp.generate(),
    // The next step's code: the server accepts one step of drift, and the current
    // step's code was already used by the previous sign-in.
    next: () => totp.generate({ timestamp: Date.now() + 30_000 }),
    previous: () => totp.generate({ timestamp: Date.now() - 30_000 }),
  };
}

/**
 * Turns two-step verification on from the security page: the secret and the recovery
 * codes. `whileShown` runs while the codes are on the page (before "I saved them").
 */
async function turnOn(page: Page, whileShown?: () => Promise<void>): Promise<{ secret: string; codes: string[] }> {
  const section = page.getByRole("region", { name: "Two-step verification" });
  await section.getByLabel("Current password").fill(PASSWORD);
  await section.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(section.locator(".qr-code svg")).toBeVisible();
  await expectNoViolations(page, "security page with the QR code");
  await section.screenshot({ path: "screenshots/two-step-qr-code.png" });
  const secret = (await section.getByTestId("totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expect(section.getByLabel("Code from the app")).toBeFocused();
  await section.getByLabel("Code from the app").fill(app(secret).now());
  await section.getByRole("button", { name: "Turn on" }).click();
  const list = section.getByTestId("recovery-codes");
  await expect(list.locator("li")).toHaveCount(10);
  await expectNoViolations(page, "security page with the recovery codes");
  await section.screenshot({ path: "screenshots/two-step-recovery-codes.png" });
  const codes = (await list.locator("li").allTextContents()).map((c) => c.trim());
  expect(codes[0]).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  await whileShown?.();
  await section.getByRole("button", { name: "I saved them" }).click();
  await expect(section.getByText("Signing in needs a code from your authenticator app.")).toBeVisible();
  await expect(section.getByText("10 recovery codes left.")).toBeVisible();
  return { secret, codes };
}

async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test("turning on the authenticator app, then signing in with its code", async ({ page }) => {
  const name = uniqueName("totp");
  await signUp(page, name);
  await openSettings(page, "Security");
  const { secret } = await turnOn(page);
  await logOut(page);

  await logIn(page, name);
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  // The password step is gone (it cannot be sent twice).
  await expect(page.getByLabel("Password", { exact: true })).toBeHidden();
  const code = page.getByLabel("Code", { exact: true });
  await expect(code).toBeFocused();
  // A wrong code: the message, the field cleared and focused, still on /login.
  await code.fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That code is not right")).toBeVisible();
  await expect(code).toBeFocused();
  await expectNoViolations(page, "second step with an error");
  await page.screenshot({ path: "screenshots/login-second-step.png", fullPage: true });
  await expect(page).toHaveURL(/\/login$/);

  await code.fill(app(secret).next());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await openSettings(page, "Sessions");
  const current = page.getByTestId("session").and(page.locator("[data-current=true]"));
  await expect(current).toContainText("signed in with password + one-time code");
});

test("signing in with a recovery code, which then works no more", async ({ page }) => {
  const name = uniqueName("rcode");
  await signUp(page, name);
  await open(page, "/profile/security");
  const { codes } = await turnOn(page);
  await logOut(page);

  await logIn(page, name);
  await page.getByRole("button", { name: "Use a recovery code instead" }).click();
  const field = page.getByLabel("Recovery code");
  await expect(field).toBeFocused();
  await field.fill(codes[3].toUpperCase());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await openSettings(page, "Security");
  const section = page.getByRole("region", { name: "Two-step verification" });
  await expect(section.getByText("9 recovery codes left.")).toBeVisible();
  await logOut(page);

  await logIn(page, name);
  await page.getByRole("button", { name: "Use a recovery code instead" }).click();
  await page.getByLabel("Recovery code").fill(codes[3]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That recovery code is not right, or was already used.")).toBeVisible();
  // "Start over" goes back to the password.
  await page.getByRole("button", { name: "Start over" }).click();
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
});

test("changing the password asks for the code, and turning it off needs one too", async ({ page }) => {
  const name = uniqueName("reauth");
  await signUp(page, name);
  await openSettings(page, "Security");
  const { secret, codes } = await turnOn(page);
  const password = page.getByRole("region", { name: "Change password" });
  await password.getByLabel("Current password").fill(PASSWORD);
  await password.getByLabel("New password").fill("a new and rather long passphrase");
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByText("Enter the 6-digit code from your authenticator app")).toBeVisible();
  await expect(password.getByLabel("Two-step code")).toBeFocused();
  await password.getByLabel("Current password").fill(PASSWORD);
  await password.getByLabel("Two-step code").fill(app(secret).next());
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByText("Password changed.")).toBeVisible();

  const section = page.getByRole("region", { name: "Two-step verification" });
  await section.getByLabel("Current password").fill("a new and rather long passphrase");
  await section.getByLabel("Two-step code").fill(codes[0]);
  await section.getByRole("button", { name: "Turn off" }).click();
  await expect(section.getByRole("button", { name: "Set up an authenticator app" })).toBeVisible();
  // The password form no longer asks for a code.
  await expect(password.getByLabel("Two-step code")).toHaveCount(0);
});

test("after turning it on, the other devices can be signed out at once", async ({ browser }) => {
  // ASVS 5.0 7.4.3: a change of how the account signs in offers to end the other sessions.
  const name = uniqueName("offer");
  const laptop = await (await browser.newContext()).newPage();
  const phone = await (await browser.newContext()).newPage();
  await signUp(laptop, name);
  await logIn(phone, name);
  await expect(phone).toHaveURL(/\/profile$/);

  await openSettings(laptop, "Security");
  await turnOn(laptop, async () => {
    const offer = laptop.getByTestId("end-other-sessions");
    await offer.getByRole("button", { name: "Sign out my other devices" }).click();
    await expect(offer.getByRole("status")).toHaveText("Signed out 1 other session.");
  });
  await phone.reload();
  await expect(phone).toHaveURL(/\/login\?next=%2Fprofile$/);
});
