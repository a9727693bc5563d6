import { subscribe, tracingChannel, unsubscribe } from "node:diagnostics_channel";
import {
  type Attributes,
  type Counter,
  context,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type TextMapSetter,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { CallTrace } from "../diagnostics/call-trace.ts";
import {
  type CallRetryMessage,
  type ConnectionMessage,
  diagnosticsChannels,
  type EndpointAsideMessage,
  type LeaseRenewedMessage,
  type WatchEventsMessage,
  type WatchOpenMessage,
  type WatchResumeMessage,
} from "../diagnostics/channels.ts";
import { traceContextPropagator } from "./trace-context.ts";

/**
 * Settings of `instrumentEtcd`.
 *
 * @example
 * instrumentEtcd({ tracerProvider: provider, meterProvider: meters });
 */
export interface EtcdInstrumentationOptions {
  /** Where spans go; default: the global tracer provider (`trace.setGlobalTracerProvider`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go; default: the global meter provider (`metrics.setGlobalMeterProvider`). */
  meterProvider?: MeterProvider;
  /**
   * How trace context goes into each call's gRPC metadata; default: the global propagator when
   * one is registered, else W3C Trace Context (`traceparent`), which etcd's server reads.
   */
  propagator?: TextMapPropagator;
}

/**
 * What `instrumentEtcd` returns: call `disable()` (or `using`) to stop.
 *
 * @example
 * using otel = instrumentEtcd();
 */
export interface EtcdInstrumentation {
  /** Unsubscribes from every channel; spans of calls in flight still end. */
  disable(): void;
  /** Same as `disable()`. */
  [Symbol.dispose](): void;
}

const SCOPE = "etcd-connect";

/** Bucket boundaries for durations in seconds: 0.5 ms to 10 s (the SDK's default suits ms). */
const SECONDS = {
  explicitBucketBoundaries: [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ],
};
/** Bucket boundaries for revisions behind etcd's head. */
const REVISIONS = { explicitBucketBoundaries: [0, 1, 10, 100, 1_000, 10_000, 100_000] };

const metadataSetter: TextMapSetter<CallTrace> = {
  set(carrier, key, value) {
    carrier.setMetadata(key, value);
  },
};

interface Endpoint {
  readonly address: string;
  readonly port: number | undefined;
}

/**
 * Turns the client's diagnostics channels into OpenTelemetry spans and metrics, for every
 * `Etcd` client in the process. Each unary call gets a client span named like
 * "etcdserverpb.KV/Put" with OTel's RPC attributes (`rpc.system` "grpc", `rpc.service`,
 * `rpc.method`, `server.address`, `server.port`, `rpc.grpc.status_code`), a "retry" or "failover"
 * event per retry, and its trace context in the call's metadata (`traceparent`), so an etcd
 * running with distributed tracing records its server span in the same trace.
 *
 * Metrics: `rpc.client.call.duration` (s, by service, method and status code),
 * `etcd.client.retries`, `etcd.client.failovers`, `etcd.client.endpoint.set_aside`,
 * `etcd.client.connection.changes`, `etcd.client.watch.reopens`, `etcd.client.watch.resumes`,
 * `etcd.client.watch.lag` (revisions behind etcd's head), `etcd.client.lease.keepalive.duration`
 * (renewal round trip, s), `etcd.client.lease.keepalive.lateness` (s), `etcd.client.lease.lost`,
 * `etcd.client.auth.token_refreshes`.
 *
 * Built on the channels only: nothing in the client knows about OpenTelemetry, and a process
 * that never calls this pays nothing for it.
 *
 * @example
 * import { instrumentEtcd } from "etcd-connect/otel";
 * const otel = instrumentEtcd(); // global tracer and meter providers
 * await etcd.put("k", "v");      // one client span, its traceparent sent to etcd
 * otel.disable();
 */
export function instrumentEtcd(options: EtcdInstrumentationOptions = {}): EtcdInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const propagator =
    options.propagator ?? (propagation.fields().length > 0 ? propagation : traceContextPropagator);

  const duration: Histogram = meter.createHistogram("rpc.client.call.duration", {
    description: "Duration of etcd unary calls, retries included",
    unit: "s",
    advice: SECONDS,
  });
  const retries: Counter = meter.createCounter("etcd.client.retries", {
    description: "Attempts of unary calls after the first",
    unit: "{attempt}",
  });
  const failovers: Counter = meter.createCounter("etcd.client.failovers", {
    description: "Retries sent to another endpoint than the failed attempt's",
    unit: "{attempt}",
  });
  const setAside: Counter = meter.createCounter("etcd.client.endpoint.set_aside", {
    description: "Endpoints set aside after a failure",
    unit: "{endpoint}",
  });
  const connectionChanges: Counter = meter.createCounter("etcd.client.connection.changes", {
    description: "HTTP/2 connections to members established (up) and closed (down)",
    unit: "{connection}",
  });
  const watchReopens: Counter = meter.createCounter("etcd.client.watch.reopens", {
    description: "Watch streams opened again after a failure",
    unit: "{stream}",
  });
  const watchResumes: Counter = meter.createCounter("etcd.client.watch.resumes", {
    description: "Watchers created again at their next revision",
    unit: "{watcher}",
  });
  const watchLag: Histogram = meter.createHistogram("etcd.client.watch.lag", {
    description: "Revisions between etcd's head and the last event handed to a watcher",
    unit: "{revision}",
    advice: REVISIONS,
  });
  const keepAliveDuration: Histogram = meter.createHistogram(
    "etcd.client.lease.keepalive.duration",
    { description: "Round trip of lease renewals", unit: "s", advice: SECONDS },
  );
  const keepAliveLateness: Histogram = meter.createHistogram(
    "etcd.client.lease.keepalive.lateness",
    { description: "How much later than planned renewals went out", unit: "s", advice: SECONDS },
  );
  const leasesLost: Counter = meter.createCounter("etcd.client.lease.lost", {
    description: "Kept-alive leases lost",
    unit: "{lease}",
  });
  const tokenRefreshes: Counter = meter.createCounter("etcd.client.auth.token_refreshes", {
    description: "Auth tokens obtained with the user name and password",
    unit: "{token}",
  });

  const endpoints = new Map<string, Endpoint>();
  const endpointOf = (url: string): Endpoint => {
    let found = endpoints.get(url);
    if (found === undefined) {
      found = parseEndpoint(url);
      endpoints.set(url, found);
    }
    return found;
  };

  const calls = new WeakMap<CallTrace, { span: Span; startedAt: number }>();
  const callHandlers = {
    start(message: unknown) {
      const call = message as CallTrace;
      const parent = context.active();
      const span = tracer.startSpan(
        `${call.service}/${call.method}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "rpc.system": "grpc",
            "rpc.service": call.service,
            "rpc.method": call.method,
          },
        },
        parent,
      );
      calls.set(call, { span, startedAt: performance.now() });
      propagator.inject(trace.setSpan(parent, span), call, metadataSetter);
    },
    end() {},
    asyncStart() {},
    error() {},
    asyncEnd(message: unknown) {
      const call = message as CallTrace;
      const state = calls.get(call);
      if (state === undefined) return;
      calls.delete(call);
      const code = call.code ?? 2;
      const { span } = state;
      const attributes: Attributes = { "rpc.grpc.status_code": code };
      if (call.endpoint) {
        const endpoint = endpointOf(call.endpoint);
        attributes["server.address"] = endpoint.address;
        if (endpoint.port !== undefined) attributes["server.port"] = endpoint.port;
      }
      if (call.attempt > 1) attributes["etcd.attempts"] = call.attempt;
      span.setAttributes(attributes);
      if (code !== 0) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(call.error) });
      }
      span.end();
      duration.record((performance.now() - state.startedAt) / 1000, {
        "rpc.system": "grpc",
        "rpc.service": call.service,
        "rpc.method": call.method,
        "rpc.grpc.status_code": code,
      });
    },
  };

  const onRetry = (message: unknown) => {
    const retry = message as CallRetryMessage;
    const attributes: Attributes = {
      "rpc.system": "grpc",
      "rpc.service": retry.service,
      "rpc.method": retry.method,
    };
    retries.add(1, attributes);
    if (retry.failover) failovers.add(1, attributes);
    const span = retry.call ? calls.get(retry.call)?.span : undefined;
    if (span === undefined) return;
    const reasonCode = (retry.reason as { code?: unknown } | null)?.code;
    span.addEvent(retry.failover ? "failover" : "retry", {
      "etcd.attempt": retry.attempt,
      "etcd.endpoint": retry.endpoint,
      "etcd.previous_endpoint": retry.previousEndpoint,
      "etcd.retry.reason": errorMessage(retry.reason),
      ...(typeof reasonCode === "number" ? { "rpc.grpc.status_code": reasonCode } : {}),
    });
  };
  const onAside = (message: unknown) => {
    const m = message as EndpointAsideMessage;
    if (m.failures === 1) setAside.add(1, { "server.address": endpointOf(m.endpoint).address });
  };
  const onUp = (message: unknown) => {
    const m = message as ConnectionMessage;
    connectionChanges.add(1, { "etcd.connection.state": "up", "etcd.endpoint": m.endpoint });
  };
  const onDown = (message: unknown) => {
    const m = message as ConnectionMessage;
    connectionChanges.add(1, { "etcd.connection.state": "down", "etcd.endpoint": m.endpoint });
  };
  const onWatchOpen = (message: unknown) => {
    if ((message as WatchOpenMessage).reopened) watchReopens.add(1);
  };
  const onWatchResume = (message: unknown) => {
    watchResumes.add(1, { "etcd.watch.resume_reason": (message as WatchResumeMessage).reason });
  };
  const onWatchEvents = (message: unknown) => {
    watchLag.record(Number((message as WatchEventsMessage).lag));
  };
  const onRenewed = (message: unknown) => {
    const m = message as LeaseRenewedMessage;
    keepAliveDuration.record(m.roundTripMs / 1000);
    keepAliveLateness.record(m.lateMs / 1000);
  };
  const onLost = () => leasesLost.add(1);
  const onToken = () => tokenRefreshes.add(1);

  const plain: [string, (message: unknown) => void][] = [
    [diagnosticsChannels.callRetry, onRetry],
    [diagnosticsChannels.endpointAside, onAside],
    [diagnosticsChannels.connectionUp, onUp],
    [diagnosticsChannels.connectionDown, onDown],
    [diagnosticsChannels.watchOpen, onWatchOpen],
    [diagnosticsChannels.watchResume, onWatchResume],
    [diagnosticsChannels.watchEvents, onWatchEvents],
    [diagnosticsChannels.leaseRenewed, onRenewed],
    [diagnosticsChannels.leaseLost, onLost],
    [diagnosticsChannels.tokenRefreshed, onToken],
  ];
  const callChannel = tracingChannel(diagnosticsChannels.call);
  callChannel.subscribe(callHandlers);
  for (const [name, handler] of plain) subscribe(name, handler);

  let enabled = true;
  const disable = () => {
    if (!enabled) return;
    enabled = false;
    callChannel.unsubscribe(callHandlers);
    for (const [name, handler] of plain) unsubscribe(name, handler);
  };
  return { disable, [Symbol.dispose]: disable };
}

function parseEndpoint(url: string): Endpoint {
  try {
    const parsed = new URL(url);
    const port =
      parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
    return { address: parsed.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return { address: url, port: undefined };
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return error === undefined ? "" : String(error);
}
