import { z } from 'zod';
import {
  authorize,
  jsonResponse,
  methodNotAllowed,
  notFound,
  parseJsonObject,
  type JsonObject,
  type RequestContext,
} from './http-exchange.ts';
import type { HandlerResult } from './vapix-routes.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { linkLocalAddress, macAddress } from './parameters.ts';

const DOC_LINK = 'https://www.axis.com/partner_pages/vapix_library/#/';
/** Preview mode lasts this long after power-up in factory-default state. */
const PREVIEW_MODE_SECONDS = 7200;

function contextEcho(request: JsonObject | undefined): { context?: unknown } {
  return request && 'context' in request ? { context: request.context } : {};
}

function majorVersionIsOne(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && /^1(\.\d+)?$/.test(apiVersion);
}

// systemready.cgi: anonymous, long-polls with params.timeout.

export async function systemReady(context: RequestContext): Promise<HandlerResult> {
  const { camera } = context;
  const spec = camera.profile.systemReady;
  if (!spec) return notFound(context);
  if (context.method !== 'POST') return methodNotAllowed(context, 'POST');
  const request = parseJsonObject(context);
  if (!request) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 4000, message: 'Invalid JSON' },
    });
  }
  if (request.method !== 'systemready') {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      ...contextEcho(request),
      error: { code: 2004, message: `Method not supported: ${String(request.method)}` },
    });
  }
  const params = (request.params ?? {}) as JsonObject;
  const timeout = Number(params.timeout ?? 0);
  if (!camera.isReady && Number.isFinite(timeout) && timeout > 0) {
    await camera.waitUntilReady(Math.min(timeout, 3600) * 1000);
  }
  const data: Record<string, string> = {
    systemready: camera.isReady ? 'yes' : 'no',
    needsetup: camera.needsSetup ? 'yes' : 'no',
  };
  if (spec.uptimeAndBootId) {
    data.uptime = String(camera.uptimeSeconds);
    data.bootid = camera.currentBootId ?? '';
  }
  if (spec.previewMode && camera.needsSetup) {
    data.previewmode = String(Math.max(0, PREVIEW_MODE_SECONDS - camera.uptimeSeconds));
  }
  if (spec.passphrasePolicy) data.passphrasepolicy = 'none';
  return jsonResponse({
    apiVersion: spec.apiVersion,
    ...contextEcho(request),
    method: 'systemready',
    data,
  });
}

// basicdeviceinfo.cgi

export function deviceProperties(camera: SimulatedCamera, unrestricted: boolean) {
  const { identity, profile } = camera;
  const properties: Record<string, string> = {};
  if (!unrestricted) properties.Architecture = identity.architecture;
  properties.ProdNbr = identity.model;
  properties.HardwareID = identity.hardwareId;
  properties.ProdFullName = identity.productFullName;
  properties.Version = profile.version;
  properties.ProdType = identity.productType;
  if (!unrestricted && identity.soc !== undefined) {
    properties.SocSerialNumber = `${identity.serial.slice(4)}-0101030D`;
    properties.Soc = identity.soc;
  }
  properties.Brand = 'AXIS';
  properties.WebURL = camera.parameter('Brand.WebURL') ?? 'https://www.axis.com';
  properties.ProdVariant = '';
  properties.SerialNumber = identity.serial;
  properties.ProdShortName = `AXIS ${identity.model}`;
  properties.BuildDate = profile.buildDate;
  return properties;
}

