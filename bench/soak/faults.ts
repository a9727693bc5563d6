import type { TestCluster, TestMember } from "../../src/testing.ts";

/**
 * One kind of fault the soak injects: `inject` breaks something and returns how to heal it.
 * Kinds are picked at random; a partition kind (cutting a member off in a network namespace)
 * plugs in here as one more entry once the harness can make namespaces.
 */
export interface FaultKind {
  readonly name: string;
  inject(cluster: TestCluster, member: TestMember): Promise<() => Promise<void>>;
}

/** SIGKILL the member, start it again on the same data dir when healed. */
export const killFault: FaultKind = {
  name: "kill",
  async inject(_cluster, member) {
    await member.kill();
    return async () => member.start();
  },
};

/** SIGSTOP the member (it hangs with its sockets open), SIGCONT when healed. */
export const pauseFault: FaultKind = {
  name: "pause",
  async inject(_cluster, member) {
    member.pause();
    return async () => member.resume();
  },
};

export const defaultFaultKinds: readonly FaultKind[] = [killFault, pauseFault];

/**
 * Every `everyMs` (±50 %), breaks one member for `holdMs` (±50 %) with a random kind, then heals
 * it; one member at a time, so the cluster keeps its quorum. Counts faults per kind.
 */
export class Nemesis {
  readonly counts = new Map<string, number>();
  readonly #cluster: TestCluster;
  readonly #kinds: readonly FaultKind[];
  readonly #everyMs: number;
  readonly #holdMs: number;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(cluster: TestCluster, kinds: readonly FaultKind[], everyMs: number, holdMs: number) {
    this.#cluster = cluster;
    this.#kinds = kinds;
    this.#everyMs = everyMs;
    this.#holdMs = holdMs;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#sleep(jitter(this.#everyMs));
      if (this.#stopped) break;
      const members = this.#cluster.members;
      const member = members[Math.floor(Math.random() * members.length)];
      const kind = this.#kinds[Math.floor(Math.random() * this.#kinds.length)];
      if (!member || !kind) continue;
      const heal = await kind.inject(this.#cluster, member);
      this.counts.set(kind.name, (this.counts.get(kind.name) ?? 0) + 1);
      await this.#sleep(jitter(this.#holdMs));
      await heal();
      // Let the member rejoin before the next fault, so two members are never down at once.
      await this.#cluster.waitHealthy(60_000).catch(() => {});
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function jitter(ms: number): number {
  return ms * (0.5 + Math.random());
}
