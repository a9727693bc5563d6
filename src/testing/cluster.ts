import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EtcdOptions } from "../client/options.ts";
import { type AuthSetup, enableAuth, userPassword } from "./auth-setup.ts";
import { atExit } from "./cleanup.ts";
import { etcdBinary } from "./etcd-binary.ts";
import { type ClusterTls, fetchText, isHealthy } from "./http-probe.ts";
import { TestMember } from "./member.ts";
import { generatePki, type TestPki } from "./pki.ts";
import { freePort, releasePort } from "./ports.ts";

/**
 * Certificates the cluster makes for itself with `openssl`: a throwaway CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate.
 *
 * @example
 * await TestCluster.start({ tls: { generate: true, clientCertAuth: true } });
 */
export interface GeneratedTls {
  generate: true;
  /** Require client certificates (etcd's `--client-cert-auth`). Default false. */
  clientCertAuth?: boolean;
}

/**
 * How to start a test cluster.
 *
 * @example
 * const options: TestClusterOptions = { size: 3, tls: true, auth: { users: [{ name: "app", password: "pw" }] } };
 */
export interface TestClusterOptions {
  /** Number of members, default 1. */
  size?: number;
  /** Extra etcd flags for every member, such as `["--auth-token-ttl=2"]`. */
  args?: string[];
  /**
   * Serve clients over https: `true` (or `{ generate: true }`) makes certificates with
   * `openssl`; or give your own files.
   */
  tls?: true | GeneratedTls | ClusterTls;
  /** Set up users and roles, then enable authentication. */
  auth?: AuthSetup;
  /** The etcd executable; default `etcdBinary()` (`ETCD_BIN`, then `PATH`). */
  binary?: string;
  /** Milliseconds to wait for the cluster to become healthy, default 30 s. */
  readyTimeoutMs?: number;
}

/**
 * Ports and URLs reserved for a member that is to join a running cluster.
 *
 * @example
 * const spec: MemberSpec = await cluster.reserveMember();
 */
export interface MemberSpec {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

let clusterCounter = 0;

/**
 * Throwaway etcd members on loopback, on free ports, with temporary data directories: one member
 * or an N-member cluster, optionally with TLS and authentication, to test your own code against
 * a real etcd. Kill, pause, resume and restart members to test failures. `stop()` (or
 * `await using`) kills every member and deletes the data; members still running when the
 * process exits or is ended by SIGINT, SIGTERM or SIGHUP are killed then.
 *
 * @example
 * await using cluster = await TestCluster.start({ size: 3 });
 * await using etcd = new Etcd(cluster.clientOptions());
 * await etcd.put("k", "v");
 * await (await cluster.leader())?.kill();
 * console.log((await etcd.get("k"))?.text); // "v": the other two still have a quorum
 */
export class TestCluster {
  /** The members, in start order. */
  readonly members: TestMember[];
  /** The directory holding the data directories (and generated certificates). */
  readonly root: string;
  /** TLS files of the client URLs, when served over https. */
  readonly tls: ClusterTls | undefined;
  /** The certificates, when the cluster generated them. */
  readonly pki: TestPki | undefined;
  /** The users set up, when started with `auth`. */
  readonly auth: Readonly<AuthSetup> | undefined;
  readonly #options: TestClusterOptions;
  readonly #binary: string;
  #disposeCleanup: (() => void) | undefined;
  /** Ports reserved for this cluster's members (see `freePort`), given back by `stop`. */
  readonly #ports: number[] = [];

  private constructor(
    root: string,
    binary: string,
    options: TestClusterOptions,
    tls: ClusterTls | undefined,
    pki: TestPki | undefined,
  ) {
    this.members = [];
    this.root = root;
    this.#binary = binary;
    this.#options = options;
    this.tls = tls;
    this.pki = pki;
    this.auth = options.auth;
    this.#disposeCleanup = atExit(() => rmSync(root, { recursive: true, force: true }));
  }

