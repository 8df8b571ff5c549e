import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";
import { maildevURL } from "../playwright.config";

export const PASSWORD = "correct horse battery staple";

/** A username no other test uses (3–32 characters of [a-z0-9_]). */
export function uniqueName(prefix: string): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${Date.now().toString(36)}${random}`.slice(0, 32);
}

/** Opens a page and waits until the WASM has hydrated it (clicks before that are lost). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/** Signs up through the form and lands on the profile. */
export async function signUp(page: Page, username: string, password = PASSWORD): Promise<void> {
  await open(page, "/signup");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(username);
}

/** Logs in through the form. */
export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await open(page, "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/**
 * The settings pages by the name of their link in the settings navigation: the path, the
 * document title (before " · Keyhold"), the h1 (on the profile, the username) and what
 * the page shows once its data has arrived.
 */
export const SETTINGS = {
  Profile: {
    path: "/profile",
    title: "Your profile",
    heading: null,
    shows: (page: Page) => page.getByTestId("profile-email"),
  },
  Security: {
    path: "/profile/security",
    title: "Security",
    heading: "Security",
    shows: (page: Page) => page.getByTestId("activity").first(),
  },
  Sessions: {
    path: "/profile/sessions",
    title: "Sessions",
    heading: "Sessions",
    shows: (page: Page) => page.getByTestId("session").first(),
  },
  "Your data": {
    path: "/profile/data",
    title: "Your data",
    heading: "Your data",
    shows: (page: Page) => page.getByRole("button", { name: "Download my data" }),
  },
  "Delete account": {
    path: "/profile/delete",
    title: "Delete your account",
    heading: "Delete your account",
    shows: (page: Page) => page.getByRole("region", { name: "Delete account" }).getByRole("button", { name: "Delete account" }),
  },
} as const;
export type SettingsPage = keyof typeof SETTINGS;
export const SETTINGS_PAGES = Object.keys(SETTINGS) as SettingsPage[];

/** The navigation between the settings pages, on each of them. */
export const settingsNav = (page: Page): Locator => page.getByRole("navigation", { name: "Settings", exact: true });

/**
 * Opens a settings page with its link in the settings navigation (a client-side
 * navigation: the page's code is loaded on its first visit, so this waits until the link
 * is the current one and the page's title and h1 are there).
 */
export async function openSettings(page: Page, name: SettingsPage): Promise<void> {
  const { path, title, heading } = SETTINGS[name];
  const link = settingsNav(page).getByRole("link", { name, exact: true });
  await link.click();
  await expect(link).toHaveAttribute("aria-current", "page");
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await expect(page).toHaveTitle(`${title} · Keyhold`);
  const h1 = heading ?? (await page.getByTestId("header-username").textContent())!.trim();
  await expect(page.getByRole("heading", { level: 1, name: h1, exact: true })).toBeVisible();
}

/**
 * Every test fails on a Content-Security-Policy violation or an uncaught page error:
 * the pages must hydrate and work under the strict CSP.
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ page }, use) => {
      const problems: string[] = [];
      await page.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (event) => {
          console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`);
        });
      });
      page.on("console", (message) => {
        const text = message.text();
        if (message.type() === "error" && /Content.Security.Policy|CSP violation/i.test(text)) {
          problems.push(text);
        }
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      await use();
      expect(problems, "CSP violations or page errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Mail that arrived at maildev (the real SMTP server the tests run beside Keyhold). */
export type Mail = { subject: string; text: string; envelope: { to: { address: string }[] } };

/** Waits for the `nth` message to `to` whose subject contains `subject` (maildev's API). */
export async function mailTo(request: APIRequestContext, to: string, subject: string, nth = 1): Promise<Mail> {
  let found: Mail[] = [];
  await expect
    .poll(
      async () => {
        const all = (await (await request.get(`${maildevURL}/email`)).json()) as Mail[];
        found = all.filter((m) => m.envelope.to.some((t) => t.address === to) && m.subject.includes(subject));
        return found.length;
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThanOrEqual(nth);
  return found[nth - 1];
}

export const linkIn = (mail: Mail) => mail.text.match(/https?:\/\/\S+token=[A-Za-z0-9_-]+/)![0];

// axe-core on every page, signed out and in, light and dark: zero WCAG 2.1 A/AA violations.
export async function expectNoViolations(page: Page, what: string) {
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
