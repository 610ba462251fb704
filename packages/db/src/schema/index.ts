export * from './enums.ts';
export * from './tables.ts';
export * from './auth.ts';