  /**
   * Starts `size` members and waits until every one answers /health, then sets up
   * authentication if asked. Ports are picked free, but another process can take one before
   * etcd binds it: then it starts over on other ports.
   *
   * @example
   * await using cluster = await TestCluster.start({ size: 3 });
   */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await TestCluster.#startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
      }
    }
  }

  static async #startOnce(options: TestClusterOptions): Promise<TestCluster> {
    const size = options.size ?? 1;
    const binary = options.binary ?? etcdBinary();
    const root = mkdtempSync(join(tmpdir(), "etcd-connect-test-"));
    let pki: TestPki | undefined;
    let tls: ClusterTls | undefined;
    if (options.tls === true || (options.tls && "generate" in options.tls)) {
      pki = generatePki({ dir: join(root, "pki") });
      tls = {
        certFile: pki.server.certFile,
        keyFile: pki.server.keyFile,
        trustedCaFile: pki.ca.certFile,
        clientCertAuth: options.tls !== true && options.tls.clientCertAuth === true,
      };
    } else {
      tls = options.tls;
    }
    const cluster = new TestCluster(root, binary, options, tls, pki);
    const scheme = tls ? "https" : "http";
    const token = `etcd-connect-${process.pid}-${++clusterCounter}`;
    const specs: MemberSpec[] = [];
    for (let i = 0; i < size; i++) {
      specs.push({
        name: `m${i}`,
        clientUrl: await cluster.#freeUrl(scheme),
        peerUrl: await cluster.#freeUrl("http"),
      });
    }
    const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
    for (const spec of specs) {
      cluster.#add(spec, initialCluster, [
        `--initial-cluster-token=${token}`,
        "--initial-cluster-state=new",
      ]);
    }
    try {
      for (const member of cluster.members) member.start();
      await cluster.waitHealthy(options.readyTimeoutMs ?? 30_000);
      const dead = cluster.members.find((m) => !m.running);
      if (dead) throw new Error(`${dead.name} exited:\n${dead.logTail()}`);
      if (options.auth) await enableAuth(cluster.endpoints, cluster.#tlsOptions(), options.auth);
    } catch (error) {
      const logs = cluster.logs();
      await cluster.stop();
      throw new Error(`etcd did not become healthy: ${String(error)}\n${logs}`);
    }
    return cluster;
  }

  /** The members' client URLs. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /**
   * Options for `new Etcd(...)`: every member's URL, the CA (and client certificate) when the
   * cluster serves TLS, and a user's credentials when it has auth (default: root).
   *
   * @example
   * await using etcd = new Etcd({ ...cluster.clientOptions("app"), timeoutMs: 5_000 });
   */
  clientOptions(user?: string): EtcdOptions {
    const options: EtcdOptions = { endpoints: this.endpoints };
    const tls = this.#tlsOptions();
    if (tls) options.tls = tls;
    if (this.auth) {
      const name = user ?? "root";
      options.username = name;
      options.password = userPassword(this.auth, name);
    } else if (user !== undefined) {
      throw new Error(`user ${user}: the cluster was started without auth`);
    }
    return options;
  }

  /**
   * Reserves ports for one more member (not started): give `peerUrl` to MemberAdd, then call
   * `startMember` with the `--initial-cluster` the add answered.
   *
   * @example
   * const spec = await cluster.reserveMember();
   * await etcd.cluster.memberAdd([spec.peerUrl], { isLearner: true });
   */
  async reserveMember(name?: string): Promise<MemberSpec> {
    const scheme = this.tls ? "https" : "http";
    return {
      name: name ?? `m${this.members.length}`,
      clientUrl: await this.#freeUrl(scheme),
      peerUrl: await this.#freeUrl("http"),
    };
  }

  async #freeUrl(scheme: "http" | "https"): Promise<string> {
    const port = await freePort();
    this.#ports.push(port);
    return `${scheme}://127.0.0.1:${port}`;
  }

  /**
   * Starts a reserved member joining this running cluster (`--initial-cluster-state=existing`),
   * with the cluster's TLS and extra flags. `initialCluster` is "name=peerUrl,..." for every
   * member including the new one. Does not wait: a learner may not report healthy.
   *
   * @example
   * const member = cluster.startMember(spec, "m0=http://127.0.0.1:10001,m1=http://127.0.0.1:10003");
   */
  startMember(spec: MemberSpec, initialCluster: string): TestMember {
    const member = this.#add(spec, initialCluster, ["--initial-cluster-state=existing"]);
    member.start();
    return member;
  }

  /**
   * Kills a member and forgets it (after removing it from the cluster).
   *
   * @example
   * await etcd.cluster.memberRemove(id);
   * await cluster.dropMember(cluster.members[3]);
   */
  async dropMember(member: TestMember): Promise<void> {
    await member.kill();
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
  }

  /**
   * Waits until every running, unpaused member reports itself healthy. A member started and not
   * killed that has exited (it could not bind its port, say) is an error, not skipped.
   *
   * @example
   * await cluster.members[1].restart();
   * await cluster.waitHealthy();
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const member of this.members) {
      if (member.paused) continue;
      if (!member.running) {
        if (member.exitedUnexpectedly)
          throw new Error(`${member.name} exited:\n${member.logTail()}`);
        continue;
      }
      for (;;) {
        if (await isHealthy(member.clientUrl, this.tls)) break;
        if (!member.running) throw new Error(`${member.name} exited:\n${member.logTail()}`);
        if (Date.now() > deadline) throw new Error(`${member.name} not healthy in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /**
   * The member etcd currently reports as leader (asks each running member's /metrics), or
   * undefined while there is none.
   *
   * @example
   * const leader = await cluster.leader();
   * await leader?.kill();
   */
  async leader(): Promise<TestMember | undefined> {
    for (const member of this.members) {
      if (!member.running || member.paused) continue;
      const metrics = await fetchText(`${member.clientUrl}/metrics`, this.tls).catch(() => "");
      if (/^etcd_server_is_leader 1$/m.test(metrics)) return member;
    }
    return undefined;
  }

  /**
   * Waits until a running member reports itself leader, and returns it: after killing or pausing
   * the leader, writes sent before the others elect a new one fail with a timeout (etcd cannot
   * tell whether they were applied, so the client does not resend them).
   *
   * @example
   * await (await cluster.leader())?.kill();
   * const next = await cluster.waitLeader();
   */
  async waitLeader(timeoutMs = 30_000): Promise<TestMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader) return leader;
      if (Date.now() > deadline)
        throw new Error(`no leader within ${timeoutMs} ms\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * One Prometheus metric's value summed over its series, from one member.
   *
   * @example
   * const watchers = await cluster.metric(cluster.members[0], "etcd_debugging_mvcc_watcher_total");
   */
  async metric(member: TestMember, name: string): Promise<number> {
    const text = await fetchText(`${member.clientUrl}/metrics`, this.tls);
    let sum = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return sum;
  }

  /**
   * Kills every member and removes the data (and generated certificates). Safe to call twice.
   *
   * @example
   * after(() => cluster.stop());
   */
  async stop(): Promise<void> {
    for (const member of this.members) {
      if (member.paused) member.resume();
      await member.kill();
    }
    rmSync(this.root, { recursive: true, force: true });
    for (const port of this.#ports.splice(0)) releasePort(port);
    this.#disposeCleanup?.();
    this.#disposeCleanup = undefined;
  }

  /** `await using` stops the cluster. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * The log tail of every member, for a failing test's output.
   *
   * @example
   * afterEach((t) => { if (!t.passed) console.error(cluster.logs()); });
   */
  logs(lines = 40): string {
    return this.members
      .map((m) => `--- ${m.name} (${m.clientUrl}) ---\n${m.logTail(lines)}`)
      .join("\n");
  }

  #add(spec: MemberSpec, initialCluster: string, extra: string[]): TestMember {
    const dataDir = join(this.root, spec.name);
    const member = new TestMember(
      spec.name,
      spec.clientUrl,
      spec.peerUrl,
      dataDir,
      [
        ...memberArgs(spec, dataDir, initialCluster, this.tls),
        ...extra,
        ...(this.#options.args ?? []),
      ],
      this.#binary,
    );
    this.members.push(member);
    return member;
  }

  #tlsOptions(): EtcdOptions["tls"] {
    const tls = this.tls;
    if (!tls) return undefined;
    return {
      ca: readFileSync(tls.trustedCaFile, "utf8"),
      ...(tls.clientCertAuth
        ? { cert: readFileSync(tls.certFile, "utf8"), key: readFileSync(tls.keyFile, "utf8") }
        : {}),
    };
  }
}

function memberArgs(
  spec: MemberSpec,
  dataDir: string,
  initialCluster: string,
  tls: ClusterTls | undefined,
): string[] {
  return [
    `--name=${spec.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${spec.clientUrl}`,
    `--advertise-client-urls=${spec.clientUrl}`,
    `--listen-peer-urls=${spec.peerUrl}`,
    `--initial-advertise-peer-urls=${spec.peerUrl}`,
    `--initial-cluster=${initialCluster}`,
    "--logger=zap",
    "--log-outputs=stderr",
    "--log-level=warn",
    ...tlsArgs(tls),
  ];
}

function tlsArgs(tls: ClusterTls | undefined): string[] {
  if (!tls) return [];
  return [
    `--cert-file=${tls.certFile}`,
    `--key-file=${tls.keyFile}`,
    // etcd asks every client for a certificate as soon as it has a trusted CA file.
    ...(tls.clientCertAuth ? [`--trusted-ca-file=${tls.trustedCaFile}`, "--client-cert-auth"] : []),
  ];
}
