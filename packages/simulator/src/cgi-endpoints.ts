import { errorPage } from './error-pages.ts';
import {
  authorize,
  formParameters,
  notFound,
  textResponse,
  type RequestContext,
} from './http-exchange.ts';
import { encodeGradientJpeg } from './jpeg-snapshot.ts';
import { isInGroup } from './parameters.ts';
import {
  PWDGRP_MESSAGES,
  formatPwdgrpGet,
  formatUsergroup,
  isValidPassword,
  isValidUsername,
  pwdgrpPage,
  roleFromGroups,
} from './user-accounts.ts';
import type { HandlerResult } from './vapix-routes.ts';

// param.cgi

function paramResponse(context: RequestContext, body: string): HandlerResult {
  const charset = context.camera.profile.paramCharset;
  if (charset === 'ISO-8859-1') {
    return {
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=ISO-8859-1' },
      body: Buffer.from(body, 'latin1'),
    };
  }
  return textResponse(body);
}

export function paramCgi(context: RequestContext): HandlerResult {
  const { camera } = context;
  const form = formParameters(context);
  const action = form.get('action') ?? '';
  const verified = authorize(context, action === 'list' ? 'viewer' : 'admin');
  if ('response' in verified) return verified.response;
  if (action === 'list') {
    const groupList = form.get('group') ?? 'root';
    const body = camera.renderedParameters(groupList, () => {
      const parameters = camera.parameters();
      const lines: string[] = [];
      for (const group of groupList.split(',').map((name) => name.trim())) {
        const rooted = group === 'root' || group.startsWith('root.');
        const path = group === 'root' ? '' : rooted ? group.slice(5) : group;
        const matches = parameters.filter(([name]) => isInGroup(name, path));
        if (matches.length === 0) {
          lines.push(`# Error: Error -1 getting param in group '${group}'`);
          continue;
        }
        for (const [name, value] of matches) lines.push(`${rooted ? 'root.' : ''}${name}=${value}`);
      }
      return `${lines.join('\n')}\n`;
    });
    return paramResponse(context, body);
  }
  if (action === 'update') {
    const errors: string[] = [];
    for (const [key, value] of form) {
      if (key === 'action') continue;
      const name = key.startsWith('root.') ? key.slice(5) : key;
      if (!camera.setParameter(name, value)) {
        errors.push(`# Error: Error setting '${key}' to '${value}'!`);
      }
    }
    return paramResponse(context, errors.length > 0 ? `${errors.join('\n')}\n` : 'OK');
  }
  return paramResponse(context, `# Error: Invalid action '${action}'\n`);
}

// pwdgrp.cgi

export function pwdgrpCgi(context: RequestContext): HandlerResult {
  const { camera } = context;
  const form = formParameters(context);
  const action = form.get('action') ?? '';
  // In factory-default state anyone may create the first administrator.
  const firstAdmin = camera.needsSetup && action === 'add';
  if (!firstAdmin) {
    const verified = authorize(context, 'admin');
    if ('response' in verified) return verified.response;
  }
  const page = (text: string) => textResponse(pwdgrpPage(text), 'text/html');
  const user = form.get('user') ?? '';
  const password = form.get('pwd') ?? undefined;
  const groups = form.get('sgrp') ?? undefined;
  switch (action) {
    case 'get':
      return textResponse(formatPwdgrpGet(camera.profile, [...camera.users.values()]));
    case 'add': {
      if (!isValidUsername(user)) return page(PWDGRP_MESSAGES.invalidUser);
      if (camera.users.has(user)) return page(PWDGRP_MESSAGES.exists);
      if (password === undefined || !isValidPassword(password)) {
        return page(PWDGRP_MESSAGES.invalidPassword);
      }
      const role = roleFromGroups(groups ?? '') ?? { role: 'viewer' as const, ptz: false };
      if (firstAdmin) {
        const mustBeRoot = camera.profile.firstAdminMustBeRoot && user !== 'root';
        if (role.role !== 'admin' || mustBeRoot) return page(PWDGRP_MESSAGES.notInitialAdmin);
      }
      camera.users.set(user, {
        username: user,
        password,
        role: role.role,
        ptz: role.ptz,
        primaryGroup: user === 'root' ? 'root' : 'users',
      });
      return page(PWDGRP_MESSAGES.created(user));
    }
    case 'update': {
      const account = camera.users.get(user);
      if (!account) return page(PWDGRP_MESSAGES.invalidUser);
      if (password !== undefined && !isValidPassword(password)) {
        return page(PWDGRP_MESSAGES.invalidPassword);
      }
      const role = groups === undefined ? undefined : roleFromGroups(groups);
      camera.users.set(user, {
        ...account,
        password: password ?? account.password,
        role: role?.role ?? account.role,
        ptz: role?.ptz ?? account.ptz,
      });
      return page(PWDGRP_MESSAGES.modified(user));
    }
    case 'remove':
      if (!camera.users.delete(user)) return page(PWDGRP_MESSAGES.invalidUser);
      return page(PWDGRP_MESSAGES.removed(user));
    default:
      return page('Error: invalid action.');
  }
}

