import { Code, ConnectError } from "@connectrpc/connect";

/**
 * What grpc-go (every etcd server) answers for an RPC it does not serve: Unimplemented with
 * "unknown method <Method> for service <package.Service>", or "unknown service <name>" when the
 * whole service is missing. A server that knows the method may still answer Unimplemented for
 * one request (etcd 3.7's RangeStream refuses custom sort orders that way): that says nothing
 * about the server, so only these messages count.
 */
const UNKNOWN_METHOD = /^unknown (method|service) /;

/**
 * True when the error is a server saying it has no such RPC at all (a member older than the
 * method), as opposed to refusing one request.
 *
 * @example
 * if (isUnknownMethod(toCallError(err))) endpoint.missing.add("etcdserverpb.KV/RangeStream", err.rawMessage);
 */
export function isUnknownMethod(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.Unimplemented &&
    UNKNOWN_METHOD.test(error.rawMessage)
  );
}

/**
 * The RPCs one endpoint answered "unknown method" for, remembered while its connection lasts:
 * a member that reconnects may have been upgraded in between, so a new connection forgets them
 * all and the next call asks the server again. `connection` tells which connection is current
 * (any value that changes when the endpoint reconnects).
 *
 * @example
 * const missing = new MissingMethods(() => session.generation);
 * missing.add("etcdserverpb.KV/RangeStream", "unknown method RangeStream for service etcdserverpb.KV");
 * missing.has("etcdserverpb.KV/RangeStream"); // true until the next connection
 */
export class MissingMethods {
  readonly #connection: () => unknown;
  #learnedOn: unknown;
  /** Method path to the server's own answer. */
  readonly #methods = new Map<string, string>();

  constructor(connection: () => unknown) {
    this.#connection = connection;
  }

  /** True when the current connection's server said it does not serve `path`. */
  has(path: string): boolean {
    this.#forgetIfReconnected();
    return this.#methods.has(path);
  }

  /** The server's answer for `path`, while remembered. */
  answer(path: string): string | undefined {
    this.#forgetIfReconnected();
    return this.#methods.get(path);
  }

  /** Records that the server answered `message` ("unknown method ...") for `path`. */
  add(path: string, message: string): void {
    this.#forgetIfReconnected();
    this.#methods.set(path, message);
  }

  #forgetIfReconnected(): void {
    const current = this.#connection();
    if (current === this.#learnedOn) return;
    this.#learnedOn = current;
    this.#methods.clear();
  }
}
