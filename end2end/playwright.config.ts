import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The release server built by `cargo leptos build --release`, started on its own port
// with its own empty data directory. scripts/test.sh sets KEYHOLD_BIN (the binary
// lives in CARGO_TARGET_DIR) and E2E_DATABASE_URL (to run the suite on PostgreSQL).
const port = Number(process.env.E2E_PORT ?? 3100);
const root = resolve(__dirname, "..");
const binary = process.env.KEYHOLD_BIN ?? join(root, "target/release/keyhold");
const dataDir = process.env.E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "keyhold-e2e-"));
// localhost, not 127.0.0.1: WebAuthn (passkeys) needs a domain for its relying party,
// and KEYHOLD_PUBLIC_URL (the relying party's origin) must be the address the browser uses.
export const baseURL = `http://localhost:${port}`;
// A real SMTP server (maildev); tests read what arrived through its HTTP API.
const smtpPort = Number(process.env.E2E_SMTP_PORT ?? port + 25);
const maildevPort = Number(process.env.E2E_MAILDEV_PORT ?? port + 80);
export const maildevURL = `http://127.0.0.1:${maildevPort}`;

const serverEnv: Record<string, string> = {
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: join(root, "target/site"),
  LEPTOS_OUTPUT_NAME: "keyhold",
  LEPTOS_ENV: "PROD",
  KEYHOLD_DATA_DIR: dataDir,
  RUST_LOG: process.env.RUST_LOG ?? "warn",
  // Every test signs up and logs in from 127.0.0.1: lift the per-address budgets (the
  // per-account log-in budgets stay as shipped; a test checks them).
  KEYHOLD_RATE_LOGIN_ADDRESS: "100000/1m",
  KEYHOLD_RATE_REGISTRATION: "100000/1m",
  KEYHOLD_RATE_PROFILE: "100000/1m",
  KEYHOLD_RATE_UPLOAD: "100000/1m",
  KEYHOLD_RATE_UPLOAD_ADDRESS: "100000/1m",
  KEYHOLD_RATE_RECOVERY: "100000/1m",
  KEYHOLD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  KEYHOLD_PUBLIC_URL: baseURL,
  KEYHOLD_MAIL_RETRY: "1",
};
if (process.env.E2E_DATABASE_URL) {
  serverEnv.DATABASE_URL = process.env.E2E_DATABASE_URL;
  // Required with PostgreSQL (SQLite generates one into the data directory).
  serverEnv.KEYHOLD_KEY_ENCRYPTION_KEY = "e2e-key-encryption-key-0123456789abcdefghijkl";
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    browserName: "chromium",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `node_modules/.bin/maildev --ip 127.0.0.1 --web-ip 127.0.0.1 --smtp ${smtpPort} --web ${maildevPort} --silent`,
      cwd: __dirname,
      url: `${maildevURL}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `"${binary}"`,
      cwd: root,
      url: `http://127.0.0.1:${port}/healthz`,
      env: serverEnv,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
