import { chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles the agent and its CLI into one ES module file that runs with a plain `node`: the
 * workspace packages and every dependency are inlined, so a site needs Node 20 and this file.
 */
export async function buildAgentBundle(outfile = join(root, 'dist', 'agent.mjs')): Promise<string> {
  await build({
    entryPoints: [join(root, 'src', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    // Some bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __custodyCreateRequire } from 'node:module';\nconst require = __custodyCreateRequire(import.meta.url);",
    },
  });
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = await buildAgentBundle();
  process.stdout.write(`built ${outfile}\n`);
}
