import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, expect, open, openSettings, signUp, logIn, uniqueName, PASSWORD, mailTo, linkIn } from "./fixtures";

const PNG = readFileSync(join(__dirname, "../../docs/example-avatar.png"));

async function imageLoaded(page: import("@playwright/test").Page, selector: string) {
  const image = page.locator(selector);
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  return image;
}

test("sign up with an image shows it on the profile and in the header", async ({ page }) => {
  const name = uniqueName("pic");
  await open(page, "/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Profile image (optional)").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: PNG });
  await expect(page.getByAltText("Preview of the chosen image")).toBeVisible();
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  const large = await imageLoaded(page, `.profile img[alt="Profile picture of ${name}"]`);
  expect(await large.getAttribute("src")).toMatch(/^\/media\/avatars\/[0-9a-f]{32}\/256\.webp$/);
  const small = await imageLoaded(page, `.site-header img[alt="Profile picture of ${name}"]`);
  expect(await small.getAttribute("src")).toMatch(/\/64\.webp$/);
});

test("replace and remove the image; a bad file shows its message", async ({ page }, testInfo) => {
  // Real files on disk, as a person picks them.
  const file = (name: string, content: Buffer | string) => {
    const path = testInfo.outputPath(name);
    writeFileSync(path, content);
    return path;
  };
  const name = uniqueName("swap");
  await signUp(page, name);
  await expect(page.locator(".profile").getByRole("img", { name: `Initials of ${name}` })).toBeVisible();

  const picker = page.getByLabel("Choose an image");
  await picker.setInputFiles(file("notes.txt", "hello"));
  await page.getByRole("button", { name: "Upload image" }).click();
  await expect(page.locator("#image-error")).toContainText("not a supported image");

  // A file that claims to be a PNG but is not: the server sniffs the bytes.
  await picker.setInputFiles(file("fake.png", "<svg><script>alert(1)</script></svg>"));
  await page.getByRole("button", { name: "Upload image" }).click();
  await expect(page.locator("#image-error")).toContainText("not a supported image");

  await picker.setInputFiles(file("me.png", PNG));
  await page.getByRole("button", { name: "Upload image" }).click();
  await imageLoaded(page, `.profile img[alt="Profile picture of ${name}"]`);
  await imageLoaded(page, `.site-header img[alt="Profile picture of ${name}"]`);

  await page.getByRole("button", { name: "Remove image" }).click();
  await expect(page.locator(".profile").getByRole("img", { name: `Initials of ${name}` })).toBeVisible();
  await expect(page.locator(".site-header").getByRole("img", { name: `Initials of ${name}` })).toBeVisible();
});

test("edit the username and e-mail", async ({ page }) => {
  const name = uniqueName("edit");
  const renamed = uniqueName("renamed");
  await signUp(page, name);
  const username = page.getByLabel("New username");
  await expect(username).toHaveValue(name);
  await username.fill(renamed);
  // Renaming needs the password, like changing the e-mail.
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#edit-current_password-error")).toContainText("current password");
  await page.getByLabel("Password (needed to change your username or email)").fill(PASSWORD);
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Your profile was saved.")).toBeVisible();
  await expect(page.getByTestId("profile-username")).toHaveText(renamed);
  await expect(page.getByTestId("header-username")).toHaveText(renamed);

  // Changing the e-mail needs the password too.
  await page.getByLabel("New email").fill(`${renamed}@example.org`);
  await page.getByLabel("Password (needed to change your username or email)").fill("");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#edit-current_password-error")).toContainText("current password");
  await page.getByLabel("Password (needed to change your username or email)").fill(PASSWORD);
  await page.getByRole("button", { name: "Save profile" }).click();
  // The new address takes effect once the link mailed to it is followed.
  await expect(page.getByText(`Your profile was saved. Follow the link we sent to ${renamed}@example.org`)).toBeVisible();
  await expect(page.getByTestId("profile-email")).toHaveText(`${name}@example.com`);
  await expect(page.getByTestId("email-status")).toHaveText("Change waiting");
  const link = linkIn(await mailTo(page.request, `${renamed}@example.org`, "Confirm your e-mail address"));
  await open(page, link.replace(/^https?:\/\/[^/]+/, ""));
  await expect(page.getByTestId("link-done")).toContainText(`${renamed}@example.org is confirmed`);
  await open(page, "/profile");
  await expect(page.getByTestId("profile-email")).toHaveText(`${renamed}@example.org`);
  await mailTo(page.request, `${name}@example.com`, "address was changed");
  // Still signed in after the rename (tokens carry the user id).
  await page.reload();
  await expect(page.getByTestId("profile-username")).toHaveText(renamed);
});

test("download my data gives a JSON file without the password hash", async ({ page }) => {
  const name = uniqueName("export");
  await signUp(page, name);
  await open(page, "/profile/data");
  const download = page.waitForEvent("download");
  await page.getByRole("region", { name: "Download a copy" }).getByRole("button", { name: "Download my data" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`keyhold-${name}.json`);
  const text = readFileSync((await file.path())!, "utf8");
  const data = JSON.parse(text);
  expect(data.profile.username).toBe(name);
  expect(data.profile.email).toBe(`${name}@example.com`);
  expect(text).not.toContain("$argon2");
});

test("delete the account; logging in afterwards fails normally", async ({ page }) => {
  const name = uniqueName("bye");
  await signUp(page, name);
  await openSettings(page, "Delete account");
  // The page's button, not the navigation's link of the same name.
  const section = page.getByRole("region", { name: "Delete account" });
  await section.getByLabel("Your password").fill(PASSWORD);
  await section.getByLabel("Type your username to confirm").fill("someone else");
  await section.getByRole("button", { name: "Delete account" }).click();
  await expect(page.locator("#delete-confirm-error")).toContainText("Type your username");

  await section.getByLabel("Type your username to confirm").fill(name);
  await section.getByRole("button", { name: "Delete account" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await logIn(page, name);
  await expect(page.getByRole("alert")).toContainText("Incorrect username or password.");
});
