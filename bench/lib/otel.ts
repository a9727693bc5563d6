/**
 * OpenTelemetry switched on for the "ours+otel" rows: `instrumentEtcd` with the real SDK as an
 * application would run it (AsyncLocalStorage context manager, every span sampled and handed to
 * a batch processor, metrics aggregated), except that the exporters discard what they get.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { instrumentEtcd } from "../../src/otel.ts";

class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Starts the instrumentation; the returned function stops it and the SDK. */
export function startOtel(): () => Promise<void> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        export: (_spans, done) => done({ code: 0 }),
        shutdown: async () => {},
      }),
    ],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  const instrumentation = instrumentEtcd({ tracerProvider, meterProvider });
  return async () => {
    instrumentation.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    context.disable();
  };
}
