import type { Page } from "@playwright/test";
import { test, expect, open, uniqueName, PASSWORD } from "./fixtures";

test("the password can be shown and hidden", async ({ page }) => {
  await open(page, "/login");
  const password = page.getByLabel("Password", { exact: true });
  await password.fill("visible secret");
  const toggle = page.getByRole("button", { name: "Show password" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await expect(password).toHaveAttribute("type", "password");
  await toggle.click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByRole("button", { name: "Hide password" })).toHaveAttribute("aria-pressed", "true");
  await page.getByRole("button", { name: "Hide password" }).click();
  await expect(password).toHaveAttribute("type", "password");
  await expect(password).toHaveValue("visible secret");
});

/** Holds the page's WASM back until the returned function is called. */
async function holdTheWasm(page: Page): Promise<() => void> {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

test("what is typed before the app has loaded is kept", async ({ page }) => {
  // Hold the WASM back until the form has been filled in.
  const release = await holdTheWasm(page);
  await page.goto("/signup");
  const name = uniqueName("early");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  release();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByLabel("Username")).toHaveValue(name);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("a form sent before the app has loaded is answered by the server", async ({ page }) => {
  // The WASM is held back: the form is the server's HTML alone, and the server takes its
  // post itself (issue 30: the entry pages work before the WASM; the button no longer
  // waits for it).
  const release = await holdTheWasm(page);
  await page.goto("/signup");
  const name = uniqueName("before");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  const button = page.getByRole("button", { name: "Sign up" });
  await expect(button).toBeEnabled();
  await button.click();
  // The server signed the browser in: the profile's first HTML names the person.
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  // Then the app loads and carries on signed in.
  release();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("header-username")).toHaveText(name);
});

test("a server error is a notice that moves nothing, is announced and can be dismissed", async ({ page }) => {
  await open(page, "/login");
  const button = page.getByRole("button", { name: "Log in" });
  const before = await button.boundingBox();
  await page.getByLabel("Username").fill(uniqueName("nobody"));
  await page.getByLabel("Password", { exact: true }).fill("not anybody's password");
  await button.click();
  const alert = page.getByRole("alert");
  await expect(alert).toHaveText("Incorrect username or password.");
  // In the window, however the page is scrolled.
  await expect(alert).toBeInViewport();
  // Nothing in the form moved.
  expect(await button.boundingBox()).toEqual(before);
  // The form is usable right away, and the notice goes when dismissed.
  await expect(button).toBeEnabled();
  await page.getByRole("button", { name: "Dismiss message" }).click();
  await expect(alert).toBeEmpty();
  await expect(page.getByRole("button", { name: "Dismiss message" })).toHaveCount(0);
  // The next failure shows it again.
  await button.click();
  await expect(alert).toHaveText("Incorrect username or password.");
});

test("too many attempts (429) come as the same notice", async ({ page }) => {
  await open(page, "/login");
  await page.route("**/api/login", (route) =>
    route.fulfill({
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "30" },
      body: JSON.stringify({ error: "too_many_requests", message: "Too many failed attempts. Wait 30 seconds and try again.", field: null }),
    }),
  );
  await page.getByLabel("Username").fill("someone");
  await page.getByLabel("Password", { exact: true }).fill("whatever it was");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Too many failed attempts. Wait 30 seconds and try again.");
  await expect(page.getByRole("alert")).toBeInViewport();
  await expect(page.getByRole("button", { name: "Log in" })).toBeEnabled();
});

test("the skip link leads past the header to the page", async ({ page }) => {
  await open(page, "/login");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Username")).toBeFocused();
});

test("every page has one h1 and the landmarks", async ({ page }) => {
  for (const path of ["/", "/signup", "/login", "/no-such-page"]) {
    await page.goto(path);
    await expect(page.locator("h1"), path).toHaveCount(1);
    await expect(page.locator("header"), path).toHaveCount(1);
    await expect(page.getByRole("navigation"), path).toHaveCount(1);
    await expect(page.getByRole("main"), path).toHaveCount(1);
  }
});

test("field errors move nothing, even two lines long on a narrow phone", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await open(page, "/signup");
  const button = page.getByRole("button", { name: "Sign up" });
  const before = await button.boundingBox();
  const name = uniqueName("wrap");
  await page.getByLabel("Username").fill("no spaces allowed");
  await page.getByLabel("Email").fill(`${name}@example.com`);
  // The longest messages: a name with spaces, a password containing the name.
  await page.getByLabel("Password", { exact: true }).fill(`${name} is my password`);
  await button.click();
  const error = page.locator("#username-error");
  await expect(error).toContainText("Username may only contain");
  const lines = await error.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
  expect(lines, "the message wraps at 360 px").toBeGreaterThanOrEqual(2);
  expect(await button.boundingBox()).toEqual(before);
});
