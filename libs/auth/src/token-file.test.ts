import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenFile } from './token-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'li-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('auth > token file', () => {
  it('reads JSON and YAML tables', () => {
    const json = file(
      't.json',
      JSON.stringify({ 'json-token-0000001': { subject: 'a', tenant: 'acme', role: 'admin' } }),
    );
    expect(loadTokenFile(json).authenticate('Bearer json-token-0000001').ok).toBe(true);
    const yaml = file('t.yaml', 'yaml-token-0000001:\n  subject: b\n  tenant: "*"\n  role: admin\n');
    expect(loadTokenFile(yaml).authenticate('Bearer yaml-token-0000001')).toMatchObject({ value: { tenant: '*' } });
  });

  it('fails at start naming the file, without quoting its content', () => {
    expect(() => loadTokenFile(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot be read \(ENOENT\)/);
    const broken = file('broken.yaml', 'secret-token-000001: [unclosed\n');
    expect(() => loadTokenFile(broken)).toThrow(/broken\.yaml: cannot be read/);
    expect(() => loadTokenFile(broken)).not.toThrow(/secret-token/);
    const bad = file(
      'bad.json',
      JSON.stringify({ 'secret-token-000001': { subject: 'x', tenant: 'acme', role: 'root' } }),
    );
    expect(() => loadTokenFile(bad)).toThrow(/tokens\[x\]: role must be/);
  });
});
