import { describe, expect, it } from 'vitest';
import { type RegistryApi, RegistryRefused, RegistryUnavailable, SchemaCache } from './schema-registry.ts';

/** A registry in memory that can be taken away, counting what it is asked. */
function fakeRegistry() {
  const bySubject = new Map<string, number>();
  const byId = new Map<number, string>();
  const calls = { register: 0, schemaById: 0 };
  let down = false;
  let next = 1;
  const api: RegistryApi = {
    async register(subject, schema) {
      calls.register++;
      if (down) throw new RegistryUnavailable('schema registry at reg:8081 not reachable (ECONNREFUSED)');
      const key = `${subject}\u0000${schema}`;
      let id = bySubject.get(key);
      if (id === undefined) {
        id = next++;
        bySubject.set(key, id);
        byId.set(id, schema);
      }
      return id;
    },
    async schemaById(id) {
      calls.schemaById++;
      if (down) throw new RegistryUnavailable('schema registry at reg:8081 not reachable (ECONNREFUSED)');
      const s = byId.get(id);
      if (s === undefined) throw new RegistryRefused(404, `Schema ${id} not found`);
      return s;
    },
  };
  return {
    api,
    calls,
    byId,
    setDown: (d: boolean) => {
      down = d;
    },
  };
}

const noSleep = async () => {};

describe('SchemaCache', () => {
  it('asks the registry once per subject and schema, however often and concurrently asked', async () => {
    const reg = fakeRegistry();
    const cache = new SchemaCache(reg.api, { sleep: noSleep });
    const ids = await Promise.all([cache.idOf('a-value', '"s1"'), cache.idOf('a-value', '"s1"')]);
    expect(ids).toEqual([1, 1]);
    expect(await cache.idOf('a-value', '"s1"')).toBe(1);
    expect(await cache.idOf('b-value', '"s1"')).toBe(2);
    expect(reg.calls.register).toBe(2);
  });

  it('knows its own registered schemas by id without asking', async () => {
    const reg = fakeRegistry();
    const cache = new SchemaCache(reg.api, { sleep: noSleep });
    const id = await cache.idOf('a-value', '"s1"');
    reg.setDown(true);
    expect(await cache.schemaOf(id)).toBe('"s1"');
    expect(reg.calls.schemaById).toBe(0);
  });

  it('asks once per id for other writers, and keeps the answer through an outage', async () => {
    const reg = fakeRegistry();
    const writer = new SchemaCache(reg.api, { sleep: noSleep });
    const id = await writer.idOf('a-value', '"newer"');
    const reader = new SchemaCache(reg.api, { sleep: noSleep });
    expect(await Promise.all([reader.schemaOf(id), reader.schemaOf(id)])).toEqual(['"newer"', '"newer"']);
    reg.setDown(true);
    expect(await reader.schemaOf(id)).toBe('"newer"');
    expect(reg.calls.schemaById).toBe(1);
  });

  it('does not cache a failed lookup: unavailable now, answered once the registry is back', async () => {
    const reg = fakeRegistry();
    const id = await new SchemaCache(reg.api).idOf('a-value', '"s1"');
    const cache = new SchemaCache(reg.api, { sleep: noSleep });
    reg.setDown(true);
    await expect(cache.schemaOf(id)).rejects.toBeInstanceOf(RegistryUnavailable);
    reg.setDown(false);
    expect(await cache.schemaOf(id)).toBe('"s1"');
    // An unknown id is a refusal, not an outage.
    await expect(cache.schemaOf(99)).rejects.toBeInstanceOf(RegistryRefused);
  });

  it('waits for an unreachable registry to register, says so meanwhile, and reports the end of the wait', async () => {
    const reg = fakeRegistry();
    let now = 1_000_000;
    const pauses: number[] = [];
    const events: string[] = [];
    let cache!: SchemaCache;
    const sleep = async (ms: number) => {
      pauses.push(ms);
      now += ms;
      events.push(cache.waiting() ?? 'not waiting');
      if (pauses.length === 8) reg.setDown(false);
    };
    cache = new SchemaCache(reg.api, {
      sleep,
      now: () => now,
      maxDelayMs: 5_000,
      onUnavailable: (reason) => events.push(`down: ${reason}`),
      onAvailable: (ms) => events.push(`up after ${ms} ms`),
    });
    reg.setDown(true);
    expect(cache.waiting()).toBeUndefined();
    expect(await cache.idOf('a-value', '"s1"')).toBe(1);
    expect(pauses).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(events[0]).toBe('down: schema registry at reg:8081 not reachable (ECONNREFUSED)');
    expect(events[1]).toBe(
      'waiting for the schema registry for 0 s: schema registry at reg:8081 not reachable (ECONNREFUSED)',
    );
    expect(events.at(-2)).toMatch(/^waiting for the schema registry for 21 s: /);
    expect(events.at(-1)).toBe('up after 21200 ms');
    expect(cache.waiting()).toBeUndefined();
    expect(reg.calls.register).toBe(9);
  });

  it('stops waiting once closed', async () => {
    const reg = fakeRegistry();
    let cache!: SchemaCache;
    let pauses = 0;
    cache = new SchemaCache(reg.api, {
      sleep: async () => {
        if (++pauses === 3) cache.close();
      },
    });
    reg.setDown(true);
    await expect(cache.idOf('a-value', '"s1"')).rejects.toBeInstanceOf(RegistryUnavailable);
    expect(reg.calls.register).toBe(4);
    expect(cache.waiting()).toBeUndefined();
  });

  it('fails at once when the registry refuses, and asks again on the next call', async () => {
    let refuse = true;
    let calls = 0;
    const cache = new SchemaCache(
      {
        async register() {
          calls++;
          if (refuse) throw new RegistryRefused(422, 'incompatible schema');
          return 7;
        },
        async schemaById() {
          throw new Error('not used');
        },
      },
      { sleep: noSleep },
    );
    await expect(cache.idOf('a-value', '"s1"')).rejects.toThrow('incompatible schema');
    expect(calls).toBe(1);
    refuse = false;
    expect(await cache.idOf('a-value', '"s1"')).toBe(7);
  });

  it('asks again after a conflict (services registering a new subject at once)', async () => {
    let calls = 0;
    const cache = new SchemaCache(
      {
        async register() {
          calls++;
          if (calls < 3) throw new RegistryRefused(409, 'conflict');
          return 4;
        },
        async schemaById() {
          throw new Error('not used');
        },
      },
      { sleep: noSleep },
    );
    expect(await cache.idOf('a-value', '"s1"')).toBe(4);
    expect(calls).toBe(3);
  });
});
