export type { Clock, EventOutcome, TargetMatchDeps, TGMErrorCode, WarrantOutcome } from './app.ts';
export { TargetMatch } from './app.ts';
export { PrefixTrie } from './domain/prefix-trie.ts';
export type { UpsertOutcome, WarrantIndexStats } from './domain/warrant-index.ts';
export { WarrantIndex } from './domain/warrant-index.ts';
