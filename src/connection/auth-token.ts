import { AuthNotEnabledError, toEtcdError } from "../core/errors.ts";
import type { TokenProvider } from "./pool-transport.ts";

/**
 * Asks etcd for a token (the Authenticate RPC, sent without a token).
 *
 * @example
 * const authenticate: Authenticate = async (name, password, signal) =>
 *   (await raw.auth.authenticate({ name, password }, { signal })).token;
 */
export type Authenticate = (
  name: string,
  password: string,
  signal?: AbortSignal,
) => Promise<string>;

const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * Tokens for a user name and password: authenticates on first use (one request in flight,
 * shared by every caller), and again when etcd rejects the token. The password is kept in a
 * private field: it is not in `util.inspect`, JSON or any error.
 *
 * When etcd answers that authentication is not enabled, calls go without a token until etcd
 * rejects one for lack of it ("user name is empty"), which makes `refresh` try again.
 *
 * @example
 * transport.auth = new PasswordAuth("app", password, authenticate);
 */
export class PasswordAuth implements TokenProvider {
  readonly username: string;
  readonly #password: string;
  readonly #authenticate: Authenticate;
  #token: string | undefined;
  /** True after etcd said auth is off: no token until a refresh. */
  #disabled = false;
  #pending: Promise<string | undefined> | undefined;

  constructor(username: string, password: string, authenticate: Authenticate) {
    this.username = username;
    this.#password = password;
    this.#authenticate = authenticate;
  }

  token(signal?: AbortSignal): string | undefined | Promise<string | undefined> {
    if (this.#token !== undefined || this.#disabled) return this.#token;
    return this.#fetch(signal);
  }

  async refresh(rejected: string | undefined, signal?: AbortSignal): Promise<boolean> {
    // Another caller already replaced the token the server rejected: use the new one.
    if (rejected !== undefined && this.#token !== undefined && this.#token !== rejected) {
      return true;
    }
    if (!this.#pending) {
      this.#token = undefined;
      this.#disabled = false;
    }
    await this.#fetch(signal);
    return true;
  }

  #fetch(signal: AbortSignal | undefined): Promise<string | undefined> {
    if (!this.#pending) {
      // Not tied to one caller's signal: the request is shared by every waiting call.
      const pending = this.#authenticate(this.username, this.#password).then(
        (token) => {
          this.#token = token;
          return token;
        },
        (error: unknown) => {
          const etcdError = toEtcdError(error);
          if (etcdError instanceof AuthNotEnabledError) {
            this.#disabled = true;
            return undefined;
          }
          throw etcdError;
        },
      );
      this.#pending = pending;
      const clear = () => {
        if (this.#pending === pending) this.#pending = undefined;
      };
      pending.then(clear, clear);
    }
    return signal ? raceSignal(this.#pending, signal) : this.#pending;
  }

  toJSON(): { username: string } {
    return { username: this.username };
  }

  [inspect](): string {
    return `PasswordAuth { username: ${JSON.stringify(this.username)} }`;
  }
}

/**
 * A token obtained elsewhere: sent as is, never refreshed (a rejected token fails the call).
 *
 * @example
 * transport.auth = new StaticToken(token);
 */
export class StaticToken implements TokenProvider {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  token(): string {
    return this.#token;
  }

  refresh(): Promise<boolean> {
    return Promise.resolve(false);
  }

  toJSON(): Record<string, never> {
    return {};
  }

  [inspect](): string {
    return "StaticToken {}";
  }
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toEtcdError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(toEtcdError(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
