/**
 * What each firmware generation answers, per the VAPIX reference (shared/reference/vapix.md).
 * Values marked "inferred" in the comments are not in any capture; everything else is.
 */
export const FIRMWARE_IDS = ['5.51', '9.80', '10.12', '11.11', '12.x'] as const;
export type FirmwareId = (typeof FIRMWARE_IDS)[number];

export type AuthScheme = 'digest' | 'basic';

export interface ApiListEntry {
  id: string;
  version: string;
  name: string;
}

export interface ModelDefaults {
  model: string;
  productType: string;
  productFullName: string;
  hardwareId: string;
  architecture: string;
  soc: string | undefined;
  /** The first six hex digits of generated serials (an Axis OUI). */
  oui: string;
}

export interface FirmwareProfile {
  id: FirmwareId;
  version: string;
  buildDate: string;
  /** 5.51 runs Boa (its 404 page is Boa's); later firmware runs Apache. */
  webServer: 'boa' | 'apache';
  /** Sent only where observed (12.11). */
  serverHeader: string | undefined;
  /** 12.11 answers 401 with `application/json; charset=utf-8` and the hardening headers. */
  unauthorizedStyle: 'html' | 'json';
  /** `Network.HTTP.AuthenticationPolicy`. */
  authenticationPolicy: string;
  /** Challenges offered, in order, over plain HTTP and over HTTPS. */
  httpAuthSchemes: readonly AuthScheme[];
  httpsAuthSchemes: readonly AuthScheme[];
  /** param.cgi body charset; `undefined` means plain `text/plain` in UTF-8. */
  paramCharset: 'ISO-8859-1' | undefined;
  apiDiscovery:
    { contentType: string; withStatus: boolean; apis: readonly ApiListEntry[] } | undefined;
  basicDeviceInfo:
    | {
        apiVersion: string;
        /** 9.80 always echoes `method`; 10.12+ omit it (and `context`) when no context is sent. */
        echoMethod: 'always' | 'with-context';
        unrestrictedProperties: boolean;
      }
    | undefined;
  systemReady:
    | {
        apiVersion: string;
        uptimeAndBootId: boolean;
        passphrasePolicy: boolean;
        previewMode: boolean;
      }
    | undefined;
  firmwareManagement: { apiVersion: string } | undefined;
  networkSettings: { apiVersion: string } | undefined;
  timeService: { apiVersion: string } | undefined;
  /** ≤11 lists every Linux group and system account; 12.x lists five role lines. */
  pwdgrpGet: 'linux-groups' | 'role-groups';
  /** Older: `root\nroot admin operator ptz viewer\n`; 12.x: `root\nadmin operator viewer ptz\n`. */
  usergroup: 'primary-group-first' | 'roles-only';
  /** Before 11.5 the first account created in factory-default state must be `root`. */
  firstAdminMustBeRoot: boolean;
  upnpEnabledByDefault: boolean;
  /** Whether `System.PreventDoSAttack.*` and `System.SkipDigestUriValidation` are listed. */
  listsDoSParameters: boolean;
  listsSkipDigestUriValidation: boolean;
  defaults: ModelDefaults;
}

const LEGACY_API_NAMES: Record<string, string> = {
  'api-discovery': 'API Discovery Service',
  'basic-device-info': 'Basic Device Information',
  fwmgr: 'Firmware Management',
  'io-port-management': 'IO Port Management',
  'network-settings': 'Network Settings',
  'param-cgi': 'Legacy Parameter Handling',
  'stream-profiles': 'Stream Profiles',
  systemready: 'Systemready',
  'time-service': 'Time API',
  'user-management': 'User Management',
};

function apiList(versions: Record<string, string>): ApiListEntry[] {
  return Object.entries(versions).map(([id, version]) => ({
    id,
    version,
    name: LEGACY_API_NAMES[id] ?? id,
  }));
}

