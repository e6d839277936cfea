// iri-encoder: wiring only; the service is in service.ts.
import { runService } from '@li/runtime';
import { iriEncoderService } from './service.ts';

await runService(iriEncoderService);
