import type { NextConfig } from 'next';

const config: NextConfig = {
  transpilePackages: ['@custody/core', '@custody/db'],
  // Native and WASM database drivers stay outside the bundle; server.ts owns the connection.
  serverExternalPackages: ['@electric-sql/pglite', 'postgres'],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
