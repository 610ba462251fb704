import type { FirmwareProfile } from './firmware-profiles.ts';

export interface ParameterSource {
  profile: FirmwareProfile;
  serial: string;
  model: string;
  productFullName: string;
  productType: string;
  hardwareId: string;
  architecture: string;
  soc: string | undefined;
  address: string;
  httpsPort: number | undefined;
  rtspPort: number | undefined;
  rootPasswordSet: boolean;
}

export function macAddress(serial: string, separator = ':'): string {
  return (serial.match(/../g) ?? []).join(separator);
}

/** The link-local address a device claims, derived from its MAC so it is stable. */
export function linkLocalAddress(serial: string): string {
  const third = (parseInt(serial.slice(8, 10), 16) % 254) + 1;
  const fourth = (parseInt(serial.slice(10, 12), 16) % 254) + 1;
  return `169.254.${third}.${fourth}`;
}

/** Parameter prefixes that param.cgi refuses to update. */
const READ_ONLY_PREFIXES = ['Brand.', 'Properties.'];

export function isReadOnlyParameter(name: string): boolean {
  return READ_ONLY_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Network settings that a soft factory default keeps. */
export const SOFT_RESET_KEPT_PARAMETERS = [
  'Network.BootProto',
  'Network.IPAddress',
  'Network.DefaultRouter',
  'Network.SubnetMask',
  'Network.Broadcast',
];

/**
 * The parameter tree before any update, in the order param.cgi lists it, keys without `root.`.
 * Built on demand from the camera's identity; a camera keeps it only once asked, until a
 * value it depends on changes.
 */
export function defaultParameters(source: ParameterSource): [string, string][] {
  const { profile } = source;
  const generation = profile.id;
  const legacy = generation === '5.51';
  const mac = macAddress(source.serial);
  const hostName = `axis-${source.serial.toLowerCase()}`;
  const friendlyName = `AXIS ${source.model} - ${source.serial}`;
  const parameters: [string, string][] = [
    ['Brand.Brand', 'AXIS'],
    ['Brand.ProdFullName', source.productFullName],
    ['Brand.ProdNbr', source.model],
    ['Brand.ProdShortName', `AXIS ${source.model}`],
    ['Brand.ProdType', source.productType],
  ];
  if (!legacy) parameters.push(['Brand.ProdVariant', '']);
  parameters.push(
    ['Brand.WebURL', generation === '12.x' ? 'https://www.axis.com' : 'http://www.axis.com/'],
    ['HTTPS.Enabled', source.httpsPort === undefined ? 'no' : 'yes'],
    ['HTTPS.Port', String(source.httpsPort ?? 443)],
    ['Image.I0.Name', 'View Area 1'],
    ['Image.I0.Appearance.Resolution', legacy ? '4CIF' : '1920x1080'],
    ['Image.I0.Appearance.Compression', '30'],
    ['Network.BootProto', 'dhcp'],
    ['Network.IPAddress', '192.168.0.90'],
    ['Network.SubnetMask', '255.255.255.0'],
    ['Network.Broadcast', '192.168.0.255'],
    ['Network.DefaultRouter', '192.168.0.1'],
    ['Network.HostName', hostName],
    ['Network.Bonjour.Enabled', 'yes'],
    ['Network.Bonjour.FriendlyName', generation === '12.x' ? `AXIS ${source.model}` : friendlyName],
    ['Network.DHCP.VendorClass', `AXIS,${source.productType},${source.model},${profile.version}`],
    ['Network.eth0.MACAddress', mac.toUpperCase()],
    ['Network.eth0.IPAddress', source.address],
    ['Network.eth0.SubnetMask', '255.0.0.0'],
    ['Network.HTTP.AuthenticationPolicy', profile.authenticationPolicy],
    ['Network.HTTP.AuthenticationWithQop', 'no'],
    ['Network.RTSP.Enabled', source.rtspPort === undefined ? 'no' : 'yes'],
    ['Network.RTSP.Port', String(source.rtspPort ?? 554)],
    ['Network.RTSP.ProtViewer', 'password'],
    ['Network.RTSP.Timeout', '60'],
  );
  if (!legacy) {
    parameters.push(
      ['Network.RTSPS.Enabled', 'no'],
      ['Network.RTSPS.Port', '322'],
      ['Network.SSH.Enabled', 'no'],
    );
  }
  parameters.push(
    ['Network.UPnP.Enabled', profile.upnpEnabledByDefault ? 'yes' : 'no'],
    ['Network.UPnP.FriendlyName', friendlyName],
    ['Network.ZeroConf.Enabled', 'yes'],
    ['Network.ZeroConf.IPAddress', linkLocalAddress(source.serial)],
    ['Network.ZeroConf.SubnetMask', '255.255.0.0'],
  );
  if (generation === '11.11' || generation === '12.x') {
    parameters.push(['Network.ZeroConf.Fallback', generation === '12.x' ? 'yes' : 'no']);
  }
  parameters.push(['Properties.API.HTTP.Version', '3']);
  if (legacy) parameters.push(['Properties.API.HTTP.AdminPath', '/operator/basic.shtml']);
  parameters.push(['Properties.API.RTSP.Version', '2.01']);
  if (!legacy) {
    parameters.push(
      ['Properties.ApiDiscovery.ApiDiscovery', 'yes'],
      ['Properties.ApiDiscovery.Version', '1.0'],
    );
  }
  parameters.push(
    ['Properties.Firmware.BuildDate', profile.buildDate],
    ['Properties.Firmware.BuildNumber', '6'],
    ['Properties.Firmware.Version', profile.version],
  );
  if (!legacy) parameters.push(['Properties.FirmwareManagement.Version', '1.0']);
  parameters.push(
    ['Properties.HTTPS.HTTPS', 'yes'],
    ['Properties.Image.Format', legacy ? 'jpeg,mjpeg,h264,bitmap' : 'jpeg,mjpeg,h264'],
    [
      'Properties.Image.Resolution',
      legacy ? '4CIF,2CIF,CIF,QCIF' : '1920x1080,1280x720,800x450,640x360,480x270,320x180',
    ],
    ['Properties.LocalStorage.LocalStorage', 'yes'],
    ['Properties.LocalStorage.SDCard', 'yes'],
  );
  if (!legacy) parameters.push(['Properties.System.Architecture', source.architecture]);
  parameters.push(
    ['Properties.System.HardwareID', source.hardwareId],
    ['Properties.System.Language', 'English'],
    ['Properties.System.SerialNumber', source.serial],
  );
  if (source.soc !== undefined) parameters.push(['Properties.System.Soc', source.soc]);
  if (profile.listsDoSParameters) {
    parameters.push(
      ['System.PreventDoSAttack.ActivatePasswordThrottling', 'On'],
      ['System.PreventDoSAttack.DoSBlockingPeriod', '10'],
      ['System.PreventDoSAttack.DoSPageCount', '20'],
      ['System.PreventDoSAttack.DoSPageInterval', '1'],
      ['System.PreventDoSAttack.DoSSiteCount', '20'],
      ['System.PreventDoSAttack.DoSSiteInterval', '1'],
    );
  }
  parameters.push(['System.RootPwdSet', source.rootPasswordSet ? 'yes' : 'no']);
  if (profile.listsSkipDigestUriValidation) {
    parameters.push(['System.SkipDigestUriValidation', 'User-Agent HttpClient']);
  }
  parameters.push(
    ['Time.DST.Enabled', 'yes'],
    ['Time.NTP.Server', ''],
    ['Time.ObtainFromDHCP', 'yes'],
    ['Time.POSIXTimeZone', 'CET-1CEST,M3.5.0,M10.5.0/3'],
    ['Time.SyncSource', 'NTP'],
    ['WebService.DiscoveryMode.Discoverable', generation === '12.x' ? 'No' : 'Yes'],
  );
  return parameters;
}

/** Whether `name` (no `root.`) is inside `group`, where `*` matches one path segment. */
export function isInGroup(name: string, group: string): boolean {
  if (group === '') return true;
  if (!group.includes('*')) return name === group || name.startsWith(`${group}.`);
  const pattern = group
    .split('.')
    .map((segment) =>
      segment === '*' ? '[^.]+' : segment.replace(/[-[\]{}()+?.,\\^$|#\s]/g, '\\$&'),
    )
    .join('\\.');
  return new RegExp(`^${pattern}(\\..+)?$`).test(name);
}
