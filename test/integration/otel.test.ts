/**
 * Observability against real etcd: the diagnostics channels, the `logger` option and the
 * OpenTelemetry instrumentation (`etcd-connect/otel`) with the real OTel SDK and in-memory
 * exporters. One put is one client span with OTel's RPC attributes and its traceparent on the
 * wire; a put retried after a killed member carries a failover event; a watcher resumed after
 * its member died and a lost lease show in metrics, channels and logs. Last, an etcd exporting
 * its own spans (3.5 and newer) records the client's put in the client's trace.
 */
import assert from "node:assert/strict";
import { subscribe, tracingChannel, unsubscribe } from "node:diagnostics_channel";
import { after, afterEach, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { context, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  type CallRetryMessage,
  type CallTrace,
  diagnosticsChannels,
  Etcd,
  type EtcdOptions,
  type LeaseLostMessage,
  type Logger,
  prefix,
  type TokenMessage,
  type WatchOpenMessage,
  type WatchResumeMessage,
} from "../../src/index.ts";
import { type EtcdInstrumentation, instrumentEtcd } from "../../src/otel.ts";
import { runCli } from "../support/cli.ts";
import {
  Cluster,
  etcdAtLeast,
  etcdVersion,
  type Member,
  OtlpReceiver,
  serverTracingFlags,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
after(() => context.disable());

/** A metric reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

/** OTel SDK providers with in-memory exporters, and `instrumentEtcd` writing to them. */
function otel() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation: EtcdInstrumentation = instrumentEtcd({ tracerProvider, meterProvider });
  return {
    tracer: tracerProvider.getTracer("test"),
    instrumentation,
    spans: (name: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => span.name === name),
    /** The data points of one metric. */
    async points(name: string): Promise<Point[]> {
      const { resourceMetrics } = await reader.collect();
      const points: Point[] = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints) {
            points.push({ attributes: { ...point.attributes }, value: point.value });
          }
        }
      }
      return points;
    },
  };
}

/** The sum of a counter's points whose attributes include `where`. */
function total(points: Point[], where: Record<string, unknown> = {}): number {
  return points
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as number), 0);
}

/** How many values a histogram recorded. */
function recorded(points: Point[], where: Record<string, unknown> = {}): number {
  return points
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
}

/** A logger that keeps every line, by level. */
function memoryLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { logger, lines };
}

/** Collects what a diagnostics channel publishes until `stop()`. */
function listen<T>(name: string) {
  const messages: T[] = [];
  const onMessage = (message: unknown) => messages.push(message as T);
  subscribe(name, onMessage);
  return { messages, stop: () => unsubscribe(name, onMessage) };
}