export function basicDeviceInfo(context: RequestContext): HandlerResult {
  const { camera } = context;
  const spec = camera.profile.basicDeviceInfo;
  if (!spec) return notFound(context);
  // Before 10.12 the whole CGI sits behind authentication.
  if (!spec.unrestrictedProperties) {
    const verified = authorize(context, 'viewer');
    if ('response' in verified) return verified.response;
  }
  const request = context.method === 'POST' ? parseJsonObject(context) : undefined;
  const echo = (method: string) => {
    if (spec.echoMethod === 'always') return { ...contextEcho(request), method };
    return request && 'context' in request ? { context: request.context, method } : {};
  };
  if (context.method !== 'POST') {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 2002, message: 'Only POST is supported' },
    });
  }
  if (!request) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 4000, message: 'JSON syntax error' },
    });
  }
  const method = typeof request.method === 'string' ? request.method : '';
  if (!majorVersionIsOne(request.apiVersion)) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      ...echo(method),
      error: { code: 2003, message: 'The requested API version is not supported' },
    });
  }
  const unknownMethod = () =>
    jsonResponse({
      apiVersion: spec.apiVersion,
      ...echo(method),
      error: { code: 2004, message: `JSON semantic error: Unknown method '${method}'` },
    });
  const needsAuthentication = () => {
    if (!spec.unrestrictedProperties) return undefined;
    const verified = authorize(context, 'viewer');
    return 'response' in verified ? verified.response : undefined;
  };
  switch (method) {
    case 'getAllUnrestrictedProperties':
      if (!spec.unrestrictedProperties) return unknownMethod();
      return jsonResponse({
        apiVersion: spec.apiVersion,
        ...echo(method),
        data: { propertyList: deviceProperties(camera, true) },
      });
    case 'getAllProperties': {
      const denied = needsAuthentication();
      if (denied) return denied;
      return jsonResponse({
        apiVersion: spec.apiVersion,
        ...echo(method),
        data: { propertyList: deviceProperties(camera, false) },
      });
    }
    case 'getProperties': {
      const denied = needsAuthentication();
      if (denied) return denied;
      const params = (request.params ?? {}) as JsonObject;
      const wanted = params.propertyList;
      if (!Array.isArray(wanted) || !wanted.every((name) => typeof name === 'string')) {
        return jsonResponse({
          apiVersion: spec.apiVersion,
          ...echo(method),
          error: { code: 4002, message: "Required parameter missing: 'propertyList'" },
        });
      }
      const all = deviceProperties(camera, false);
      const propertyList = Object.fromEntries(
        wanted.filter((name) => name in all).map((name) => [name, all[name]]),
      );
      return jsonResponse({ apiVersion: spec.apiVersion, ...echo(method), data: { propertyList } });
    }
    case 'getSupportedVersions': {
      const denied = needsAuthentication();
      if (denied) return denied;
      return jsonResponse({ ...echo(method), data: { apiVersions: [spec.apiVersion] } });
    }
    default:
      return unknownMethod();
  }
}

// apidiscovery.cgi

export function apiDiscovery(context: RequestContext): HandlerResult {
  const { camera } = context;
  const spec = camera.profile.apiDiscovery;
  if (!spec) return notFound(context);
  if (context.method !== 'POST') return methodNotAllowed(context, 'POST');
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  const request = parseJsonObject(context);
  const respond = (body: JsonObject) => jsonResponse(body, spec.contentType);
  if (!request) {
    return respond({ apiVersion: '1.0', error: { code: 4000, message: 'Invalid JSON' } });
  }
  if (request.method === 'getApiList') {
    const apiList = spec.apis.map((api) => ({
      id: api.id,
      version: api.version,
      name: api.name,
      docLink: DOC_LINK,
      ...(spec.withStatus ? { status: 'official' } : {}),
    }));
    return respond({
      method: 'getApiList',
      apiVersion: '1.0',
      ...contextEcho(request),
      data: { apiList },
    });
  }
  if (request.method === 'getSupportedVersions') {
    return respond({
      method: 'getSupportedVersions',
      ...contextEcho(request),
      data: { apiVersions: ['1.0'] },
    });
  }
  return respond({
    apiVersion: '1.0',
    ...contextEcho(request),
    error: { code: 2004, message: `Method not supported: ${String(request.method)}` },
  });
}

// firmwaremanagement.cgi

const FactoryDefaultRequestSchema = z
  .looseObject({
    params: z.strictObject({ factoryDefaultMode: z.enum(['soft', 'hard']) }),
  })
  .refine((request) => !('factoryDefaultMode' in request), {
    message: 'factoryDefaultMode belongs in params',
  });

