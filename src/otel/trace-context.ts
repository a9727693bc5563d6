import {
  type Context,
  isSpanContextValid,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";

/**
 * A propagator for W3C Trace Context alone: writes `traceparent` (and `tracestate` when there
 * is one) for the span in the context. etcd's server reads exactly these (its gRPC server uses
 * the Trace Context and Baggage propagators), so this is the default when the application
 * registered no global propagator.
 *
 * @example
 * const carrier: Record<string, string> = {};
 * traceContextPropagator.inject(trace.setSpan(context.active(), span), carrier, defaultTextMapSetter);
 */
export const traceContextPropagator: TextMapPropagator = {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
    setter.set(carrier, "traceparent", `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
    const state = spanContext.traceState?.serialize();
    if (state) setter.set(carrier, "tracestate", state);
  },
  extract(context: Context): Context {
    // A client only sends trace context.
    return context;
  },
  fields(): string[] {
    return ["traceparent", "tracestate"];
  },
};
