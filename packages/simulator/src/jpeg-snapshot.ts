/**
 * A minimal baseline JPEG encoder for snapshots: grayscale, one DC value per 8×8 block (a
 * diagonal gradient), no AC energy. Any decoder reads it, it has the requested dimensions,
 * and a 1920×1080 frame is a few kilobytes.
 */

// The standard luminance DC table (ITU T.81 Annex K.3).
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// Only end-of-block is ever coded; ZRL keeps the table from being a single all-zero code.
const AC_BITS = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0x00, 0xf0];

interface HuffmanCode {
  code: number;
  length: number;
}

function canonicalCodes(
  bits: readonly number[],
  values: readonly number[],
): Map<number, HuffmanCode> {
  const codes = new Map<number, HuffmanCode>();
  let code = 0;
  let index = 0;
  bits.forEach((count, position) => {
    for (let n = 0; n < count; n += 1) {
      codes.set(values[index] ?? 0, { code, length: position + 1 });
      code += 1;
      index += 1;
    }
    code <<= 1;
  });
  return codes;
}

const DC_CODES = canonicalCodes(DC_BITS, DC_VALUES);
const AC_CODES = canonicalCodes(AC_BITS, AC_VALUES);

class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  write(value: number, length: number): void {
    for (let bit = length - 1; bit >= 0; bit -= 1) {
      this.current = (this.current << 1) | ((value >> bit) & 1);
      this.used += 1;
      if (this.used === 8) this.flushByte();
    }
  }

  finish(): Buffer {
    if (this.used > 0) this.write(0xff, 8 - this.used);
    return Buffer.from(this.bytes);
  }

  private flushByte(): void {
    this.bytes.push(this.current);
    if (this.current === 0xff) this.bytes.push(0x00);
    this.current = 0;
    this.used = 0;
  }
}

function segment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xff00 | marker, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

function huffmanTable(tableClass: number, bits: readonly number[], values: readonly number[]) {
  return Buffer.from([(tableClass << 4) | 0, ...bits, ...values]);
}

function writeHuffman(writer: BitWriter, codes: Map<number, HuffmanCode>, symbol: number): void {
  const entry = codes.get(symbol);
  if (!entry) throw new Error(`no Huffman code for symbol ${symbol}`);
  writer.write(entry.code, entry.length);
}

export function encodeGradientJpeg(width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid JPEG size ${width}x${height}`);
  }
  if (width > 8192 || height > 8192) throw new RangeError('JPEG size above 8192');
  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const quantization = Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]);
  const frame = Buffer.alloc(9);
  frame.writeUInt8(8, 0);
  frame.writeUInt16BE(height, 1);
  frame.writeUInt16BE(width, 3);
  frame.set([1, 1, 0x11, 0], 5);
  const scanHeader = Buffer.from([1, 1, 0x00, 0, 63, 0]);

  const blocksWide = Math.ceil(width / 8);
  const blocksHigh = Math.ceil(height / 8);
  const writer = new BitWriter();
  let previous = 0;
  for (let row = 0; row < blocksHigh; row += 1) {
    for (let column = 0; column < blocksWide; column += 1) {
      const gray = 40 + Math.round((175 * (row / blocksHigh + column / blocksWide)) / 2);
      // With a quantizer of 1 the DC coefficient of a flat block is 8 × (level − 128).
      const dc = 8 * (gray - 128);
      const difference = dc - previous;
      previous = dc;
      const magnitude = Math.abs(difference);
      const category = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
      writeHuffman(writer, DC_CODES, category);
      if (category > 0) {
        writer.write(difference > 0 ? difference : difference + (1 << category) - 1, category);
      }
      writeHuffman(writer, AC_CODES, 0x00);
    }
  }
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, jfif),
    segment(0xdb, quantization),
    segment(0xc0, frame),
    segment(0xc4, huffmanTable(0, DC_BITS, DC_VALUES)),
    segment(0xc4, huffmanTable(1, AC_BITS, AC_VALUES)),
    segment(0xda, scanHeader),
    writer.finish(),
    Buffer.from([0xff, 0xd9]),
  ]);
}
