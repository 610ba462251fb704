import type { VerbTable } from '../job-context.ts';
import { createFactoryDefaultVerb } from './factory-default-verb.ts';
import { runProbe } from './probe-verb.ts';
import { runProvision } from './provision-verb.ts';
import { runRotateCredential } from './rotate-credential-verb.ts';
import { runSoftRestart } from './soft-restart-verb.ts';
import { runTestCredential } from './test-credential-verb.ts';
import { runVerify } from './verify-verb.ts';
import { runWatchForDevice } from './watch-for-device-verb.ts';

/** Every verb the agent runs, one file each. */
export const VERBS: VerbTable = {
  probe: runProbe,
  'test-credential': runTestCredential,
  'rotate-credential': runRotateCredential,
  'soft-restart': runSoftRestart,
  'factory-default-soft': createFactoryDefaultVerb('soft'),
  'factory-default-hard': createFactoryDefaultVerb('hard'),
  'watch-for-device': runWatchForDevice,
  provision: runProvision,
  verify: runVerify,
};
