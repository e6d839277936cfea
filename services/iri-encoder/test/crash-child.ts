// A child process for crash.int.test.ts: the iri-encoder service as main.ts runs it, configured
// from the LI_* environment the parent passes, telling the parent once it has its partitions.
// The parent SIGKILLs it at random moments and starts a new one.
import { startService } from '@li/runtime';
import { iriEncoderService } from '../src/service.ts';

await startService(iriEncoderService, process.env);
process.send?.('started');
