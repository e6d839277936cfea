// The alert rules in deploy/prometheus are valid and pass their promtool unit tests (a firing
// and a quiet case per alert); a broken copy is refused, so this test can fail.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../deploy/prometheus');
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === 'string')
        return reject(new Error(`${PROMTOOL}: ${e.code} (apt-get install prometheus)`));
      resolve({ code: e ? Number(e.code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
const tests = readFileSync(join(dir, 'alerts.test.yml'), 'utf8');
const alertNames = [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);

describe('Prometheus alert rules', () => {
  it('pass promtool check and every alert has unit tests', async () => {
    expect(alertNames.length).toBeGreaterThanOrEqual(18);
    const check = await promtool('check', 'rules', join(dir, 'alerts.yml'));
    expect(check.out).toContain(`SUCCESS: ${alertNames.length} rules found`);
    expect(check.code).toBe(0);
    const config = await promtool('check', 'config', join(dir, 'prometheus.yml'));
    expect(config.code, config.out).toBe(0);
    const tested = new Set([...tests.matchAll(/alertname: (\S+)/g)].map((m) => m[1]));
    expect(alertNames.filter((a) => !tested.has(a))).toEqual([]);
    const unit = await promtool('test', 'rules', join(dir, 'alerts.test.yml'));
    expect(unit.out).toContain('SUCCESS');
    expect(unit.code, unit.out).toBe(0);
  });

  it('fail on a broken copy: a syntax error, and a rule that no longer matches its tests', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'li-alerts-'));
    // PromQL syntax error
    writeFileSync(join(tmp, 'alerts.yml'), rules.replace('expr: up == 0', 'expr: up == '));
    const broken = await promtool('check', 'rules', join(tmp, 'alerts.yml'));
    expect(broken.code).not.toBe(0);
    expect(broken.out).toMatch(/FAILED|error/i);

    // Valid, but LiLemfDown now waits 30 minutes: its unit test expects it after 5.
    writeFileSync(join(tmp, 'alerts.yml'), rules.replace(/(alert: LiLemfDown\n[^\n]*\n\s*for:) 5m/, '$1 30m'));
    writeFileSync(join(tmp, 'alerts.test.yml'), tests);
    expect((await promtool('check', 'rules', join(tmp, 'alerts.yml'))).code).toBe(0);
    const unit = await promtool('test', 'rules', join(tmp, 'alerts.test.yml'));
    expect(unit.code).not.toBe(0);
    expect(unit.out).toContain('LiLemfDown');
  });
});
