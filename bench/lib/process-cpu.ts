// CPU time of the processes a benchmark starts and of the broker, read from /proc (Linux), to
// say what each stage costs per event whatever else shares the cores: on two shared cores the
// rates move with the load, CPU seconds per event much less.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraRunDir } from '@li/testing';

/** Linux reports utime/stime in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) per process group: a service's replicas together, 'bench', 'broker'. */
export type CpuByGroup = Map<string, number>;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended meanwhile
  }
}

function statOf(pid: number): { ppid: number; seconds: number; reaped: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(f[1]),
    seconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
    // Children that ended and were waited for (the reference's child process).
    reaped: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
  };
}

/** CPU seconds (user + system) so far of one process; 0 once it has ended. */
export function processCpuSeconds(pid: number): number {
  return statOf(pid)?.seconds ?? 0;
}

/** The group of a process: the service whose main.ts it runs, else undefined. */
function serviceOf(pid: number): string | undefined {
  const cmd = read(`/proc/${pid}/cmdline`)?.split('\0').join(' ') ?? '';
  return /services\/([a-z-]+)\/src\/main\.ts/.exec(cmd)?.[1];
}

/**
 * CPU seconds so far of this process ('bench', with its ended children), of each service process
 * descending from it (by service), and of the local broker ('broker', from the infra's pid file).
 * A service process that ended is missing from later samples: compare samples of one phase.
 */
export function sampleCpu(): CpuByGroup {
  const parents = new Map<number, number>();
  const out: CpuByGroup = new Map();
  const add = (group: string, seconds: number) => out.set(group, (out.get(group) ?? 0) + seconds);
  const stats = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = statOf(pid);
    if (!s) continue;
    parents.set(pid, s.ppid);
    stats.set(pid, pid === process.pid ? s.seconds + s.reaped : s.seconds);
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, seconds] of stats) {
    if (pid === process.pid) add('bench', seconds);
    else if (descends(pid)) add(serviceOf(pid) ?? 'bench', seconds);
  }
  const broker = Number(read(join(infraRunDir(), 'kafka.pid'))?.trim());
  const b = Number.isInteger(broker) ? stats.get(broker) : undefined;
  if (b !== undefined) add('broker', b);
  return out;
}

/** CPU seconds per group between two samples. */
export function cpuBetween(before: CpuByGroup, after: CpuByGroup): CpuByGroup {
  const d: CpuByGroup = new Map();
  for (const [g, s] of after) d.set(g, s - (before.get(g) ?? 0));
  return d;
}
