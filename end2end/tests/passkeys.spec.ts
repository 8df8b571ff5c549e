import type { CDPSession, Page } from "@playwright/test";
import { test, expect, open, openSettings, signUp, logIn, uniqueName, PASSWORD, expectNoViolations } from "./fixtures";

// Passkeys with Chromium's virtual authenticator (DevTools protocol, WebAuthn domain):
// a platform authenticator with resident keys and user verification, as a laptop's
// fingerprint reader would be. WebAuthn needs a domain: the suite runs on localhost.

type Authenticator = { cdp: CDPSession; id: string };

async function addAuthenticator(page: Page, isUserVerified = true): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

async function credentials(authenticator: Authenticator) {
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  return credentials;
}

const section = (page: Page) => page.getByTestId("passkeys-section");

/** Adds a passkey named `name` from the security page (the password confirms it; a passkey
 * the account has already is asked for by the browser) and waits for it in the list. */
async function addPasskey(page: Page, name: string) {
  await section(page).getByLabel("Passkey name").fill(name);
  await section(page).getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await section(page).getByRole("button", { name: "Add a passkey" }).click();
  await expect(section(page).getByRole("status").filter({ hasText: `Passkey "${name}" added.` })).toBeVisible();
  await expect(section(page).getByTestId("passkey-name").filter({ hasText: name })).toBeVisible();
}

async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
}

test("register a passkey, sign out, and sign in with the passkey and no password", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const name = uniqueName("pk");
  await signUp(page, name);
  await openSettings(page, "Security");
  await expect(section(page).getByTestId("no-passkeys")).toBeVisible();
  await addPasskey(page, "Laptop");
  await expect(section(page).getByTestId("passkey")).toContainText("not used yet");
  const created = await credentials(authenticator);
  expect(created).toHaveLength(1);
  expect(created[0].isResidentCredential).toBe(true);
  expect(created[0].rpId).toBe("localhost");
  await expectNoViolations(page, "security page with a passkey");
  await section(page).screenshot({ path: "screenshots/passkeys-section.png" });

  await logOut(page);
  await open(page, "/login");
  await page.screenshot({ path: "screenshots/login-with-passkey.png", fullPage: true });
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await openSettings(page, "Security");
  await expect(page.getByTestId("passkey")).toContainText("last used just now");
  await expect(page.getByTestId("activity").first()).toContainText("Signed in with a passkey");
  await openSettings(page, "Sessions");
  await expect(page.getByTestId("session").filter({ hasText: "This device" })).toContainText("passkey");
  const used = await credentials(authenticator);
  expect(used[0].signCount).toBeGreaterThan(created[0].signCount);
});

test("the password, then the passkey as the second factor", async ({ page }) => {
  await addAuthenticator(page);
  const name = uniqueName("pkmfa");
  await signUp(page, name);
  await openSettings(page, "Security");
  await addPasskey(page, "Laptop");
  await logOut(page);

  await logIn(page, name);
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  await expect(page.getByLabel("Code", { exact: true })).toHaveCount(0);
  await expectNoViolations(page, "log-in's passkey step");
  await page.screenshot({ path: "screenshots/login-passkey-step.png", fullPage: true });
  await page.getByRole("button", { name: "Use your passkey" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await open(page, "/profile/sessions");
  await expect(page.getByTestId("session").filter({ hasText: "This device" })).toContainText("password + passkey");
});

test("list, rename and remove a passkey, with the keyboard", async ({ page }) => {
  await addAuthenticator(page);
  await signUp(page, uniqueName("pklist"));
  await open(page, "/profile/security");
  await addPasskey(page, "Laptop");

  // The same device again: the browser confirms with its passkey, then says it holds one.
  await section(page).getByLabel("Passkey name").fill("Laptop again");
  await section(page).getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await expect(section(page).getByText("Your browser will ask for one of your passkeys to confirm.")).toBeVisible();
  await section(page).getByRole("button", { name: "Add a passkey" }).click();
  await expect(section(page).getByRole("alert")).toContainText("This device already holds a passkey for your account.");
  await expect(section(page).getByTestId("passkey")).toHaveCount(1);

  // Rename with the keyboard: the field takes focus, Escape gives it back to "Rename".
  const rename = section(page).getByRole("button", { name: "Rename passkey Laptop" });
  await rename.focus();
  await page.keyboard.press("Enter");
  const field = section(page).getByLabel("New name for Laptop");
  await expect(field).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(rename).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(field).toBeFocused();
  await field.fill("Work laptop");
  await page.keyboard.press("Enter");
  await expect(section(page).getByRole("status").filter({ hasText: 'Passkey renamed to "Work laptop".' })).toBeVisible();
  await expect(section(page).getByTestId("passkey-name")).toHaveText(["Work laptop"]);
  await expect(section(page).getByRole("heading", { name: "Passkeys" })).toBeFocused();

  // Remove: the password in place (focused), then the passkey confirms its own removal.
  await section(page).getByRole("button", { name: "Remove passkey Work laptop" }).focus();
  await page.keyboard.press("Enter");
  const password = section(page).getByLabel("Your password, to remove it");
  await expect(password).toBeFocused();
  await page.keyboard.type("not my password at all, sorry");
  await page.keyboard.press("Enter");
  await expect(section(page).locator("#passkey-remove-current_password-error")).toContainText("not correct");
  await password.fill(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(section(page).getByRole("status").filter({ hasText: 'Passkey "Work laptop" removed.' })).toBeVisible();
  await expect(section(page).getByTestId("no-passkeys")).toBeVisible();

  // A name is required; the field says so and takes focus.
  await section(page).getByLabel("Passkey name").fill("   ");
  await section(page).getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await section(page).getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.locator("#passkey-name-error")).toContainText("Give the passkey a name");
  await expect(section(page).getByLabel("Passkey name")).toBeFocused();
});

test("a device that does not verify the person adds no passkey and signs nobody in", async ({ page }) => {
  const device = await addAuthenticator(page, false);
  await signUp(page, uniqueName("pkuv"));
  await openSettings(page, "Security");
  await section(page).getByLabel("Passkey name").fill("Laptop");
  await section(page).getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await section(page).getByRole("button", { name: "Add a passkey" }).click();
  await expect(section(page).getByRole("alert")).toContainText("No passkey was used");
  await expect(section(page).getByTestId("no-passkeys")).toBeVisible();

  // With a passkey registered, the device then fails to verify the person at sign-in.
  await device.cdp.send("WebAuthn.setUserVerified", { authenticatorId: device.id, isUserVerified: true });
  await addPasskey(page, "Laptop");
  await logOut(page);
  await device.cdp.send("WebAuthn.setUserVerified", { authenticatorId: device.id, isUserVerified: false });
  await open(page, "/login");
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("No passkey was used");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeEnabled();
});