// usergroup.cgi

export function usergroupCgi(context: RequestContext): HandlerResult {
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  return textResponse(formatUsergroup(context.camera.profile, verified.account));
}

// factorydefault.cgi, hardfactorydefault.cgi, restart.cgi

function refreshPage(target: string, address: string): string {
  return `<html>\n<head>\n<meta http-equiv="refresh" content="0;URL=/admin/${target}?server=${address}">\n</head>\n<body>\n</body>\n</html>\n`;
}

export function legacyMaintenance(kind: 'soft' | 'hard' | 'restart') {
  return (context: RequestContext): HandlerResult => {
    const { camera } = context;
    const verified = authorize(context, 'admin');
    if ('response' in verified) return verified.response;
    const address = camera.address ?? '';
    if (kind === 'restart') {
      return {
        ...textResponse(refreshPage('restartMessage.shtml', address), 'text/html'),
        after: () => camera.reboot('reboot'),
      };
    }
    const target = kind === 'soft' ? 'factoryMessage.shtml' : 'factoryMessage2.shtml';
    return {
      ...textResponse(refreshPage(target, address), 'text/html'),
      after: () => camera.factoryDefault(kind),
    };
  };
}

// jpg/image.cgi

const NAMED_RESOLUTIONS: Record<string, [number, number]> = {
  '4CIF': [704, 576],
  '2CIF': [704, 288],
  CIF: [352, 288],
  QCIF: [176, 144],
};

const snapshotCache = new Map<string, Buffer>();

export function snapshot(context: RequestContext): HandlerResult {
  const { camera } = context;
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  const form = formParameters(context);
  const supported = (camera.parameter('Properties.Image.Resolution') ?? '').split(',');
  const resolution = form.get('resolution') ?? supported[0] ?? '640x360';
  const cameraNumber = form.get('camera') ?? '1';
  if (!supported.includes(resolution) || cameraNumber !== '1') {
    return errorPage(camera.profile, 400, context.path);
  }
  const [width, height] =
    NAMED_RESOLUTIONS[resolution] ?? (resolution.split('x').map(Number) as [number, number]);
  let image = snapshotCache.get(resolution);
  if (!image) {
    image = encodeGradientJpeg(width, height);
    snapshotCache.set(resolution, image);
  }
  return { status: 200, headers: { 'Content-Type': 'image/jpeg' }, body: image };
}

// disks/list.cgi and record/list.cgi (edge storage)

export function diskList(context: RequestContext): HandlerResult {
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  const body =
    '<?xml version="1.0"?>\n<root>\n<disks numberofdisks="2">\n' +
    '<disk diskid="SD_DISK" name="" totalsize="30436352" freesize="27212800" cleanuplevel="90" cleanupmaxage="7" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="OK" filesystem="ext4" group="S0" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n' +
    '<disk diskid="NetworkShare" name="" totalsize="0" freesize="0" cleanuplevel="90" cleanupmaxage="7" cleanuppolicy="fifo" locked="no" full="no" readonly="no" status="disconnected" filesystem="cifs" group="S1" requiredfilesystem="none" encryptionenabled="false" diskencrypted="false"/>\n' +
    '</disks>\n</root>\n';
  return textResponse(body, 'text/xml');
}

