import { test, expect, open, signUp, logIn, uniqueName, mailTo, linkIn } from "./fixtures";
import { baseURL } from "../playwright.config";

const NEW_PASSWORD = "a new passphrase from the mail link";

test("forgot password: the mailed link sets a new password, then log in with it", async ({ page, request }) => {
  const name = uniqueName("forgot");
  const email = `${name}@example.com`;
  await signUp(page, name);
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await open(page, "/login");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send me a link" }).click();
  await expect(page.getByTestId("forgot-sent")).toContainText("If an account uses that address");

  const mail = await mailTo(request, email, "Reset your Keyhold password");
  expect(mail.text).toContain("30 minutes");
  const link = linkIn(mail);
  expect(link.startsWith(`${baseURL}/`)).toBe(true);
  await open(page, link.replace(/^https?:\/\/[^/]+/, ""));
  const password = page.getByLabel("New password", { exact: true });
  await password.fill("short");
  await expect(page.getByText("At least 15 characters")).toBeVisible();
  await password.fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByTestId("reset-done")).toContainText("Your password was changed");
  await page.getByRole("link", { name: "Log in with your new password" }).click();
  await logIn(page, name, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await mailTo(request, email, "password was changed");

  // The link worked once.
  await open(page, link.replace(/^https?:\/\/[^/]+/, ""));
  await page.getByLabel("New password", { exact: true }).fill("yet another passphrase, long");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("alert")).toContainText("This link is not valid");
  await expect(page.getByRole("link", { name: "Ask for a new one" })).toBeVisible();
});

test("the profile's badge: not verified, Resend refused within a minute, then the mailed link confirms", async ({ page, request }) => {
  const name = uniqueName("verify");
  const email = `${name}@example.com`;
  await signUp(page, name);
  const status = page.getByTestId("email-status");
  await expect(status).toHaveText("Not verified");
  await page.getByRole("button", { name: "Resend" }).click();
  await expect(page.getByText("Confirmation links go out at most once a minute")).toBeVisible();

  const link = linkIn(await mailTo(request, email, "Confirm your e-mail address"));
  await open(page, link.replace(/^https?:\/\/[^/]+/, ""));
  await expect(page.getByTestId("link-done")).toContainText(`${email} is confirmed`);
  await page.getByRole("link", { name: "Go to your profile" }).click();
  await expect(status).toHaveText("Verified");
  await expect(page.getByRole("button", { name: "Resend" })).toHaveCount(0);
});

test("links that are used, garbled or missing say so", async ({ page }) => {
  await open(page, "/verify-email?token=not-a-real-token");
  await expect(page.getByRole("alert")).toContainText("This link is not valid");
  await open(page, "/reset-password");
  await expect(page.getByRole("alert")).toContainText("This page needs the link from the e-mail");
  await open(page, "/undo-email-change?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  await page.getByRole("button", { name: "Put my old address back" }).click();
  await expect(page.getByRole("alert")).toContainText("This link is not valid");
});
