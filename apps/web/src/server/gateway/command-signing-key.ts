import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GatewayLogger } from './gateway-logger.ts';

/** The server's Ed25519 key for commands: agents trust only its public half, given at enrollment. */
export interface CommandSigner {
  /** The key file it was read from. */
  readonly file: string;
  /** base64 of the DER SubjectPublicKeyInfo, as the enrollment response carries it. */
  readonly publicKey: string;
  /** Signs UTF-8 text; the 64-byte signature in base64. */
  sign(text: string): string;
}

export class CommandSigningKeyError extends Error {
  override readonly name = 'CommandSigningKeyError';
  readonly code = 'command-signing-key';
}

function signerOf(file: string, privateKey: KeyObject): CommandSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new CommandSigningKeyError(
      `${file} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; the command-signing key must be Ed25519.`,
    );
  }
  const publicKey = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'der' })
    .toString('base64');
  return {
    file,
    publicKey,
    sign: (text) => sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
  };
}

async function readKey(file: string, log: GatewayLogger): Promise<CommandSigner | null> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CommandSigningKeyError(`Cannot read the command-signing key ${file}.`, {
      cause: error,
    });
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) {
    log.warn('The command-signing key file is readable by other users; chmod 600 it.', {
      file,
      mode: (mode & 0o777).toString(8),
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new CommandSigningKeyError(`${file} is not a PEM private key.`, { cause: error });
  }
  return signerOf(file, privateKey);
}

/**
 * Reads the command-signing key from `file`, creating it (mode 0600) when there is none. Server
 * processes sharing one database must share this file: the agents they serve trust one key.
 * Creation is atomic (written aside, then hard-linked into place), so processes starting
 * together end up with the same key.
 */
export async function loadCommandSigningKey(
  file: string,
  log: GatewayLogger,
): Promise<CommandSigner> {
  const existing = await readKey(file, log);
  if (existing !== null) return existing;

  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const aside = join(dirname(file), `.command-signing-key-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(aside, pem, { mode: 0o600, flag: 'wx' });
  try {
    await link(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new CommandSigningKeyError(`Cannot create the command-signing key ${file}.`, {
        cause: error,
      });
    }
    // Another process created it first: use theirs.
    const theirs = await readKey(file, log);
    if (theirs !== null) return theirs;
    throw new CommandSigningKeyError(`The command-signing key ${file} vanished while starting.`);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  log.warn(
    'Created a new command-signing key. Back this file up: every enrolled agent trusts only this key, ' +
      'and losing it means enrolling every agent again. Other server processes on the same database ' +
      'must use the same file (CUSTODY_COMMAND_KEY_FILE).',
    { file },
  );
  return signerOf(file, privateKey);
}