export function firmwareManagement(context: RequestContext): HandlerResult {
  const { camera } = context;
  const spec = camera.profile.firmwareManagement;
  if (!spec) return notFound(context);
  if (context.method !== 'POST') return methodNotAllowed(context, 'POST');
  const verified = authorize(context, 'admin');
  if ('response' in verified) return verified.response;
  const request = parseJsonObject(context);
  if (!request) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 400, message: 'Could not parse the request as JSON.' },
    });
  }
  const method = typeof request.method === 'string' ? request.method : undefined;
  const base = { apiVersion: spec.apiVersion, ...contextEcho(request), method };
  if (!majorVersionIsOne(request.apiVersion)) {
    return jsonResponse({
      ...base,
      error: { code: 417, message: 'Incompatible apiVersion in request.' },
    });
  }
  switch (method) {
    case 'status':
      return jsonResponse({
        ...base,
        data: {
          activeFirmwareVersion: camera.profile.version,
          activeFirmwarePart: camera.activeFirmwarePart,
        },
      });
    case 'reboot':
      return { ...jsonResponse({ ...base, data: {} }), after: () => camera.reboot('reboot') };
    case 'factoryDefault': {
      const parsed = FactoryDefaultRequestSchema.safeParse(request);
      if (!parsed.success) {
        return jsonResponse({
          ...base,
          error: {
            code: 400,
            message: "Invalid request: params.factoryDefaultMode must be 'soft' or 'hard'.",
          },
        });
      }
      const mode = parsed.data.params.factoryDefaultMode;
      return { ...jsonResponse({ ...base, data: {} }), after: () => camera.factoryDefault(mode) };
    }
    default:
      return jsonResponse({ ...base, error: { code: 405, message: 'Unknown method in request.' } });
  }
}

// time.cgi

export function timeService(context: RequestContext): HandlerResult {
  const { camera } = context;
  const spec = camera.profile.timeService;
  if (!spec) return notFound(context);
  if (context.method !== 'POST') return methodNotAllowed(context, 'POST');
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  const request = parseJsonObject(context);
  if (!request) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 4000, message: 'Invalid JSON' },
    });
  }
  const supported = spec.apiVersion.split('.').map(Number);
  const requested =
    typeof request.apiVersion === 'string' ? request.apiVersion.split('.').map(Number) : [];
  const versionOk =
    requested[0] === supported[0] &&
    (requested[1] ?? 0) <= (supported[1] ?? 0) &&
    requested.length <= 2;
  const base = { apiVersion: spec.apiVersion, ...contextEcho(request) };
  if (!versionOk) {
    return jsonResponse({
      ...base,
      error: { code: 4001, message: 'The specified version is not supported' },
    });
  }
  if (request.method !== 'getDateTimeInfo') {
    return jsonResponse({
      ...base,
      method: request.method,
      error: { code: 4002, message: 'The requested method is not supported' },
    });
  }
  const dateTime = `${new Date(camera.clockNow()).toISOString().slice(0, 19)}Z`;
  return jsonResponse({
    ...base,
    method: 'getDateTimeInfo',
    data: {
      dateTime,
      localDateTime: `${dateTime.slice(0, 19)}+00:00`,
      maxYearSupported: 2069,
      posixTimeZone: camera.parameter('Time.POSIXTimeZone') ?? 'UTC0',
      dstEnabled: false,
    },
  });
}

// network_settings.cgi

const SetIPv4Schema = z.object({
  deviceName: z.string(),
  configurationMode: z.enum(['static', 'dhcp']).optional(),
  staticAddressConfigurations: z
    .array(
      z.object({
        address: z.ipv4(),
        prefixLength: z.number().int().min(1).max(32),
        broadcast: z.ipv4().optional(),
      }),
    )
    .max(1)
    .optional(),
  staticDefaultRouter: z.union([z.ipv4(), z.literal('')]).optional(),
  enabled: z.boolean().optional(),
});

function prefixToMask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

function maskToPrefix(mask: string): number {
  return mask
    .split('.')
    .map(Number)
    .reduce((count, octet) => count + octet.toString(2).replace(/0/g, '').length, 0);
}

