/** The slice of RFC 1035 / RFC 6762 that mDNS service announcement needs. */

export const DNS_TYPE = { A: 1, PTR: 12, TXT: 16, SRV: 33, ANY: 255 } as const;
const CLASS_IN = 1;
const CACHE_FLUSH = 0x8000;
const UNICAST_RESPONSE = 0x8000;

export type DnsRecord =
  | { type: 'A'; name: string; ttl: number; cacheFlush?: boolean; address: string }
  | { type: 'PTR'; name: string; ttl: number; cacheFlush?: boolean; target: string }
  | { type: 'TXT'; name: string; ttl: number; cacheFlush?: boolean; entries: string[] }
  | {
      type: 'SRV';
      name: string;
      ttl: number;
      cacheFlush?: boolean;
      priority: number;
      weight: number;
      port: number;
      target: string;
    };

export interface DnsQuestion {
  name: string;
  type: number;
  unicastResponse: boolean;
}

export interface DnsMessage {
  id: number;
  isResponse: boolean;
  authoritative: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  additionals: DnsRecord[];
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length > 63) throw new RangeError(`DNS label too long: ${label}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function encodeRecordData(record: DnsRecord): Buffer {
  switch (record.type) {
    case 'A':
      return Buffer.from(record.address.split('.').map(Number));
    case 'PTR':
      return encodeName(record.target);
    case 'TXT':
      return Buffer.concat(
        record.entries.map((entry) => {
          const bytes = Buffer.from(entry, 'utf8');
          return Buffer.concat([Buffer.from([bytes.length]), bytes]);
        }),
      );
    case 'SRV': {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(record.priority, 0);
      fixed.writeUInt16BE(record.weight, 2);
      fixed.writeUInt16BE(record.port, 4);
      return Buffer.concat([fixed, encodeName(record.target)]);
    }
  }
}

function encodeRecord(record: DnsRecord): Buffer {
  const data = encodeRecordData(record);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(DNS_TYPE[record.type], 0);
  fixed.writeUInt16BE(CLASS_IN | (record.cacheFlush ? CACHE_FLUSH : 0), 2);
  fixed.writeUInt32BE(record.ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(record.name), fixed, data]);
}

export function encodeDnsMessage(message: Partial<DnsMessage>): Buffer {
  const questions = message.questions ?? [];
  const answers = message.answers ?? [];
  const additionals = message.additionals ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.id ?? 0, 0);
  header.writeUInt16BE((message.isResponse ? 0x8000 : 0) | (message.authoritative ? 0x0400 : 0), 2);
  header.writeUInt16BE(questions.length, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(additionals.length, 10);
  const body = questions.map((question) => {
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(question.type, 0);
    fixed.writeUInt16BE(CLASS_IN | (question.unicastResponse ? UNICAST_RESPONSE : 0), 2);
    return Buffer.concat([encodeName(question.name), fixed]);
  });
  return Buffer.concat([
    header,
    ...body,
    ...answers.map(encodeRecord),
    ...additionals.map(encodeRecord),
  ]);
}

class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset = 0,
  ) {}

  need(count: number): void {
    if (this.offset + count > this.buffer.length) throw new RangeError('truncated DNS message');
  }

  u8(): number {
    this.need(1);
    const value = this.buffer.readUInt8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A possibly compressed name; pointers may only go backwards, which also bounds loops. */
  name(): string {
    const labels: string[] = [];
    let offset = this.offset;
    let jumped = false;
    let limit = offset;
    for (;;) {
      if (offset >= this.buffer.length) throw new RangeError('truncated DNS name');
      const length = this.buffer.readUInt8(offset);
      if (length === 0) {
        offset += 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        if (offset + 1 >= this.buffer.length) throw new RangeError('truncated DNS pointer');
        const pointer = ((length & 0x3f) << 8) | this.buffer.readUInt8(offset + 1);
        if (pointer >= limit) throw new RangeError('DNS name pointer does not point backwards');
        if (!jumped) this.offset = offset + 2;
        jumped = true;
        limit = pointer;
        offset = pointer;
        continue;
      }
      if (offset + 1 + length > this.buffer.length) throw new RangeError('truncated DNS label');
      labels.push(this.buffer.toString('utf8', offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    if (!jumped) this.offset = offset;
    return labels.join('.');
  }
}

function decodeRecord(reader: Reader): DnsRecord | undefined {
  const name = reader.name();
  const type = reader.u16();
  const klass = reader.u16();
  const ttl = reader.u32();
  const length = reader.u16();
  reader.need(length);
  const end = reader.offset + length;
  const cacheFlush = (klass & CACHE_FLUSH) !== 0;
  let record: DnsRecord | undefined;
  if (type === DNS_TYPE.A && length === 4) {
    const address = [...reader.buffer.subarray(reader.offset, end)].join('.');
    record = { type: 'A', name, ttl, cacheFlush, address };
  } else if (type === DNS_TYPE.PTR) {
    record = { type: 'PTR', name, ttl, cacheFlush, target: reader.name() };
  } else if (type === DNS_TYPE.TXT) {
    const entries: string[] = [];
    while (reader.offset < end) {
      const size = reader.u8();
      reader.need(size);
      entries.push(reader.buffer.toString('utf8', reader.offset, reader.offset + size));
      reader.offset += size;
    }
    record = { type: 'TXT', name, ttl, cacheFlush, entries };
  } else if (type === DNS_TYPE.SRV) {
    const priority = reader.u16();
    const weight = reader.u16();
    const port = reader.u16();
    record = { type: 'SRV', name, ttl, cacheFlush, priority, weight, port, target: reader.name() };
  }
  reader.offset = end;
  return record;
}

export function decodeDnsMessage(buffer: Buffer): DnsMessage {
  const reader = new Reader(buffer);
  const id = reader.u16();
  const flags = reader.u16();
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const;
  const questions: DnsQuestion[] = [];
  for (let index = 0; index < counts[0]; index += 1) {
    const name = reader.name();
    const type = reader.u16();
    const klass = reader.u16();
    questions.push({ name, type, unicastResponse: (klass & UNICAST_RESPONSE) !== 0 });
  }
  const records: DnsRecord[][] = [[], [], []];
  counts.slice(1).forEach((count, section) => {
    for (let index = 0; index < count; index += 1) {
      const record = decodeRecord(reader);
      if (record) records[section]?.push(record);
    }
  });
  return {
    id,
    isResponse: (flags & 0x8000) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    questions,
    answers: records[0] ?? [],
    additionals: [...(records[1] ?? []), ...(records[2] ?? [])],
  };
}
