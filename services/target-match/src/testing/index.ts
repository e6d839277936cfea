// What other packages' tests and benchmarks use of target-match (@li/target-match/testing):
// bench/match.ts measures the warrant index on its own, without the broker.
export { WarrantIndex } from '../domain/warrant-index.ts';
