export * from "./accounts.ts";
export * from "./alerts.ts";
export * from "./drills.ts";
export * from "./incidents.ts";
export * from "./notifications.ts";
export * from "./telemetry.ts";
export * from "./tenancy.ts";
