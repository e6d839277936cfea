// Deadlines for benchmarks: a benchmark that waits for something that never comes must stop
// with a non-zero exit and say what it waited for and what it saw last, never hang.

/** Stops the benchmark: the message on stderr, exit code 1. */
function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

/**
 * Polls probe until it returns true; any other return is what it sees now (kept for the message).
 * A probe that throws counts as not yet, with the error as what it saw. onTimeout adds detail too
 * costly to gather on every poll.
 */
export async function waitUntil(
  what: string,
  probe: () => true | string | Promise<true | string>,
  {
    timeoutMs,
    intervalMs = 100,
    onTimeout,
  }: { timeoutMs: number; intervalMs?: number; onTimeout?: () => Promise<string> },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const r = await probe();
      if (r === true) return;
      seen = r;
    } catch (err) {
      seen = `error: ${(err as Error).message}`;
    }
    if (performance.now() > deadline) {
      const more = onTimeout ? await within('details of a timed-out wait', 30_000, onTimeout()).catch(String) : '';
      fail(
        `timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}; last seen: ${seen}${more && `; ${more}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** One awaited step (a service start, a connect) with a deadline. */
export async function within<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>(() => {
    timer = setTimeout(() => fail(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The whole benchmark's deadline (BENCH_DEADLINE_S overrides the default): catches a wait no
 * step bounds. The timer is unref'd, so it never keeps a finished benchmark alive.
 */
export function benchDeadline(name: string, defaultSeconds: number): void {
  const seconds = Number(process.env.BENCH_DEADLINE_S ?? defaultSeconds);
  setTimeout(() => fail(`${name} did not finish within ${seconds} s (BENCH_DEADLINE_S)`), seconds * 1000).unref();
}
