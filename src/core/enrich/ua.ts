import UAParser from "ua-parser-js";
import type { UaInfo } from "./types.ts";

// Real user agents stay well under this; the cap bounds parsing time for hostile input.
const MAX_UA_LENGTH = 1024;

const orNull = (s: string | undefined): string | null => (s ? s : null);

/** Browser and OS families with their versions kept apart, so an update does not look like a new device. */
export function parseUserAgent(userAgent: string): UaInfo {
  const { browser, os, device } = new UAParser(userAgent.slice(0, MAX_UA_LENGTH)).getResult();
  return {
    browser: orNull(browser.name),
    browserVersion: orNull(browser.version),
    os: orNull(os.name),
    osVersion: orNull(os.version),
    deviceType: device.type || "desktop",
  };
}
