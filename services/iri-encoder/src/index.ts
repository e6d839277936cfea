export * as domain from './domain/index.ts';
export { iriEncoderService } from './service.ts';
