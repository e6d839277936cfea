// Makes scheduled starts and ends take effect with nobody acting: sleeps until the next
// transition any warrant has, then records what is due. Re-armed after every warrant change;
// never sleeps longer than maxSleepMs, so a missed wake-up is caught up soon after.
import type { Clock } from '@li/core';
import type { Logger } from '@li/log';
import type { UseCases } from '../domain/use-cases.ts';

export class WarrantScheduler {
  private cancelTimer: (() => void) | null = null;
  private running = false;
  private rerun = false;
  private stopped = true;
  private readonly useCases: UseCases;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxSleepMs: number;

  constructor(useCases: UseCases, clock: Clock, log: Logger, maxSleepMs = 60_000) {
    this.useCases = useCases;
    this.clock = clock;
    this.log = log;
    this.maxSleepMs = maxSleepMs;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Run what is due now and sleep until the next transition. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    void this.cycle();
  }

  private async cycle(): Promise<void> {
    try {
      do {
        this.rerun = false;
        const r = await this.useCases.runScheduled();
        if (!r.ok) this.log.warn({ code: r.error.code }, 'scheduled transitions not recorded; will retry');
      } while (this.rerun && !this.stopped);
      const next = await this.useCases.nextTransition();
      this.arm(next);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'scheduler cycle failed');
      this.arm(null);
    } finally {
      this.running = false;
    }
  }

  private arm(nextMicros: number | null): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    const now = this.clock.now() * 1000;
    const wait = nextMicros === null ? this.maxSleepMs : Math.ceil((nextMicros - now) / 1000) + 1;
    // The clock's timers never keep the process alive.
    this.cancelTimer = this.clock.setTimeout(() => this.kick(), Math.min(Math.max(wait, 1), this.maxSleepMs));
  }
}
