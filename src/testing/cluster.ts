import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdBinary } from "./etcd-binary.ts";

/** TLS material for a cluster's client URLs (file paths). */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed `certFile`: the harness trusts it; etcd gets it with `clientCertAuth`. */
  trustedCaFile: string;
  /** Require client certificates signed by `trustedCaFile` (else server-side TLS only). */
  clientCertAuth?: boolean;
}

export interface ClusterOptions {
  /** Number of members, default 1. */
  size?: number;
  /** Extra etcd flags for every member. */
  args?: string[];
  /** Serve clients over https with these files. */
  tls?: ClusterTls;
  /** Milliseconds to wait for the cluster to become healthy, default 30 s. */
  readyTimeoutMs?: number;
}

const LOG_LINES_KEPT = 200;

/** One etcd process of a test cluster. */
export class Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  paused = false;
  readonly #args: string[];
  readonly #log: string[] = [];

  constructor(name: string, clientUrl: string, peerUrl: string, dataDir: string, args: string[]) {
    this.name = name;
    this.clientUrl = clientUrl;
    this.peerUrl = peerUrl;
    this.dataDir = dataDir;
    this.#args = args;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    // Not `killed`: Node sets it once any signal was sent, SIGSTOP and SIGCONT included.
    return (
      this.process !== undefined &&
      this.process.exitCode === null &&
      this.process.signalCode === null
    );
  }

  /** Starts the process (again, on the same data dir after a kill). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(etcdBinary(), this.#args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (line) this.#log.push(line);
      }
      if (this.#log.length > LOG_LINES_KEPT) this.#log.splice(0, this.#log.length - LOG_LINES_KEPT);
    });
    child.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.process = child;
    this.paused = false;
    live.add(this);
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      live.delete(this);
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.ref();
    // SIGKILL ends a stopped process too; a SIGCONT first would let a hung member run for a
    // moment and serve what was waiting in its sockets.
    child.kill("SIGKILL");
    await exited;
    child.unref();
    this.paused = false;
    live.delete(this);
  }

  /** SIGSTOP: the member hangs with its sockets open. */
  pause(): void {
    const pid = this.process?.pid;
    this.process?.kill("SIGSTOP");
    this.paused = true;
    if (pid !== undefined) waitForState(pid, "T");
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    this.process?.kill("SIGCONT");
    this.paused = false;
  }

  /** Kill and start again on the same data dir. */
  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }

  /** The last lines etcd wrote to stderr. */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join("\n");
  }
}

/**
 * Waits (synchronously, up to a second) until /proc says every thread of `pid` is in `state`:
 * a signal is delivered when the kernel next schedules the process, so on a loaded machine a
 * "paused" etcd could otherwise still answer the request sent right after `pause()`.
 */
function waitForState(pid: number, state: string): void {
  const deadline = Date.now() + 1000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let stopped = true;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== state)
          stopped = false;
      }
    } catch {
      return;
    }
    if (stopped) return;
    Atomics.wait(pause, 0, 0, 2);
  }
}

const live = new Set<Member>();
process.on("exit", () => {
  for (const member of live) {
    if (member.paused) member.process?.kill("SIGCONT");
    member.process?.kill("SIGKILL");
  }
});

/**
 * A free TCP port on 127.0.0.1, below the kernel's ephemeral range when it can: a member killed
 * and restarted must get its port back, and a port from the ephemeral range may meanwhile be taken
 * by any outgoing connection or another test's port-0 listener on the machine.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  if (below > 11_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
      if (await canListen(port)) return port;
    }
  }
  return listenOn(0);
}

function ephemeralStart(): number {
  try {
    const range = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    return Number(range.trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    return (await listenOn(port)) === port;
  } catch {
    return false;
  }
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

let clusterCounter = 0;

/** Real etcd members on loopback, on free ports, with temporary data dirs. */
/** Ports and URLs reserved for a member that is to join a running cluster. */
export interface MemberSpec {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

export class Cluster {
  readonly members: Member[];
  readonly root: string;
  readonly tls: ClusterTls | undefined;
  readonly #options: ClusterOptions;

  private constructor(
    members: Member[],
    root: string,
    tls: ClusterTls | undefined,
    options: ClusterOptions,
  ) {
    this.members = members;
    this.root = root;
    this.tls = tls;
    this.#options = options;
  }

