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

test("what is typed before the app has loaded is kept", async ({ page }) => {
  // Hold the WASM back until the form has been filled in.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/signup");
  const name = uniqueName("early");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  // Not interactive yet: the button waits instead of losing the click to a reload.
  await expect(page.getByRole("button", { name: "Sign up" })).toBeDisabled();
  release();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByLabel("Username")).toHaveValue(name);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByTestId("profile-username")).toHaveText(name);
});

test("the log-in page is interactive quickly and the client is small", async ({ page }) => {
  // Best of three cold loads (other tests run in parallel on the same two cores).
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    await page.context().clearCookies();
    await page.goto(`/login?run=${run}`, { waitUntil: "commit" });
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
    best = Math.min(best, await page.evaluate(() => performance.now()));
  }
  const resources = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((entry) => entry.name.includes("/pkg/"))
      .map((entry) => {
        const r = entry as PerformanceResourceTiming;
        return { file: r.name.split("/").pop(), transferred: r.transferSize, decoded: r.decodedBodySize };
      }),
  );
  console.log(`hydrated /login after ${best.toFixed(0)} ms (navigation start → interactive, best of 3)`);
  for (const r of resources) {
    console.log(`  ${r.file}: ${(r.decoded / 1024).toFixed(1)} KiB, ${(r.transferred / 1024).toFixed(1)} KiB over the wire`);
  }
  expect(best).toBeLessThan(1500);
  const compressed = await page.request.get("/pkg/keyhold.wasm", { headers: { "accept-encoding": "br" } });
  expect(compressed.headers()["content-encoding"]).toBe("br");
  expect(compressed.headers()["cache-control"]).toBe("public, no-cache");
});
