import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { stickyLeaderAssigner } from './leadership.ts';

const TOPIC = 'li._system.tenants';

async function assign(members: { id: string; leads: boolean }[]) {
  const metadata = (leads: boolean) =>
    stickyLeaderAssigner(TOPIC, () => leads)().protocol({ topics: [TOPIC] }).metadata;
  const out = await stickyLeaderAssigner(TOPIC, () => false)().assign({
    members: members.map((m) => ({ memberId: m.id, memberMetadata: metadata(m.leads) })),
    topics: [TOPIC],
  });
  return out
    .filter((a) => AssignerProtocol.MemberAssignment.decode(a.memberAssignment)?.assignment[TOPIC]?.includes(0))
    .map((a) => a.memberId);
}

describe('sticky leader assignment', () => {
  it('keeps the leader partition with the member that leads, whoever joins', async () => {
    expect(
      await assign([
        { id: 'a', leads: false },
        { id: 'b', leads: true },
      ]),
    ).toEqual(['b']);
    expect(
      await assign([
        { id: 'c', leads: false },
        { id: 'a', leads: false },
        { id: 'b', leads: true },
      ]),
    ).toEqual(['b']);
  });
  it('without a leader, gives it to exactly one member, the first by id', async () => {
    expect(
      await assign([
        { id: 'b', leads: false },
        { id: 'a', leads: false },
      ]),
    ).toEqual(['a']);
    expect(
      await assign([
        { id: 'b', leads: true },
        { id: 'a', leads: true },
      ]),
    ).toEqual(['a']);
  });
});
