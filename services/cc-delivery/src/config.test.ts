import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@li/config';
import { afterAll, describe, expect, it } from 'vitest';
import { Config } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'li-dlv-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { LI_TENANTS: 'acme', LI_OPERATOR_IDENTIFIER: 'OP1' };

describe('cc-delivery config', () => {
  it('pipeCommands: none by default; entries from the YAML file with absolute commands', () => {
    expect(loadConfig(Config, { env }).pipeCommands).toEqual({});
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      'pipeCommands:\n  to-lea:\n    command: /usr/local/bin/to-lea\n    args: [--quiet]\n    uid: 1000\n',
    );
    expect(loadConfig(Config, { env, file }).pipeCommands).toEqual({
      'to-lea': { command: '/usr/local/bin/to-lea', args: ['--quiet'], uid: 1000 },
    });
  });

  it('refuses a relative command or an unknown key in an entry, naming the key', () => {
    for (const [name, yaml] of [
      ['relative', 'pipeCommands:\n  x:\n    command: to-lea\n'],
      ['extra', 'pipeCommands:\n  x:\n    command: /bin/cat\n    env: {A: b}\n'],
    ] as const) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, yaml);
      expect(() => loadConfig(Config, { env, file }), name).toThrow(/pipeCommands/);
    }
  });

  it('read limits on what a LEMF sends back have defaults', () => {
    const c = loadConfig(Config, { env });
    expect([c.lemfReadMaxPduBytes, c.lemfReadBurstBytes, c.lemfReadBytesPerSecond]).toEqual([65536, 1048576, 65536]);
  });
});
