// Makes scheduled starts and ends take effect with nobody acting: sleeps until the next
// transition any warrant has, then records what is due. Re-armed after every warrant change;
// never sleeps longer than maxSleepMs, so a missed wake-up is caught up soon after.

import type { AdmfService, Logger } from './application.ts';
import type { Clock } from './domain/model.ts';

export class WarrantScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private rerun = false;
  private stopped = true;
  private readonly service: AdmfService;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxSleepMs: number;

  constructor(service: AdmfService, clock: Clock, log: Logger, maxSleepMs = 60_000) {
    this.service = service;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
        const r = await this.service.runScheduled();
        if (!r.ok) this.log.warn({ code: r.error.code }, 'scheduled transitions not recorded; will retry');
      } while (this.rerun && !this.stopped);
      const next = await this.service.nextTransition();
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
    if (this.timer) clearTimeout(this.timer);
    const now = this.clock.nowMicros();
    const wait = nextMicros === null ? this.maxSleepMs : Math.ceil((nextMicros - now) / 1000) + 1;
    this.timer = setTimeout(() => this.kick(), Math.min(Math.max(wait, 1), this.maxSleepMs));
    this.timer.unref();
  }
}
