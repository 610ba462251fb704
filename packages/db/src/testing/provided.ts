import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the PostgreSQL test projects; absent means PGlite. */
    databaseUrl?: string;
  }
}

/** The database the current vitest project runs against: a PostgreSQL URL, or undefined for PGlite. */
export function providedDatabaseUrl(): string | undefined {
  return inject('databaseUrl');
}