const RECORDING_LENGTH_MS = 60 * 60 * 1000;

function recordingTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

export function recordingList(context: RequestContext): HandlerResult {
  const { camera } = context;
  const verified = authorize(context, 'viewer');
  if ('response' in verified) return verified.response;
  const form = formParameters(context);
  const recordingId = form.get('recordingid') ?? 'all';
  const first = Math.max(0, Number(form.get('startatresultnumber') ?? 0) || 0);
  const max = Number(form.get('maxnumberofresults') ?? Number.POSITIVE_INFINITY);
  const sortDescending = form.get('sortorder') === 'descending';
  const count = camera.settings.recordings;
  const recordings = Array.from({ length: count }, (_, index) => {
    const start = camera.createdAt - (count - index) * RECORDING_LENGTH_MS;
    const stop = start + RECORDING_LENGTH_MS - 1000;
    const stamp = new Date(start).toISOString().replace(/[-:]/g, '').slice(0, 15).replace('T', '_');
    const id = `${stamp}_${(index + 1).toString(16).toUpperCase().padStart(4, '0')}_${camera.serial}`;
    return { id, start, stop };
  });
  const selected = (
    recordingId === 'all'
      ? recordings
      : recordings.filter((recording) => recording.id === recordingId)
  ).sort((a, b) => (sortDescending ? b.start - a.start : a.start - b.start));
  const page = selected.slice(first, Number.isFinite(max) ? first + max : undefined);
  const items = page.map(
    (recording) =>
      `<recording diskid="SD_DISK" recordingid="${recording.id}" starttime="${recordingTime(recording.start)}" starttimelocal="${recordingTime(recording.start)}" stoptime="${recordingTime(recording.stop)}" stoptimelocal="${recordingTime(recording.stop)}" recordingtype="continuous" eventid="continuous" eventtrigger="continuous" recordingstatus="completed" source="1" locked="No">\n` +
      '<video mimetype="video/x-h264" width="1920" height="1080" framerate="30:1" resolution="1920x1080"/>\n</recording>\n',
  );
  const body =
    '<?xml version="1.0"?>\n<root>\n' +
    `<recordings totalnumberofrecordings="${selected.length}" numberofrecordings="${page.length}">\n` +
    items.join('') +
    '</recordings>\n</root>\n';
  return textResponse(body, 'text/xml');
}

// UPnP device description, served on its own random high port as libupnp does.

export function upnpDescription(context: RequestContext): HandlerResult {
  const { camera } = context;
  if (context.path !== '/rootdesc1.xml') return notFound(context);
  const endpoint = camera.currentEndpoint;
  if (!endpoint) return notFound(context);
  const { identity, serial } = camera;
  const body =
    '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>\n' +
    '<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>\n' +
    `<friendlyName>AXIS ${identity.model} - ${serial}</friendlyName><manufacturer>AXIS</manufacturer>\n` +
    `<manufacturerURL>http://www.axis.com/</manufacturerURL><modelDescription>${identity.productFullName}</modelDescription>\n` +
    `<modelName>AXIS ${identity.model}</modelName><modelNumber>${identity.model}</modelNumber><modelURL>http://www.axis.com/</modelURL>\n` +
    `<serialNumber>${serial}</serialNumber><UDN>uuid:Upnp-BasicDevice-1_0-${serial}</UDN>\n` +
    '<serviceList><service><serviceType>urn:axis-com:service:BasicService:1</serviceType>\n' +
    '<serviceId>urn:axis-com:serviceId:BasicServiceId</serviceId><controlURL>/upnp/control/BasicServiceId</controlURL>\n' +
    '<eventSubURL>/upnp/event/BasicServiceId</eventSubURL><SCPDURL>/scpd_basic.xml</SCPDURL></service></serviceList>\n' +
    `<presentationURL>http://${endpoint.address}:${endpoint.httpPort}/</presentationURL></device>\n` +
    `<URLBase>http://${endpoint.address}:${endpoint.upnpPort ?? 0}/</URLBase></root>\n`;
  return textResponse(body, 'text/xml');
}
