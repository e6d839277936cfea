// A private Kafka and schema registry for tests that kill them (deploy/local/infra.sh with its own
// run directory and ports), so the shared infra of the other tests is untouched.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const INFRA_SH = join(import.meta.dirname, '../../../deploy/local/infra.sh');

export interface PrivateInfra {
  /** Runs an infra.sh command (up, down, wait, kafka-kill, registry-resume, …) and waits for it. */
  sync(cmd: string): void;
  /** The same without blocking this process (its LEMF receivers must keep answering meanwhile). */
  run(cmd: string): Promise<void>;
}

/**
 * Points this test file (process.env: services' settings, admin client, readers) at a private
 * infra with Kafka on `kafkaPort` (+1 controller, +2 internal) and the registry on `registryPort`.
 */
export function privateInfra(o: { kafkaPort: number; registryPort: number; runDir: string }): PrivateInfra {
  const env = {
    ...process.env,
    LI_INFRA_RUN: o.runDir,
    LI_KAFKA_PORT: String(o.kafkaPort),
    LI_KAFKA_CONTROLLER_PORT: String(o.kafkaPort + 1),
    LI_KAFKA_INTERNAL_PORT: String(o.kafkaPort + 2),
    LI_REGISTRY_PORT: String(o.registryPort),
  };
  process.env.LI_INFRA_RUN = env.LI_INFRA_RUN;
  process.env.LI_KAFKA_BROKERS = `127.0.0.1:${o.kafkaPort}`;
  process.env.LI_SCHEMA_REGISTRY_URL = `http://127.0.0.1:${o.registryPort}/apis/ccompat/v7`;
  return {
    sync: (cmd) => void execFileSync('bash', [INFRA_SH, cmd], { env, stdio: 'inherit' }),
    run: async (cmd) => {
      const r = await promisify(execFile)('bash', [INFRA_SH, cmd], { env });
      if (r.stderr) process.stderr.write(r.stderr);
    },
  };
}
