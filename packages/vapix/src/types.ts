export interface Credentials {
  username: string;
  password: string;
}

/**
 * Per-camera certificate policy. There is no "accept anything" mode: a self-signed camera
 * certificate is trusted only by pinning its fingerprint (trust on first use, reference §7.6).
 */
export type TlsPolicy =
  | { mode: 'verify'; ca?: string | Buffer | Array<string | Buffer> }
  | { mode: 'pin'; fingerprint256?: string };

export interface CertificateInfo {
  /** Upper-case colon-separated SHA-256 fingerprint, as Node reports it. */
  fingerprint256: string;
  /** True when this certificate was just pinned because no fingerprint was known yet. */
  firstUse: boolean;
}

export type CallClass = 'probe' | 'normal' | 'long-poll';

export interface CallTimeouts {
  /** Triage and readiness polls (reference §5.3 uses 5 s). */
  probeMs: number;
  /** Every other call (reference §7.9: 15 s). */
  normalMs: number;
  /** Added to a long-poll's own timeout so the device answers before we give up. */
  longPollMarginMs: number;
}

export const DEFAULT_TIMEOUTS: CallTimeouts = {
  probeMs: 5_000,
  normalMs: 15_000,
  longPollMarginMs: 5_000,
};