function networkInfo(camera: SimulatedCamera) {
  const staticMode = camera.parameter('Network.BootProto') === 'none';
  const address = camera.address ?? '0.0.0.0';
  const addresses: Record<string, unknown>[] = [
    {
      address,
      prefixLength: 8,
      origin: staticMode ? 'static' : 'dhcp',
      scope: 'global',
      broadcast: '127.255.255.255',
    },
  ];
  if (camera.profile.id !== '12.x') {
    addresses.unshift({
      address: linkLocalAddress(camera.serial),
      prefixLength: 16,
      origin: 'linkLocal',
      scope: 'link',
      broadcast: '169.254.255.255',
    });
  }
  const hostname = camera.parameter('Network.HostName') ?? `axis-${camera.serial.toLowerCase()}`;
  const staticAddress = camera.parameter('Network.IPAddress') ?? '192.168.0.90';
  const staticMask = camera.parameter('Network.SubnetMask') ?? '255.255.255.0';
  return {
    system: {
      hostname: { useDhcpHostname: true, hostname, staticHostname: hostname },
      resolver: {
        useDhcpResolverInfo: true,
        nameServers: [],
        staticNameServers: [],
        searchDomains: [],
        staticSearchDomains: [],
        domainName: '',
        staticDomainName: '',
      },
    },
    devices: [
      {
        name: 'eth0',
        type: 'wired',
        macAddress: macAddress(camera.serial).toLowerCase(),
        link: true,
        state: 'up',
        IPv4: {
          enabled: true,
          configurationMode: staticMode ? 'static' : 'dhcp',
          ...(camera.profile.id === '12.x' ? { linkLocalMode: 'fallback' } : {}),
          addresses,
          staticAddressConfigurations: [
            {
              address: staticAddress,
              prefixLength: maskToPrefix(staticMask),
              broadcast: camera.parameter('Network.Broadcast') ?? '192.168.0.255',
            },
          ],
          defaultRouter: staticMode ? (camera.parameter('Network.DefaultRouter') ?? '') : '',
          staticDefaultRouter: camera.parameter('Network.DefaultRouter') ?? '192.168.0.1',
        },
        IPv6: { enabled: false, addresses: [] },
      },
    ],
  };
}

/** Whether the simulator can actually move a camera to `address`. */
export type AddressMover = (camera: SimulatedCamera, address: string) => boolean;

export function networkSettings(context: RequestContext, moveCamera: AddressMover): HandlerResult {
  const { camera } = context;
  const spec = camera.profile.networkSettings;
  if (!spec) return notFound(context);
  if (context.method !== 'POST') return methodNotAllowed(context, 'POST');
  const request = parseJsonObject(context);
  const setter = typeof request?.method === 'string' && request.method.startsWith('set');
  const verified = authorize(context, setter ? 'admin' : 'viewer');
  if ('response' in verified) return verified.response;
  if (!request) {
    return jsonResponse({
      apiVersion: spec.apiVersion,
      error: { code: 4000, message: 'Invalid JSON' },
    });
  }
  const base = { apiVersion: spec.apiVersion, ...contextEcho(request), method: request.method };
  if (request.method === 'getNetworkInfo') {
    return jsonResponse({ ...base, data: networkInfo(camera) });
  }
  if (request.method === 'setIPv4AddressConfiguration') {
    const parsed = SetIPv4Schema.safeParse(request.params);
    if (!parsed.success || parsed.data.deviceName !== 'eth0') {
      return jsonResponse({ ...base, error: { code: 1000, message: 'Invalid parameter' } });
    }
    const params = parsed.data;
    const first = params.staticAddressConfigurations?.[0];
    if (params.configurationMode === 'static' && !first) {
      return jsonResponse({ ...base, error: { code: 1000, message: 'Invalid parameter' } });
    }
    if (first) {
      camera.setParameter('Network.IPAddress', first.address);
      camera.setParameter('Network.SubnetMask', prefixToMask(first.prefixLength));
      if (first.broadcast) camera.setParameter('Network.Broadcast', first.broadcast);
    }
    if (params.staticDefaultRouter !== undefined) {
      camera.setParameter('Network.DefaultRouter', params.staticDefaultRouter);
    }
    if (params.configurationMode) {
      camera.setParameter(
        'Network.BootProto',
        params.configurationMode === 'static' ? 'none' : 'dhcp',
      );
    }
    const target = params.configurationMode === 'static' ? first?.address : undefined;
    return {
      ...jsonResponse({ ...base, data: {} }),
      after: () => {
        if (target && target !== camera.address) moveCamera(camera, target);
      },
    };
  }
  return jsonResponse({ ...base, error: { code: 2004, message: 'Method not supported' } });
}
