// The tenants' LEMF destinations, kept current from li.<t>.lemfs (compacted): reports go to
// the e-mail and PIPE LEMFs of a warrant.
import { type Bus, tailTopics, tenantOfTopic } from '@li/bus';
import type { Logger } from '@li/log';
import type { LemfDestination } from '@li/schemas';

export interface LemfDirectory {
  get(tenant: string, lemfId: string): LemfDestination | undefined;
  stop(): Promise<void>;
}

/**
 * Resolves once every tenant's LEMFs are read up to the end of their topic. The codecs are looked
 * up while `topicsReady` (the service creating its topics) is still pending; the topics are read after.
 */
export async function openLemfDirectory(
  bus: Bus,
  tenants: readonly string[],
  log: Logger,
  topicsReady: Promise<unknown> = Promise.resolve(),
): Promise<LemfDirectory> {
  const lemfs = new Map<string, LemfDestination>();
  const [codecs] = await Promise.all([
    bus.codecsFor<LemfDestination>(tenants, 'lemfs', 'LemfDestination'),
    topicsReady,
  ]);
  const tail = await tailTopics({
    kafka: bus,
    log,
    topics: [...codecs.keys()],
    onRecord: async (r) => {
      const key = `${tenantOfTopic(r.topic)}/${r.key}`;
      if (r.value === null) lemfs.delete(key);
      else lemfs.set(key, await codecs.get(r.topic)!.decode(r.value));
    },
  });
  await tail.caughtUp;
  return {
    get: (tenant, lemfId) => lemfs.get(`${tenant}/${lemfId}`),
    stop: () => tail.stop(),
  };
}
