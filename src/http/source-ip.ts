import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { isValidIp } from "../domain/enrich/ip.ts";

/** The address the request came from: the socket's, or the first X-Forwarded-For hop when behind a trusted proxy. */
export function sourceIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
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
