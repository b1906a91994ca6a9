import { defineConfig } from "vitest/config";

/** `npm run test:reliability`: slow tests with real processes, crashes and outages; not part of `npm test`. */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
