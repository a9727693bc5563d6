import { InvalidArgumentError, NoEndpointsError } from "../core/errors.ts";

/**
 * Checks and normalizes endpoint URLs: "host:port" becomes "http://host:port", a trailing slash
 * is dropped, and only http and https are accepted.
 *
 * @example
 * normalizeEndpoints("127.0.0.1:2379,127.0.0.1:22379"); // ["http://127.0.0.1:2379", "http://127.0.0.1:22379"]
 */
export function normalizeEndpoints(endpoints: string[] | string | undefined): string[] {
  const list = typeof endpoints === "string" ? endpoints.split(",") : (endpoints ?? []);
  if (!Array.isArray(list))
    throw new InvalidArgumentError("endpoints must be a string or an array of strings");
  const urls: string[] = [];
  for (const raw of list) {
    if (typeof raw !== "string")
      throw new InvalidArgumentError(`endpoint must be a string, got ${typeof raw}`);
    const trimmed = raw.trim();
    if (!trimmed) continue;
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new InvalidArgumentError(`invalid endpoint "${raw}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new InvalidArgumentError(`endpoint "${raw}" must use http or https`);
    }
    if (url.pathname !== "/" || url.search || url.hash) {
      throw new InvalidArgumentError(`endpoint "${raw}" must not have a path, query or fragment`);
    }
    const normalized = `${url.protocol}//${url.host}`;
    if (!urls.includes(normalized)) urls.push(normalized);
  }
  if (urls.length === 0) throw new NoEndpointsError("no endpoints given");
  return urls;
}
