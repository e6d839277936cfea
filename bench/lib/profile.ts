// CPU profile of a benchmark's measured phase only (not start-up or the reference): set
// BENCH_CPU_PROFILE=<file.cpuprofile> and open it in Chrome DevTools / speedscope, or print its
// top self-time frames with `npm run profile-top -w bench -- <file>`.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export interface PhaseProfile {
  stop(): Promise<void>;
}

export async function profilePhase(): Promise<PhaseProfile> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return { stop: async () => {} };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      console.log(`CPU profile of the measured phase: ${file}`);
    },
  };
}
