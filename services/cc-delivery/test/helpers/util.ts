export * from '../../src/testing/deliveries.ts';
