/** What SSDP and mDNS announce about one camera. */
export interface AnnouncedDevice {
  serial: string;
  model: string;
  address: string;
  httpPort: number;
  /** Port of the UPnP device description (LOCATION); SSDP needs it. */
  upnpPort: number | undefined;
  /** SSDP SERVER header; differs per firmware generation. */
  ssdpServer: string;
}

export function bindSocketError(error: unknown, what: string, address: string): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`${what} could not start on interface ${address}: ${reason}`, { cause: error });
}
