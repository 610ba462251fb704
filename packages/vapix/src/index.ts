export { createVapixClient } from './vapix-client.ts';
export type { SendOptions, VapixClient, VapixClientOptions } from './vapix-client.ts';
export { probe } from './probe.ts';
export type { AccessState, ProbeOptions, ProbeResult } from './probe.ts';
export { createAttemptBudget, defaultAttemptBudget } from './attempt-budget.ts';
export type { AttemptBudget, AttemptBudgetOptions, AttemptTicket } from './attempt-budget.ts';
export { createRequestLimiter, defaultRequestLimiter } from './request-limiter.ts';
export type { RequestLimiter } from './request-limiter.ts';
export { createAuthSessionCache, defaultAuthSessionCache } from './auth-session-cache.ts';
export type { AuthSession, AuthSessionCache } from './auth-session-cache.ts';
export { cameraKeyOf } from './camera-key.ts';
export { createSharedCameraConnections, normalizeFingerprint } from './camera-dispatcher.ts';
export type { SharedCameraConnections } from './camera-dispatcher.ts';

export { systemReady } from './apis/system-ready.ts';
export type { SystemReady, SystemReadyOptions } from './apis/system-ready.ts';
export { getAllProperties, getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
export type { DeviceProperties, DevicePropertiesResult } from './apis/basic-device-info.ts';
export { getApiList } from './apis/api-discovery.ts';
export type { ApiList, ApiListEntry } from './apis/api-discovery.ts';
export { listParams, parseParamList, parseParamUpdate, updateParams } from './apis/param-cgi.ts';
export type { ParamList } from './apis/param-cgi.ts';
export {
  addUser,
  getUsers,
  parsePwdgrpWrite,
  parseUserList,
  removeUser,
  updateUser,
} from './apis/pwdgrp.ts';
export type { Account, AddUserInput, UpdateUserInput, UserList } from './apis/pwdgrp.ts';
export { ROLES, secondaryGroups } from './apis/roles.ts';
export type { Role } from './apis/roles.ts';
export { parseCurrentUser, whoAmI } from './apis/user-group.ts';
export type { CurrentUser } from './apis/user-group.ts';
export {
  factoryDefault,
  firmwareStatus,
  legacyFactoryDefault,
  legacyRestart,
  reboot,
} from './apis/firmware-management.ts';
export type { FactoryDefaultMode, FirmwareStatus } from './apis/firmware-management.ts';
export { parseSnapshot, snapshot } from './apis/snapshot.ts';
export type { Snapshot, SnapshotOptions } from './apis/snapshot.ts';
export { getNetworkInfo, setIPv4AddressConfiguration } from './apis/network-settings.ts';
export type { IPv4Configuration, NetworkDevice, NetworkInfo } from './apis/network-settings.ts';
export { getDateTimeInfo, setDateTime, setTimeZone } from './apis/time.ts';
export type { DateTimeInfo } from './apis/time.ts';

export { detectCapabilities } from './detect-capabilities.ts';
export type { CapabilityId, KnownSources } from './detect-capabilities.ts';
export { createFirstAdmin } from './create-first-admin.ts';
export type { CreateFirstAdminOptions, FirstAdminResult } from './create-first-admin.ts';
export { factoryDefaultWithFallback, restartWithFallback } from './maintenance.ts';
export type { MaintenanceResult } from './maintenance.ts';
export {
  ipv4ConfigurationParams,
  setIPv4WithFallback,
  subnetMaskOf,
} from './set-ipv4-with-fallback.ts';
export { waitForRestart } from './wait-for-restart.ts';
export type {
  RestartBaseline,
  RestartEvidence,
  RestartResult,
  RestartState,
  WaitForRestartOptions,
} from './wait-for-restart.ts';
export {
  identityFromParams,
  identityFromProperties,
  macFromSerial,
  normalizeSerial,
} from './device-identity.ts';
export type { DeviceIdentity } from './device-identity.ts';

export { rtspDescribe } from './rtsp-describe.ts';
export type { RtspDescribeOptions, RtspDescribeResult } from './rtsp-describe.ts';
export { parseSdp } from './sdp.ts';
export type { RtpMap, SdpAttribute, SdpMedia, SessionDescription } from './sdp.ts';

export { parseWwwAuthenticate, pickDigestChallenge, serialFromRealm } from './www-authenticate.ts';
export type { AuthChallenge, DigestAlgorithm, DigestChallenge } from './www-authenticate.ts';
export { computeDigestResponse } from './digest.ts';
export { parseJsonRpcEnvelope } from './json-rpc.ts';
export type { JsonRpcEnvelope } from './json-rpc.ts';
export type {
  ParseContext,
  RequestBody,
  ResponseParser,
  VapixRequest,
  VapixResponse,
} from './request.ts';
export type { CallClass, CallTimeouts, CertificateInfo, Credentials, TlsPolicy } from './types.ts';

export { VAPIX_ERROR_CODES } from './error-codes.ts';
export type { VapixErrorCode } from './error-codes.ts';
export {
  isVapixError,
  VapixApiError,
  VapixAuthError,
  VapixBudgetExhaustedError,
  VapixCertificateError,
  VapixCgiError,
  VapixError,
  VapixHttpError,
  VapixInsecureAuthError,
  VapixLockedOutError,
  VapixMalformedResponseError,
  VapixPreconditionError,
  VapixTransportError,
  VapixUnsupportedError,
} from './vapix-error.ts';
