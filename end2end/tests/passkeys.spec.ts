import type { CDPSession, Page } from "@playwright/test";
import { test, expect, open, signUp, uniqueName } from "./fixtures";

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

async function removeAuthenticator(authenticator: Authenticator) {
  await authenticator.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: authenticator.id });
}

/** Adds a passkey named `name` from the profile and waits for it in the list. */
async function addPasskey(page: Page, name: string) {
  const section = page.getByTestId("passkeys-section");
  await section.getByLabel("Passkey name").fill(name);
  await section.getByRole("button", { name: "Add a passkey" }).click();
  await expect(section.getByRole("status").filter({ hasText: `Passkey "${name}" added.` })).toBeVisible();
  await expect(section.getByTestId("passkey-name").filter({ hasText: name })).toBeVisible();
}

test("register a passkey, sign out, and sign in with the passkey and no password", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const name = uniqueName("pk");
  await signUp(page, name);
  const section = page.getByTestId("passkeys-section");
  await expect(section.getByTestId("no-passkeys")).toBeVisible();
  await addPasskey(page, "Laptop");
  await expect(section.getByTestId("passkey")).toContainText("not used yet");
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);
  expect(credentials[0].rpId).toBe("localhost");

  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await open(page, "/login");
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await expect(page.getByTestId("passkey")).toContainText("last used just now");
  await expect(page.getByTestId("activity").first()).toContainText("Signed in with a passkey");
  const after = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  expect(after.credentials[0].signCount).toBeGreaterThan(credentials[0].signCount);
});

test("list, rename and remove passkeys, with the keyboard", async ({ page }) => {
  const laptop = await addAuthenticator(page);
  await signUp(page, uniqueName("pklist"));
  await addPasskey(page, "Laptop");
  const section = page.getByTestId("passkeys-section");

  // The same device again: it already holds a passkey for this account.
  await section.getByLabel("Passkey name").fill("Laptop again");
  await section.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("This device already holds a passkey for your account.");
  await expect(section.getByTestId("passkey")).toHaveCount(1);

  await removeAuthenticator(laptop);
  await addAuthenticator(page);
  await addPasskey(page, "Phone");
  await expect(section.getByTestId("passkey-name")).toHaveText(["Laptop", "Phone"]);

  // Rename with the keyboard: the field takes focus, Escape gives it back to "Rename".
  const rename = section.getByRole("button", { name: "Rename passkey Phone" });
  await rename.focus();
  await page.keyboard.press("Enter");
  const field = section.getByLabel("New name for Phone");
  await expect(field).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(rename).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(field).toBeFocused();
  await field.fill("Work phone");
  await page.keyboard.press("Enter");
  await expect(section.getByRole("status").filter({ hasText: 'Passkey renamed to "Work phone".' })).toBeVisible();
  await expect(section.getByTestId("passkey-name")).toHaveText(["Laptop", "Work phone"]);
  await expect(section.getByRole("heading", { name: "Passkeys" })).toBeFocused();

  const remove = section.getByRole("button", { name: "Remove passkey Laptop" });
  await remove.focus();
  await page.keyboard.press("Enter");
  await expect(section.getByRole("status").filter({ hasText: 'Passkey "Laptop" removed.' })).toBeVisible();
  await expect(section.getByTestId("passkey-name")).toHaveText(["Work phone"]);

  // A name is required; the field says so and takes focus.
  await section.getByLabel("Passkey name").fill("   ");
  await section.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.locator("#passkey-name-error")).toContainText("Give the passkey a name");
  await expect(section.getByLabel("Passkey name")).toBeFocused();
});

test("a device that does not verify the person adds no passkey and signs nobody in", async ({ page }) => {
  const unverified = await addAuthenticator(page, false);
  const name = uniqueName("pkuv");
  await signUp(page, name);
  const section = page.getByTestId("passkeys-section");
  await section.getByLabel("Passkey name").fill("Laptop");
  await section.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("No passkey was used");
  await expect(section.getByTestId("no-passkeys")).toBeVisible();

  // With a passkey registered, the device then fails to verify the person at sign-in.
  await unverified.cdp.send("WebAuthn.setUserVerified", { authenticatorId: unverified.id, isUserVerified: true });
  await addPasskey(page, "Laptop");
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await unverified.cdp.send("WebAuthn.setUserVerified", { authenticatorId: unverified.id, isUserVerified: false });
  await open(page, "/login");
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("No passkey was used");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeEnabled();
});