export const FIRMWARE_PROFILES: Readonly<Record<FirmwareId, FirmwareProfile>> = {
  '5.51': {
    id: '5.51',
    version: '5.51.7',
    buildDate: 'Jul 16 2020 14:38',
    webServer: 'boa',
    serverHeader: undefined,
    unauthorizedStyle: 'html',
    authenticationPolicy: 'basic_digest',
    httpAuthSchemes: ['digest', 'basic'],
    httpsAuthSchemes: ['digest', 'basic'],
    paramCharset: 'ISO-8859-1',
    apiDiscovery: undefined,
    basicDeviceInfo: undefined,
    systemReady: undefined,
    firmwareManagement: undefined,
    networkSettings: undefined,
    timeService: undefined,
    pwdgrpGet: 'linux-groups',
    usergroup: 'primary-group-first',
    firstAdminMustBeRoot: true,
    upnpEnabledByDefault: true,
    listsDoSParameters: false,
    listsSkipDigestUriValidation: false,
    defaults: {
      model: 'P5512',
      productType: 'PTZ Dome Network Camera',
      productFullName: 'AXIS P5512 PTZ Dome Network Camera',
      hardwareId: '18C.2',
      architecture: 'crisv32',
      soc: undefined,
      oui: '00408C',
    },
  },
  '9.80': {
    id: '9.80',
    version: '9.80.1',
    buildDate: 'Jun 02 2020 09:14',
    webServer: 'apache',
    serverHeader: undefined,
    unauthorizedStyle: 'html',
    authenticationPolicy: 'digest',
    httpAuthSchemes: ['digest'],
    httpsAuthSchemes: ['digest'],
    paramCharset: undefined,
    apiDiscovery: {
      contentType: 'application/json;charset=utf8',
      withStatus: false,
      // fwmgr, network-settings and time-service versions on 9.80 are inferred.
      apis: apiList({
        'api-discovery': '1.0',
        'basic-device-info': '1.1',
        fwmgr: '1.3',
        'io-port-management': '1.0',
        'network-settings': '1.8',
        'param-cgi': '1.0',
        'stream-profiles': '1.0',
        systemready: '1.1',
        'time-service': '1.0',
        'user-management': '1.1',
      }),
    },
    // Not recorded for 9.80 (reference §3.1): anonymous getAllUnrestrictedProperties is
    // captured from 10.12 on, its 2004 rejection only from an unnamed older firmware (API 1.0),
    // and the docs call the CGI authenticated. Kept behind authentication, answering 2004 once
    // authenticated: the reading that gives a client the least, so probes must cope without it.
    basicDeviceInfo: { apiVersion: '1.1', echoMethod: 'always', unrestrictedProperties: false },
    systemReady: {
      apiVersion: '1.1',
      uptimeAndBootId: false,
      passphrasePolicy: false,
      previewMode: false,
    },
    firmwareManagement: { apiVersion: '1.3' },
    networkSettings: { apiVersion: '1.8' },
    timeService: { apiVersion: '1.0' },
    pwdgrpGet: 'linux-groups',
    usergroup: 'primary-group-first',
    firstAdminMustBeRoot: true,
    upnpEnabledByDefault: true,
    listsDoSParameters: true,
    listsSkipDigestUriValidation: false,
    defaults: {
      model: 'M1065-LW',
      productType: 'Network Camera',
      productFullName: 'AXIS M1065-LW Network Camera',
      hardwareId: '7C5',
      architecture: 'armv7hf',
      soc: 'Ambarella S2L',
      oui: 'ACCC8E',
    },
  },
  '10.12': {
    id: '10.12',
    version: '10.12.323',
    buildDate: 'Mar 14 2024 10:02',
    webServer: 'apache',
    serverHeader: undefined,
    unauthorizedStyle: 'html',
    authenticationPolicy: 'digest',
    httpAuthSchemes: ['digest'],
    httpsAuthSchemes: ['digest'],
    paramCharset: undefined,
    apiDiscovery: {
      contentType: 'application/json',
      withStatus: true,
      apis: apiList({
        'api-discovery': '1.0',
        'basic-device-info': '1.3',
        fwmgr: '1.4',
        'io-port-management': '1.0',
        'network-settings': '1.15',
        'param-cgi': '1.0',
        'stream-profiles': '1.0',
        systemready: '1.2',
        'time-service': '1.0',
        'user-management': '1.1',
      }),
    },
    basicDeviceInfo: {
      apiVersion: '1.3',
      echoMethod: 'with-context',
      unrestrictedProperties: true,
    },
    systemReady: {
      apiVersion: '1.2',
      uptimeAndBootId: false,
      passphrasePolicy: false,
      previewMode: false,
    },
    firmwareManagement: { apiVersion: '1.4' },
    networkSettings: { apiVersion: '1.15' },
    timeService: { apiVersion: '1.0' },
    pwdgrpGet: 'linux-groups',
    usergroup: 'primary-group-first',
    firstAdminMustBeRoot: true,
    upnpEnabledByDefault: true,
    listsDoSParameters: true,
    listsSkipDigestUriValidation: false,
    defaults: {
      model: 'M3206-LVE',
      productType: 'Dome Camera',
      productFullName: 'AXIS M3206-LVE Network Camera',
      hardwareId: '92A.1',
      architecture: 'armv7hf',
      soc: 'Axis Artpec-7',
      oui: 'ACCC8E',
    },
  },
  '11.11': {
    id: '11.11',
    version: '11.11.192',
    buildDate: 'Oct 21 2025 08:41',
    webServer: 'apache',
    serverHeader: undefined,
    unauthorizedStyle: 'html',
    authenticationPolicy: 'digest',
    httpAuthSchemes: ['digest'],
    httpsAuthSchemes: ['digest'],
    paramCharset: undefined,
    apiDiscovery: {
      contentType: 'application/json',
      withStatus: true,
      apis: apiList({
        'api-discovery': '1.0',
        'basic-device-info': '1.3',
        fwmgr: '1.4',
        'io-port-management': '1.0',
        'network-settings': '1.33',
        'param-cgi': '1.0',
        'stream-profiles': '1.0',
        systemready: '1.4',
        'time-service': '1.1',
        'user-management': '1.2',
      }),
    },
    basicDeviceInfo: {
      apiVersion: '1.3',
      echoMethod: 'with-context',
      unrestrictedProperties: true,
    },
    systemReady: {
      apiVersion: '1.4',
      uptimeAndBootId: true,
      passphrasePolicy: false,
      previewMode: true,
    },
    // fwmgr answers 1.5 on 11.11 although the API list says 1.4.
    firmwareManagement: { apiVersion: '1.5' },
    networkSettings: { apiVersion: '1.33' },
    timeService: { apiVersion: '1.1' },
    pwdgrpGet: 'linux-groups',
    usergroup: 'primary-group-first',
    firstAdminMustBeRoot: false,
    upnpEnabledByDefault: true,
    listsDoSParameters: true,
    listsSkipDigestUriValidation: true,
    defaults: {
      model: 'P3245-LVE',
      productType: 'Dome Camera',
      productFullName: 'AXIS P3245-LVE Network Camera',
      hardwareId: '947.2',
      architecture: 'armv7hf',
      soc: 'Axis Artpec-7',
      oui: 'B8A44F',
    },
  },
  '12.x': {
    id: '12.x',
    version: '12.11.77',
    buildDate: 'Jul 08 2026 12:25',
    webServer: 'apache',
    serverHeader: 'Apache/2.4.68 (Unix) OpenSSL/3.5.7',
    unauthorizedStyle: 'json',
    authenticationPolicy: 'recommended',
    httpAuthSchemes: ['digest'],
    httpsAuthSchemes: ['basic'],
    paramCharset: undefined,
    apiDiscovery: {
      contentType: 'application/json',
      withStatus: true,
      apis: apiList({
        'api-discovery': '1.0',
        'basic-device-info': '1.3',
        fwmgr: '1.8',
        'io-port-management': '1.0',
        'network-settings': '1.37',
        'param-cgi': '1.0',
        'stream-profiles': '1.0',
        systemready: '1.4',
        'time-service': '1.1',
        'user-management': '1.2',
      }),
    },
    basicDeviceInfo: {
      apiVersion: '1.3',
      echoMethod: 'with-context',
      unrestrictedProperties: true,
    },
    systemReady: {
      apiVersion: '1.5',
      uptimeAndBootId: true,
      passphrasePolicy: true,
      previewMode: true,
    },
    firmwareManagement: { apiVersion: '1.10' },
    networkSettings: { apiVersion: '1.38' },
    timeService: { apiVersion: '1.1' },
    pwdgrpGet: 'role-groups',
    usergroup: 'roles-only',
    firstAdminMustBeRoot: false,
    upnpEnabledByDefault: false,
    listsDoSParameters: true,
    listsSkipDigestUriValidation: true,
    defaults: {
      model: 'P3265-V',
      productType: 'Dome Camera',
      productFullName: 'AXIS P3265-V Dome Camera',
      hardwareId: '931.11',
      architecture: 'aarch64',
      soc: 'Axis Artpec-8',
      oui: 'B8A44F',
    },
  },
};

export function isFirmwareId(value: string): value is FirmwareId {
  return (FIRMWARE_IDS as readonly string[]).includes(value);
}
