export {
  MASTER_KEY_BYTES,
  MasterKeyError,
  createMasterKeyRing,
  generateMasterKey,
  loadMasterKeys,
  masterKeyId,
  parseMasterKeys,
} from './master-keys.ts';
export type { MasterKey, MasterKeyErrorCode, MasterKeyRing } from './master-keys.ts';
export { VaultError, createVault, isVaultError } from './vault.ts';
export type { Sealed, Vault, VaultErrorCode, WrappedDataKey } from './vault.ts';
export {
  CREDENTIAL_VERSIONS_KEPT,
  activateCredentialVersion,
  credentialAad,
  discardPendingVersion,
  listCredentialVersions,
  readActiveCredential,
  readCredentialForSerial,
  storeCredentialVersion,
} from './credential-store.ts';
export type {
  CredentialVersionView,
  OpenedCredential,
  StoreCredentialInput,
} from './credential-store.ts';
export {
  candidateAad,
  readCandidateForSerial,
  sealCandidatePassword,
} from './candidate-secrets.ts';
export {
  REVEAL_RATE_LIMIT,
  REVEAL_ROLES,
  listCameraCredentialVersions,
  revealCredential,
} from './credential-access.ts';
export type { RevealInput, RevealedCredential } from './credential-access.ts';
export {
  addMasterKeyToFile,
  countSealedRowsByKey,
  retireUnusedKeys,
  rewrapSealedRows,
} from './key-rotation.ts';
export { startVault } from './start-vault.ts';
export type { StartVaultOptions, VaultService } from './start-vault.ts';
export { SECRET_ENTRY_READERS, createVaultSecretsResolver } from './vault-secrets-resolver.ts';
export type { SecretEntryReader } from './vault-secrets-resolver.ts';