  /**
   * Reserves ports for one more member (not started): give `peerUrl` to MemberAdd, then call
   * `startMember` with the `--initial-cluster` the add answered.
   *
   * @example
   * const spec = await cluster.reserveMember();
   * const { members } = await etcd.cluster.memberAdd([spec.peerUrl], { isLearner: true });
   * cluster.startMember(spec, initialClusterOf(members, spec));
   */
  async reserveMember(name?: string): Promise<MemberSpec> {
    const scheme = this.tls ? "https" : "http";
    return {
      name: name ?? `m${this.members.length}`,
      clientUrl: `${scheme}://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
    };
  }

  /**
   * Starts a reserved member joining this running cluster (`--initial-cluster-state=existing`),
   * with the cluster's TLS and extra flags. `initialCluster` is "name=peerUrl,..." for every
   * member including the new one. Does not wait: a learner may not report healthy.
   *
   * @example
   * const member = cluster.startMember(spec, "m0=http://...,m1=...,m3=http://...");
   */
  startMember(spec: MemberSpec, initialCluster: string): Member {
    const dataDir = join(this.root, spec.name);
    const member = new Member(spec.name, spec.clientUrl, spec.peerUrl, dataDir, [
      ...memberArgs(spec, dataDir, initialCluster, this.#options.tls),
      "--initial-cluster-state=existing",
      ...(this.#options.args ?? []),
    ]);
    this.members.push(member);
    member.start();
    return member;
  }

  /** Kills a member and forgets it (after removing it from the cluster). */
  async dropMember(member: Member): Promise<void> {
    await member.kill();
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
  }

  /**
   * Starts `size` members and waits until every one answers /health. Ports are picked free but
   * another process (a parallel test run) can take one before etcd binds it: then it starts
   * over on other ports.
   */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Cluster.#startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
      }
    }
  }

  static async #startOnce(options: ClusterOptions): Promise<Cluster> {
    const size = options.size ?? 1;
    const root = mkdtempSync(join(tmpdir(), "etcd-connect-test-"));
    const scheme = options.tls ? "https" : "http";
    const token = `etcd-connect-${process.pid}-${++clusterCounter}`;
    const specs: Array<{ name: string; client: string; peer: string }> = [];
    for (let i = 0; i < size; i++) {
      const client = `${scheme}://127.0.0.1:${await freePort()}`;
      const peer = `http://127.0.0.1:${await freePort()}`;
      specs.push({ name: `m${i}`, client, peer });
    }
    const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(",");
    const members = specs.map((spec) => {
      const dataDir = join(root, spec.name);
      const memberSpec = { name: spec.name, clientUrl: spec.client, peerUrl: spec.peer };
      const args = [
        ...memberArgs(memberSpec, dataDir, initialCluster, options.tls),
        `--initial-cluster-token=${token}`,
        "--initial-cluster-state=new",
        ...(options.args ?? []),
      ];
      return new Member(spec.name, spec.client, spec.peer, dataDir, args);
    });
    const cluster = new Cluster(members, root, options.tls, options);
    for (const member of members) member.start();
    try {
      await cluster.waitHealthy(options.readyTimeoutMs ?? 30_000);
      const dead = members.find((m) => !m.running);
      if (dead) throw new Error(`${dead.name} exited:\n${dead.logTail()}`);
    } catch (error) {
      const logs = members.map((m) => `--- ${m.name} ---\n${m.logTail()}`).join("\n");
      await cluster.stop();
      throw new Error(`etcd did not become healthy: ${String(error)}\n${logs}`);
    }
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /**
   * Waits until every running, unpaused member reports itself healthy. A member started and not
   * killed that has exited (it could not bind its port, say) is an error, not skipped.
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const member of this.members) {
      if (member.paused) continue;
      if (!member.running) {
        if (live.has(member)) throw new Error(`${member.name} exited:\n${member.logTail()}`);
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

  /** The member etcd currently reports as leader (asks each running member's /metrics). */
  async leader(): Promise<Member | undefined> {
    for (const member of this.members) {
      if (!member.running || member.paused) continue;
      const metrics = await fetchText(`${member.clientUrl}/metrics`, this.tls).catch(() => "");
      if (/^etcd_server_is_leader 1$/m.test(metrics)) return member;
    }
    return undefined;
  }

  /** One Prometheus metric's value summed over its series, from one member. */
  async metric(member: Member, name: string): Promise<number> {
    const text = await fetchText(`${member.clientUrl}/metrics`, this.tls);
    let sum = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return sum;
  }

  /** Kills every member and removes the data dirs. Safe to call twice. */
  async stop(): Promise<void> {
    for (const member of this.members) {
      if (member.paused) member.resume();
      await member.kill();
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The log tail of every member, for a failing test's output. */
  logs(lines = 40): string {
    return this.members
      .map((m) => `--- ${m.name} (${m.clientUrl}) ---\n${m.logTail(lines)}`)
      .join("\n");
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

async function isHealthy(url: string, tls: ClusterTls | undefined): Promise<boolean> {
  try {
    const body = await fetchText(`${url}/health`, tls);
    return /"health":\s*"true"/.test(body);
  } catch {
    return false;
  }
}

/** GET over http or https (https with the cluster's CA and, with client auth, its cert). */
export async function fetchText(url: string, tls?: ClusterTls): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const mod = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const options = tls
      ? {
          ca: readFileSync(tls.trustedCaFile),
          cert: readFileSync(tls.certFile),
          key: readFileSync(tls.keyFile),
          // The harness checks health, not identity: tests may serve a certificate for another host.
          checkServerIdentity: () => undefined,
        }
      : {};
    const req = mod.get(url, { ...options, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}
