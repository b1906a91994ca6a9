/**
 * fetch through the account's own proxy, so `GET /v1/whoami` shows the account's exit IP and not the
 * workstation's. undici and the SOCKS connector are loaded only when a proxy is configured.
 */
import type { FetchLike } from "./client.ts";

export class ProxyUrlError extends Error {}

export async function proxiedFetch(proxy: string | undefined): Promise<FetchLike | undefined> {
  if (!proxy) return undefined;
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    throw new ProxyUrlError(`not a proxy URL: ${proxy}`);
  }
  const undici = await import("undici");
  let dispatcher: import("undici").Dispatcher;
  if (url.protocol === "http:" || url.protocol === "https:") {
    dispatcher = new undici.ProxyAgent(url.toString());
  } else if (url.protocol === "socks5:" || url.protocol === "socks5h:" || url.protocol === "socks:") {
    const { socksDispatcher } = await import("fetch-socks");
    dispatcher = socksDispatcher({
      type: 5,
      host: url.hostname,
      port: Number(url.port || 1080),
      ...(url.username ? { userId: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    }) as unknown as import("undici").Dispatcher;
  } else {
    throw new ProxyUrlError(`unsupported proxy scheme ${url.protocol} (use http://, https:// or socks5://)`);
  }
  return (input, init) =>
    undici.fetch(input, {
      ...(init as import("undici").RequestInit),
      dispatcher,
    }) as unknown as Promise<Response>;
}