/** Records the `traceparent` each Put request carried. */
function traceparentRecorder() {
  const seen: string[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    if (req.method.name === "Put") seen.push(req.header.get("traceparent") ?? "(none)");
    return next(req);
  };
  return { seen, interceptor };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const portOf = (url: string) => Number(new URL(url).port);

/**
 * The leader and a follower. Tests kill the follower: killing the leader would fail writes in
 * flight elsewhere with "leader changed" or a timeout, which is not what they look at.
 */
async function roles(
  cluster: Cluster,
): Promise<{ leader: Member; follower: Member; other: Member }> {
  const leader = await cluster.leader();
  assert.ok(leader, "the cluster has a leader");
  const [follower, other] = cluster.members.filter((m) => m !== leader);
  assert.ok(follower && other);
  return { leader, follower, other };
}

describe("observability on a 3-member cluster", () => {
  const fx = useEtcd({ size: 3, spawn: true });
  const clients: Etcd[] = [];
  let active: ReturnType<typeof otel> | undefined;
  const client = (endpoints: string[], options: Partial<EtcdOptions> = {}) => {
    const etcd = new Etcd({ ...testClientOptions(), endpoints, ...options });
    clients.push(etcd);
    return etcd;
  };
  const setup = () => {
    active = otel();
    return active;
  };

  afterEach(async () => {
    active?.instrumentation.disable();
    active = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    const cluster = fx.cluster as Cluster;
    for (const member of cluster.members) if (!member.running) await member.restart();
    await cluster.waitHealthy();
  });

  test("a put is one client span with the RPC attributes, in the caller's trace, and its traceparent goes to etcd", async () => {
    const o = setup();
    const wire = traceparentRecorder();
    const endpoint = fx.endpoints[0] as string;
    const etcd = client([endpoint], { interceptors: [wire.interceptor] });
    const key = `${uniquePrefix("otel")}k`;
    let parentSpanId = "";
    await o.tracer.startActiveSpan("request", async (parent) => {
      parentSpanId = parent.spanContext().spanId;
      await etcd.put(key, "v");
      parent.end();
    });
    const puts = o.spans("etcdserverpb.KV/Put");
    assert.equal(puts.length, 1);
    const span = puts[0] as ReadableSpan;
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.deepEqual(span.attributes, {
      "rpc.system": "grpc",
      "rpc.service": "etcdserverpb.KV",
      "rpc.method": "Put",
      "rpc.grpc.status_code": 0,
      "server.address": "127.0.0.1",
      "server.port": portOf(endpoint),
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.parentSpanContext?.spanId, parentSpanId);
    assert.deepEqual(span.events, []);
    const { traceId, spanId } = span.spanContext();
    assert.deepEqual(wire.seen, [`00-${traceId}-${spanId}-01`]);
    const durations = await o.points("rpc.client.call.duration");
    assert.equal(recorded(durations, { "rpc.method": "Put", "rpc.grpc.status_code": 0 }), 1);
  });

  test("a call etcd refuses: the span carries its status code and an error status", async () => {
    const o = setup();
    const etcd = client([fx.endpoints[0] as string]);
    await assert.rejects(etcd.get("k", { revision: 1n << 40n }), /future revision/);
    const [span] = o.spans("etcdserverpb.KV/Range");
    assert.ok(span);
    assert.equal(span.attributes["rpc.grpc.status_code"], 11); // OutOfRange
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.match(span.status.message ?? "", /future revision/);
    const durations = await o.points("rpc.client.call.duration");
    assert.equal(recorded(durations, { "rpc.method": "Range", "rpc.grpc.status_code": 11 }), 1);
  });

  test("the call tracing channel, without OpenTelemetry: attempt, endpoint and outcome", async () => {
    const seen: { method: string; attempt: number; endpoint: string; code: unknown }[] = [];
    const handlers = {
      start() {},
      end() {},
      asyncStart() {},
      error() {},
      asyncEnd(message: unknown) {
        const call = message as CallTrace;
        seen.push({
          method: call.method,
          attempt: call.attempt,
          endpoint: call.endpoint,
          code: call.code,
        });
      },
    };
    const channel = tracingChannel(diagnosticsChannels.call);
    channel.subscribe(handlers);
    try {
      const endpoint = fx.endpoints[1] as string;
      const etcd = client([endpoint]);
      await etcd.put(`${uniquePrefix("dc")}k`, "v");
      await assert.rejects(etcd.get("k", { revision: 1n << 40n }));
      assert.deepEqual(seen, [
        { method: "Put", attempt: 1, endpoint, code: 0 },
        { method: "Range", attempt: 1, endpoint, code: 11 },
      ]);
    } finally {
      channel.unsubscribe(handlers);
    }
  });

  test("a put retried on another endpoint after its member was killed shows a failover event", async () => {
    const o = setup();
    const { follower: dead, leader: next, other } = await roles(fx.cluster as Cluster);
    await dead.kill();
    const log = memoryLogger();
    // A new client tries the first endpoint first: refused, so provably never sent, so retried.
    const etcd = client([dead.clientUrl, next.clientUrl, other.clientUrl], { logger: log.logger });
    const key = `${uniquePrefix("failover")}k`;
    const retries = listen<CallRetryMessage>(diagnosticsChannels.callRetry);
    try {
      await etcd.put(key, "v");
    } finally {
      retries.stop();
    }
    assert.deepEqual(
      retries.messages.map((m) => [
        m.method,
        m.attempt,
        m.previousEndpoint,
        m.endpoint,
        m.failover,
        (m.reason as { code?: unknown }).code,
        m.call?.retryReason === m.reason,
      ]),
      [["Put", 2, dead.clientUrl, next.clientUrl, true, 14, true]],
    );
    assert.equal((await etcd.get(key))?.text, "v");
    const puts = o.spans("etcdserverpb.KV/Put");
    assert.equal(puts.length, 1);
    const span = puts[0] as ReadableSpan;
    assert.deepEqual(
      span.events.map((e) => [
        e.name,
        e.attributes?.["etcd.previous_endpoint"],
        e.attributes?.["etcd.endpoint"],
      ]),
      [["failover", dead.clientUrl, next.clientUrl]],
    );
    assert.match(String(span.events[0]?.attributes?.["etcd.retry.reason"]), /connect/);
    assert.equal(span.attributes["server.port"], portOf(next.clientUrl));
    assert.equal(span.attributes["etcd.attempts"], 2);
    assert.equal(span.attributes["rpc.grpc.status_code"], 0);
    assert.equal(total(await o.points("etcd.client.failovers"), { "rpc.method": "Put" }), 1);
    assert.equal(total(await o.points("etcd.client.retries"), { "rpc.method": "Put" }), 1);
    assert.equal(total(await o.points("etcd.client.endpoint.set_aside")), 1);
    assert.ok(
      log.lines.some((l) => l.startsWith("warn") && l.includes(`${dead.clientUrl} set aside`)),
      log.lines.join("\n"),
    );
    // Connection-level only: no line per call.
    assert.ok(!log.lines.some((l) => /Put|Range/.test(l)), log.lines.join("\n"));
  });

  test("the CLI's --debug prints the connection events on stderr, and only those", async () => {
    const { follower: dead, leader, other } = await roles(fx.cluster as Cluster);
    await dead.kill();
    const endpoints = [dead.clientUrl, leader.clientUrl, other.clientUrl];
    const key = `${uniquePrefix("cli-debug")}k`;
    const quiet = await runCli(endpoints, ["put", key, "v"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    const debug = await runCli(endpoints, ["--debug", "put", key, "v"]);
    assert.equal(debug.code, 0, debug.stderr);
    assert.equal(debug.stdout.toString(), "OK\n");
    assert.match(
      debug.stderr,
      new RegExp(`WARN etcd-connect: endpoint ${dead.clientUrl} set aside`),
    );
    assert.match(debug.stderr, /DEBUG etcd-connect: connected to http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(debug.stderr, /Put/);
  });

  test("a watcher resumed after its member died: resume channel, metrics and log", async () => {
    const o = setup();
    const { follower: first, leader: second } = await roles(fx.cluster as Cluster);
    const log = memoryLogger();
    const resumes = listen<WatchResumeMessage>(diagnosticsChannels.watchResume);
    const opens = listen<WatchOpenMessage>(diagnosticsChannels.watchOpen);
    try {
      // The stream goes to the first endpoint of a new client.
      const etcd = client([first.clientUrl, second.clientUrl], { logger: log.logger });
      const writer = client([second.clientUrl]);
      const p = uniquePrefix("resume");
      await using watcher = etcd.watch(prefix(p));
      await watcher.ready();
      const put1 = await writer.put(`${p}a`, "1");
      const batches = watcher[Symbol.asyncIterator]();
      const b1 = await batches.next();
      assert.equal(b1.done, false);
      assert.equal(b1.value?.revision, put1.header.revision);
      await first.kill();
      const put2 = await writer.put(`${p}b`, "2");
      const b2 = await batches.next();
      assert.equal(b2.value?.events[0]?.kv.keyText, `${p}b`);
      assert.equal(b2.value?.revision, put2.header.revision);
      assert.deepEqual(
        resumes.messages.map((m) => [Buffer.from(m.key).toString(), m.revision, m.reason]),
        [[p, put1.header.revision + 1n, "stream"]],
      );
      assert.equal(
        total(await o.points("etcd.client.watch.resumes"), {
          "etcd.watch.resume_reason": "stream",
        }),
        1,
      );
      // One reopen, or more where the first one tried the dead member again before the pool set
      // it aside (seen on Bun): the metric counts what the channel reported.
      const reopened = opens.messages.filter((m) => m.reopened).length;
      assert.ok(reopened >= 1, "the stream was opened again");
      assert.equal(total(await o.points("etcd.client.watch.reopens")), reopened);
      assert.ok(recorded(await o.points("etcd.client.watch.lag")) >= 2);
      assert.ok(
        log.lines.some((l) => l.startsWith("info") && l.includes("watch stream reopened")),
        log.lines.join("\n"),
      );
      assert.ok(
        log.lines.some((l) => l.includes(`resumed at revision ${put1.header.revision + 1n}`)),
        log.lines.join("\n"),
      );
    } finally {
      resumes.stop();
      opens.stop();
    }
  });

  test("a lost lease: channel message, metric and log; renewals measured before", async () => {
    const o = setup();
    const log = memoryLogger();
    const lost = listen<LeaseLostMessage>(diagnosticsChannels.leaseLost);
    try {
      const etcd = client([fx.endpoints[0] as string], { logger: log.logger });
      const other = client([fx.endpoints[1] as string]);
      const lease = (await etcd.lease.grant(3)).keepAlive();
      await waitFor(
        "a renewal",
        async () => recorded(await o.points("etcd.client.lease.keepalive.duration")) >= 1,
      );
      // Revoked behind the keeper's back: its next renewal hears TTL 0.
      await other.lease.revoke(lease.id);
      const error = await new Promise<Error>((resolve) => lease.onLost(resolve));
      assert.match(error.message, /expired or was revoked/);
      assert.deepEqual(
        lost.messages.map((m) => [m.id, m.error]),
        [[lease.id, error]],
      );
      assert.equal(total(await o.points("etcd.client.lease.lost")), 1);
      assert.ok(
        log.lines.some(
          (l) => l.startsWith("warn") && l.includes(`lease ${lease.id.toString(16)} lost`),
        ),
        log.lines.join("\n"),
      );
    } finally {
      lost.stop();
    }
  });
});

describe(`etcd's own tracing (etcd ${etcdVersion()})`, () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  const serverTracing = etcdAtLeast(3, 5);

  before(async () => {
    receiver = await OtlpReceiver.start();
    // No sampling rate flag: etcd samples parent-based, so a sampled traceparent is enough.
    cluster = await Cluster.start({
      args: serverTracing ? serverTracingFlags(`127.0.0.1:${receiver.port}`) : [],
    });
  });
  after(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  test(
    serverTracing
      ? "etcd records its server span for the client's put in the client's trace"
      : "etcd 3.4 has no server tracing: the client's traceparent still reaches the wire",
    async () => {
      const o = otel();
      const wire = traceparentRecorder();
      const etcd = new Etcd({
        ...testClientOptions(),
        endpoints: cluster.endpoints,
        interceptors: [wire.interceptor],
      });
      try {
        await etcd.put(`${uniquePrefix("server-trace")}k`, "v");
        const [span] = o.spans("etcdserverpb.KV/Put");
        assert.ok(span);
        const { traceId, spanId } = span.spanContext();
        assert.deepEqual(wire.seen, [`00-${traceId}-${spanId}-01`]);
        if (serverTracing) {
          // etcd exports in batches (every 5 s by default).
          // The gRPC server span is the client span's child; etcd's own spans hang below it.
          const server = await receiver.waitFor(
            (s) => s.traceId === traceId && s.parentSpanId === spanId,
          );
          assert.equal(server.name, "etcdserverpb.KV/Put");
        } else {
          assert.deepEqual(receiver.spans, []);
        }
      } finally {
        o.instrumentation.disable();
        await etcd.close();
      }
    },
  );

  // Last in this file: it turns auth on for this member.
  test("a token obtained with a password is reported with the user name only: never the password or the token", async () => {
    const password = "s3cret-pw-otel";
    const admin = new Etcd({ ...testClientOptions(), endpoints: cluster.endpoints });
    await admin.auth.userAdd("root", password);
    await admin.auth.userGrantRole("root", "root");
    await admin.auth.enable();
    await admin.close();
    const log = memoryLogger();
    const tokens = listen<TokenMessage>(diagnosticsChannels.tokenRefreshed);
    const etcd = new Etcd({
      ...testClientOptions(),
      endpoints: cluster.endpoints,
      username: "root",
      password,
      logger: log.logger,
    });
    try {
      await etcd.put(`${uniquePrefix("auth")}k`, "v");
      assert.deepEqual(tokens.messages, [{ username: "root", initial: true }]);
      const text = log.lines.join("\n");
      assert.match(text, /authenticated as "root"/);
      assert.ok(!text.includes(password), text);
      // etcd's simple tokens are 16 letters, a dot and a number.
      assert.doesNotMatch(text, /\b[a-zA-Z]{16}\.\d+\b/);
    } finally {
      tokens.stop();
      await etcd.close();
    }
  });
});
