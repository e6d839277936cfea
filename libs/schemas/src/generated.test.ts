import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, render, symbolsConstName } from '../scripts/generate-types.ts';

describe('generated.ts', () => {
  it('is what scripts/generate-types.ts writes from the schemas now (run it after changing a schema)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(render());
  });

  it('names enum symbol arrays after their type', () => {
    expect(symbolsConstName('EventCategory')).toBe('EVENT_CATEGORIES');
    expect(symbolsConstName('PartyRole')).toBe('PARTY_ROLES');
    expect(symbolsConstName('LemfTransport')).toBe('LEMF_TRANSPORTS');
  });
});
