import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { isValidIp } from "../core/enrich/ip.ts";

/**
 * The address the request came from: the socket's or, behind a trusted proxy, the last X-Forwarded-For hop —
 * the one that proxy appended; earlier hops are whatever the client chose to send.
 */
export function sourceIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded && isValidIp(forwarded)) return forwarded;
  }
  try {
    const address = getConnInfo(c).remote.address;
    return address && isValidIp(address) ? address : null;
  } catch {
    // app.request() in tests has no socket.
    return null;
  }
}
