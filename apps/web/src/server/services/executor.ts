import type { Database } from '@custody/db';

/** The database or a transaction on it: services that write several rows take either. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];
