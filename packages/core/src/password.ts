import { DomainError } from './domain-error.ts';

/** Injected source of `n` cryptographically random bytes (crypto.getRandomValues in production). */
export type RandomBytes = (n: number) => Uint8Array;

export const PASSWORD_POLICIES = ['none', 'length', 'complex'] as const;
export type PasswordPolicy = (typeof PASSWORD_POLICIES)[number];

/** AXIS devices accept 1–64 printable ASCII characters (0x20–0x7E) whatever the policy. */
export const DEVICE_PASSWORD_MIN_LENGTH = 1;
export const DEVICE_PASSWORD_MAX_LENGTH = 64;

/** Minimum lengths of the device's passphrase policies. */
export const PASSWORD_POLICY_MIN_LENGTH: Readonly<Record<PasswordPolicy, number>> = {
  none: DEVICE_PASSWORD_MIN_LENGTH,
  length: 15,
  complex: 12,
};

export const DEFAULT_GENERATED_PASSWORD_LENGTH = 24;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/**
 * The symbols encodeURIComponent leaves untouched, minus the single quote. Generated passwords
 * travel through pwdgrp.cgi query strings, HTML forms, RTSP URLs with embedded credentials and VMS
 * dialogs; with these characters no layer needs escaping, so none can get it wrong. Space, quotes,
 * backslash and `: & = # % + ? / @ ; , < > $ |` are left out for that reason.
 */
const SYMBOLS = '-_.~!*()';

export const SAFE_PASSWORD_ALPHABET = LOWER + UPPER + DIGITS + SYMBOLS;

export const PASSWORD_VIOLATIONS = [
  'too-short',
  'too-long',
  'non-printable',
  'missing-lowercase',
  'missing-uppercase',
  'missing-digit',
  'missing-symbol',
] as const;
export type PasswordViolationCode = (typeof PASSWORD_VIOLATIONS)[number];

export interface PasswordViolation {
  code: PasswordViolationCode;
  /** Describes the rule, never the password. */
  message: string;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Every rule the password breaks, for the device limits and the given policy; empty when valid. */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy): PasswordViolation[] {
  const violations: PasswordViolation[] = [];
  const minLength = PASSWORD_POLICY_MIN_LENGTH[policy];
  if (password.length < minLength) {
    violations.push({
      code: 'too-short',
      message: `The password must be at least ${minLength} characters long.`,
    });
  }
  if (password.length > DEVICE_PASSWORD_MAX_LENGTH) {
    violations.push({
      code: 'too-long',
      message: `The password must be at most ${DEVICE_PASSWORD_MAX_LENGTH} characters long.`,
    });
  }
  if (!PRINTABLE_ASCII.test(password)) {
    violations.push({
      code: 'non-printable',
      message: 'The password may only contain printable ASCII characters (space to tilde).',
    });
  }
  if (policy === 'complex') {
    if (!/[a-z]/.test(password)) {
      violations.push({ code: 'missing-lowercase', message: 'Add a lower-case letter.' });
    }
    if (!/[A-Z]/.test(password)) {
      violations.push({ code: 'missing-uppercase', message: 'Add an upper-case letter.' });
    }
    if (!/[0-9]/.test(password)) {
      violations.push({ code: 'missing-digit', message: 'Add a digit.' });
    }
    if (!/[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(password)) {
      violations.push({ code: 'missing-symbol', message: 'Add a symbol.' });
    }
  }
  return violations;
}

export function isPasswordCompliant(password: string, policy: PasswordPolicy): boolean {
  return checkPasswordPolicy(password, policy).length === 0;
}

/** Bounds the work against a broken random source (for example one that always returns 0xff). */
const MAX_RANDOM_DRAWS = 1000;

export interface GenerateDevicePasswordOptions {
  policy: PasswordPolicy;
  length?: number;
  random: RandomBytes;
}

/**
 * Draws each character uniformly from SAFE_PASSWORD_ALPHABET by rejection sampling (bytes at or
 * above the largest multiple of the alphabet size are discarded, so there is no modulo bias), and
 * redraws a whole password that misses a class the policy requires, so the result is uniform over
 * the passwords that satisfy the policy.
 */
export function generateDevicePassword(options: GenerateDevicePasswordOptions): string {
  const { policy, random } = options;
  const length = options.length ?? DEFAULT_GENERATED_PASSWORD_LENGTH;
  const minLength = PASSWORD_POLICY_MIN_LENGTH[policy];
  if (!Number.isInteger(length) || length < minLength || length > DEVICE_PASSWORD_MAX_LENGTH) {
    throw new DomainError(
      'invalid-input',
      `A "${policy}" password must be between ${minLength} and ${DEVICE_PASSWORD_MAX_LENGTH} characters long.`,
      { details: { length, policy } },
    );
  }

  const alphabetSize = SAFE_PASSWORD_ALPHABET.length;
  const acceptBelow = 256 - (256 % alphabetSize);
  let draws = 0;
  const draw = (): Uint8Array => {
    if (++draws > MAX_RANDOM_DRAWS) {
      throw new DomainError('invalid-input', 'The random source does not look random.');
    }
    const bytes = random(length);
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new DomainError('invalid-input', `The random source must return ${length} bytes.`);
    }
    return bytes;
  };

  for (;;) {
    let password = '';
    while (password.length < length) {
      for (const byte of draw()) {
        if (byte >= acceptBelow) continue;
        password += SAFE_PASSWORD_ALPHABET[byte % alphabetSize];
        if (password.length === length) break;
      }
    }
    if (isPasswordCompliant(password, policy)) return password;
  }
}
