import { InvalidArgumentError } from "../core/errors.ts";
import { type Bytes, toBytes, toText } from "../core/keys.ts";
import { KeyspaceView } from "./keyspace-view.ts";

const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * A view of the client in which every key is under a prefix: keys are prefixed on the way in
 * and the prefix is removed on the way out, so code written against `Etcd` works unchanged on
 * its own part of the key space. Ranges stay inside the prefix: `all()` means every key of the
 * namespace, `fromKey(k)` stops at the namespace's end. Shares the client's connections,
 * watch and keep-alive streams; closing the client ends it.
 *
 * A namespace is a convenience, not a security boundary: for that, give each application its
 * own user with permissions on its prefix only (`etcd.auth.roleGrantPermission`).
 *
 * @example
 * const app = etcd.namespace("app/");
 * await app.put("a", "1");                 // stores "app/a"
 * (await app.get("a"))?.keyText;           // "a"
 * const jobs = app.namespace("jobs/");     // keys under "app/jobs/"
 */
export class Namespace extends KeyspaceView {
  /** @internal A namespace `prefix` under `view` (the client or another namespace). */
  static under(view: KeyspaceView, prefix: Uint8Array): Namespace {
    if (prefix.length === 0) throw new InvalidArgumentError("namespace prefix must not be empty");
    const keyspace = view.keyspace.child(prefix.slice());
    return new Namespace(view.core, view.kv.withKeyspace(keyspace), keyspace);
  }

  /**
   * The full prefix of this namespace's keys, as stored.
   *
   * @example
   * etcd.namespace("app/").namespace("jobs/").prefix; // bytes of "app/jobs/"
   */
  get prefix(): Uint8Array {
    return this.keyspace.prefix;
  }

  /**
   * A namespace nested in this one: its prefix follows this one's.
   *
   * @example
   * const jobs = etcd.namespace("app/").namespace("jobs/");
   */
  namespace(prefix: Bytes): Namespace {
    return Namespace.under(this, toBytes(prefix, "prefix"));
  }

  /** The prefix as text, for logs. */
  toJSON(): { prefix: string } {
    return { prefix: toText(this.prefix) };
  }

  [inspect](): string {
    return `Namespace { prefix: ${JSON.stringify(toText(this.prefix))} }`;
  }
}
