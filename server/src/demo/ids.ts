import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { Rng } from './random';

/**
 * Trace and span ids drawn from the seeded generator, so that DEMO_SEED reproduces ids as well as
 * content (the SDK's default generator uses Math.random). All-zero ids are invalid in OTLP, so
 * they are redrawn.
 */
export class SeededIdGenerator implements IdGenerator {
  constructor(private readonly rng: Rng) {}

  generateTraceId(): string {
    return this.nonZero(16);
  }

  generateSpanId(): string {
    return this.nonZero(8);
  }

  private nonZero(bytes: number): string {
    for (;;) {
      const id = this.rng.hex(bytes);
      if (/[^0]/.test(id)) return id;
    }
  }
}
