import type { Client, CallOptions as ConnectCallOptions } from "@connectrpc/connect";
import { Permission_Type } from "../../gen/authpb/auth_pb.ts";
import type {
  Auth as AuthService,
  ResponseHeader as WireHeader,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { type KeyOrRange, KeyRange, toKeyRange } from "../core/keys.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";
import type { HeaderResult } from "../kv/results.ts";

/**
 * What a role may do on a key range.
 *
 * @example
 * await etcd.auth.roleGrantPermission("reader", prefix("app/"), "read");
 */
export type PermissionType = "read" | "write" | "readwrite";

/**
 * A permission of a role: what it allows on which keys.
 *
 * @example
 * const { permissions } = await etcd.auth.roleGet("reader");
 * permissions[0]?.range.key; // bytes of "app/"
 */
export interface Permission {
  type: PermissionType;
  /** The keys, as a `KeyRange` (a single key when `rangeEnd` is empty). */
  range: KeyRange;
}

/**
 * A user and the roles granted to it.
 *
 * @example
 * const { roles } = await etcd.auth.userGet("app");
 */
export interface User {
  header: ResponseHeader;
  name: string;
  roles: string[];
}

/**
 * A role and its permissions.
 *
 * @example
 * const role = await etcd.auth.roleGet("reader");
 */
export interface Role {
  header: ResponseHeader;
  name: string;
  permissions: Permission[];
}

/**
 * What `userList` returns.
 *
 * @example
 * const { users } = await etcd.auth.userList();
 */
export interface UserListResult {
  header: ResponseHeader;
  users: string[];
}

/**
 * What `roleList` returns.
 *
 * @example
 * const { roles } = await etcd.auth.roleList();
 */
export interface RoleListResult {
  header: ResponseHeader;
  roles: string[];
}

/**
 * Whether authentication is on, and the auth store's revision (bumped by every user or role
 * change; tokens older than it are refused and re-fetched).
 *
 * @example
 * const { enabled } = await etcd.auth.status();
 */
export interface AuthStatus {
  header: ResponseHeader;
  enabled: boolean;
  authRevision: bigint;
}

const permissionTypes: Record<PermissionType, Permission_Type> = {
  read: Permission_Type.READ,
  write: Permission_Type.WRITE,
  readwrite: Permission_Type.READWRITE,
};

/**
 * Administers etcd's authentication: turning it on and off, users, roles and their key-range
 * permissions. Key ranges are built with `key`, `prefix`, `range`, `fromKey` and `all`, as
 * everywhere else. Passwords are sent to etcd and nowhere else: no error or log repeats them.
 *
 * @example
 * await etcd.auth.userAdd("root", rootPassword);
 * await etcd.auth.userGrantRole("root", "root");
 * await etcd.auth.roleAdd("reader");
 * await etcd.auth.roleGrantPermission("reader", prefix("app/"), "read");
 * await etcd.auth.enable();
 */
export class AuthClient {
  readonly #client: Client<typeof AuthService>;

  /** @internal */
  constructor(client: Client<typeof AuthService>) {
    this.#client = client;
  }

  /**
   * Turns authentication on. etcd requires a user "root" holding the role "root" first.
   *
   * @example
   * await etcd.auth.enable();
   */
  async enable(options: CallOptions = {}): Promise<HeaderResult> {
    return headerOf(await this.#call((call) => this.#client.authEnable({}, call), options));
  }

  /**
   * Turns authentication off (the caller must be root).
   *
   * @example
   * await etcd.auth.disable();
   */
  async disable(options: CallOptions = {}): Promise<HeaderResult> {
    return headerOf(await this.#call((call) => this.#client.authDisable({}, call), options));
  }

  /**
   * Whether authentication is on (etcd 3.5 and later; 3.4 lacks this RPC and answers
   * `Unimplemented`).
   *
   * @example
   * if (!(await etcd.auth.status()).enabled) await etcd.auth.enable();
   */
  async status(options: CallOptions = {}): Promise<AuthStatus> {
    const response = await this.#call((call) => this.#client.authStatus({}, call), options);
    return {
      header: toHeader(response.header),
      enabled: response.enabled,
      authRevision: response.authRevision,
    };
  }

  /**
   * Creates a user with a password, or with `{ noPassword: true }` a user that cannot log in
   * with a password (it is identified by its TLS client certificate's common name).
   *
   * @example
   * await etcd.auth.userAdd("app", secret);
   * await etcd.auth.userAdd("worker", { noPassword: true });
   */
  async userAdd(
    name: string,
    password: string | { noPassword: true },
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(name, "user name");
    let request: { name: string; password: string; options: { noPassword: boolean } };
    if (typeof password === "string") {
      if (password.length === 0) {
        throw new InvalidArgumentError("password must not be empty; use { noPassword: true }");
      }
      request = { name, password, options: { noPassword: false } };
    } else if (password && typeof password === "object" && password.noPassword === true) {
      request = { name, password: "", options: { noPassword: true } };
    } else {
      throw new InvalidArgumentError("password must be a string or { noPassword: true }");
    }
    return headerOf(await this.#call((call) => this.#client.userAdd(request, call), options));
  }

  /**
   * Deletes a user.
   *
   * @example
   * await etcd.auth.userDelete("app");
   */
  async userDelete(name: string, options: CallOptions = {}): Promise<HeaderResult> {
    checkName(name, "user name");
    return headerOf(await this.#call((call) => this.#client.userDelete({ name }, call), options));
  }

  /**
   * Sets a user's password. Tokens already issued stay valid until they expire.
   *
   * @example
   * await etcd.auth.userChangePassword("app", newSecret);
   */
  async userChangePassword(
    name: string,
    password: string,
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(name, "user name");
    if (typeof password !== "string" || password.length === 0) {
      throw new InvalidArgumentError("password must be a non-empty string");
    }
    return headerOf(
      await this.#call(
        (call) => this.#client.userChangePassword({ name, password }, call),
        options,
      ),
    );
  }

  /**
   * Grants a role to a user.
   *
   * @example
   * await etcd.auth.userGrantRole("app", "reader");
   */
  async userGrantRole(
    user: string,
    role: string,
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(user, "user name");
    checkName(role, "role name");
    return headerOf(
      await this.#call((call) => this.#client.userGrantRole({ user, role }, call), options),
    );
  }

  /**
   * Takes a role away from a user.
   *
   * @example
   * await etcd.auth.userRevokeRole("app", "reader");
   */
  async userRevokeRole(
    user: string,
    role: string,
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(user, "user name");
    checkName(role, "role name");
    return headerOf(
      await this.#call((call) => this.#client.userRevokeRole({ name: user, role }, call), options),
    );
  }

  /**
   * A user and its roles; `NotFoundError` when there is no such user.
   *
   * @example
   * const { roles } = await etcd.auth.userGet("app");
   */
  async userGet(name: string, options: CallOptions = {}): Promise<User> {
    checkName(name, "user name");
    const response = await this.#call((call) => this.#client.userGet({ name }, call), options);
    return { header: toHeader(response.header), name, roles: [...response.roles] };
  }

  /**
   * Every user name.
   *
   * @example
   * const { users } = await etcd.auth.userList();
   */
  async userList(options: CallOptions = {}): Promise<UserListResult> {
    const response = await this.#call((call) => this.#client.userList({}, call), options);
    return { header: toHeader(response.header), users: [...response.users] };
  }

  /**
   * Creates a role (with no permissions).
   *
   * @example
   * await etcd.auth.roleAdd("reader");
   */
  async roleAdd(name: string, options: CallOptions = {}): Promise<HeaderResult> {
    checkName(name, "role name");
    return headerOf(await this.#call((call) => this.#client.roleAdd({ name }, call), options));
  }

  /**
   * Deletes a role (and takes it from every user).
   *
   * @example
   * await etcd.auth.roleDelete("reader");
   */
  async roleDelete(name: string, options: CallOptions = {}): Promise<HeaderResult> {
    checkName(name, "role name");
    return headerOf(
      await this.#call((call) => this.#client.roleDelete({ role: name }, call), options),
    );
  }

  /**
   * Allows a role to read, write or both on a key or range.
   *
   * @example
   * await etcd.auth.roleGrantPermission("reader", prefix("app/"), "read");
   * await etcd.auth.roleGrantPermission("admin", all(), "readwrite");
   */
  async roleGrantPermission(
    role: string,
    keys: KeyOrRange,
    type: PermissionType,
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(role, "role name");
    const permType = permissionTypes[type];
    if (permType === undefined) {
      throw new InvalidArgumentError(
        `permission must be "read", "write" or "readwrite", got ${String(type)}`,
      );
    }
    const range = toKeyRange(keys);
    return headerOf(
      await this.#call(
        (call) =>
          this.#client.roleGrantPermission(
            { name: role, perm: { permType, key: range.key, rangeEnd: range.rangeEnd } },
            call,
          ),
        options,
      ),
    );
  }

  /**
   * Removes a role's permission on exactly this key or range (as it was granted).
   *
   * @example
   * await etcd.auth.roleRevokePermission("reader", prefix("app/"));
   */
  async roleRevokePermission(
    role: string,
    keys: KeyOrRange,
    options: CallOptions = {},
  ): Promise<HeaderResult> {
    checkName(role, "role name");
    const range = toKeyRange(keys);
    return headerOf(
      await this.#call(
        (call) =>
          this.#client.roleRevokePermission(
            { role, key: range.key, rangeEnd: range.rangeEnd },
            call,
          ),
        options,
      ),
    );
  }

  /**
   * A role and its permissions; `NotFoundError` when there is no such role.
   *
   * @example
   * const { permissions } = await etcd.auth.roleGet("reader");
   */
  async roleGet(name: string, options: CallOptions = {}): Promise<Role> {
    checkName(name, "role name");
    const response = await this.#call(
      (call) => this.#client.roleGet({ role: name }, call),
      options,
    );
    return {
      header: toHeader(response.header),
      name,
      permissions: response.perm.map((p) => ({
        type:
          p.permType === Permission_Type.WRITE
            ? "write"
            : p.permType === Permission_Type.READWRITE
              ? "readwrite"
              : "read",
        range: new KeyRange(p.key, p.rangeEnd),
      })),
    };
  }

  /**
   * Every role name.
   *
   * @example
   * const { roles } = await etcd.auth.roleList();
   */
  async roleList(options: CallOptions = {}): Promise<RoleListResult> {
    const response = await this.#call((call) => this.#client.roleList({}, call), options);
    return { header: toHeader(response.header), roles: [...response.roles] };
  }

  async #call<T>(send: (call: ConnectCallOptions) => Promise<T>, options: CallOptions): Promise<T> {
    try {
      return await send(connectOptions(options));
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }
}

function headerOf(response: { header?: WireHeader | undefined }): HeaderResult {
  return { header: toHeader(response.header) };
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string`);
  }
}
