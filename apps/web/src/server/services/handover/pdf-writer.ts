/*
 * A small PDF 1.4 writer for text documents: A4 pages, the standard Helvetica and Courier fonts
 * (no embedding), word wrapping, headings, rules and page footers. Enough for a handover sheet
 * without a headless browser or a dependency. Text is written in WinAnsiEncoding with octal
 * escapes beyond ASCII, and the file is built as a Latin-1 string, one byte per character, so
 * the cross-reference offsets are string offsets.
 */

const PAGE_WIDTH = 595;
const PAGE_HEIGHT = 842;
const MARGIN = 50;
const FOOTER_Y = 30;

type FontKey = 'F1' | 'F2' | 'F3';
const FONTS: Record<FontKey, string> = { F1: 'Helvetica', F2: 'Helvetica-Bold', F3: 'Courier' };

// Helvetica advance widths (1/1000 em) for ASCII 32–126, from the standard AFM.
const HELVETICA_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
  556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
  611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
  667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
  222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/** Unicode characters outside Latin-1 that WinAnsiEncoding has, and their codes. */
const WIN_ANSI_EXTRAS: Record<string, number> = {
  '€': 0x80,
  '…': 0x85,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '™': 0x99,
};

function winAnsiCode(char: string): number {
  const extra = WIN_ANSI_EXTRAS[char];
  if (extra !== undefined) return extra;
  const code = char.codePointAt(0) ?? 0x3f;
  if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)) return code;
  return 0x3f; // "?" for what the standard fonts cannot show
}

/** A PDF string literal of `text` in WinAnsiEncoding, ASCII only. */
function pdfString(text: string): string {
  let out = '(';
  for (const char of text) {
    const code = winAnsiCode(char);
    if (char === '(' || char === ')' || char === '\\') out += `\\${char}`;
    else if (code < 0x80) out += String.fromCharCode(code);
    else out += `\\${code.toString(8).padStart(3, '0')}`;
  }
  return `${out})`;
}

function charWidth(char: string, font: FontKey): number {
  if (font === 'F3') return 600;
  const code = char.codePointAt(0) ?? 0;
  const width = code >= 32 && code <= 126 ? (HELVETICA_WIDTHS[code - 32] ?? 556) : 556;
  // Bold glyphs are a little wider; over-estimating only wraps a little early.
  return font === 'F2' ? width * 1.08 : width;
}

export function textWidth(text: string, font: FontKey, size: number): number {
  let total = 0;
  for (const char of text) total += charWidth(char, font);
  return (total * size) / 1000;
}

/** Splits `text` into lines no wider than `width`, breaking long words where they must. */
export function wrapText(text: string, font: FontKey, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((part) => part !== '')) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (textWidth(candidate, font, size) <= width) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line);
      line = '';
      let rest = word;
      while (textWidth(rest, font, size) > width) {
        let cut = rest.length - 1;
        while (cut > 1 && textWidth(rest.slice(0, cut), font, size) > width) cut -= 1;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

export interface PdfDocumentOptions {
  title: string;
  /** Shown at the bottom of every page with the page number. */
  footer: string;
  /** The creation date written into the document information. */
  createdAt?: Date;
}

/** Lays text out top to bottom over as many pages as it needs; `toBytes()` writes the file. */
export class PdfDocument {
  private readonly pages: string[][] = [];
  private y = 0;
  private readonly width = PAGE_WIDTH - 2 * MARGIN;

  constructor(private readonly options: PdfDocumentOptions) {
    this.newPage();
  }

  newPage(): void {
    this.pages.push([]);
    this.y = PAGE_HEIGHT - MARGIN;
  }

  private get ops(): string[] {
    const page = this.pages.at(-1);
    if (page === undefined) throw new Error('no page');
    return page;
  }

  private ensure(height: number): void {
    if (this.y - height < MARGIN + 10) this.newPage();
  }

  private line(text: string, font: FontKey, size: number, x = MARGIN): void {
    const leading = size * 1.35;
    this.ensure(leading);
    this.y -= leading;
    this.ops.push(
      `BT /${font} ${size} Tf ${x.toFixed(2)} ${this.y.toFixed(2)} Td ${pdfString(text)} Tj ET`,
    );
  }

  title(text: string): void {
    for (const line of wrapText(text, 'F2', 18, this.width)) this.line(line, 'F2', 18);
    this.space(4);
  }

  heading(text: string): void {
    this.ensure(40);
    this.space(8);
    for (const line of wrapText(text, 'F2', 12, this.width)) this.line(line, 'F2', 12);
    this.y -= 3;
    this.ops.push(
      `0.6 w ${MARGIN} ${this.y.toFixed(2)} m ${PAGE_WIDTH - MARGIN} ${this.y.toFixed(2)} l S`,
    );
    this.y -= 4;
  }

  paragraph(text: string, options: { font?: FontKey; size?: number; indent?: number } = {}): void {
    const font = options.font ?? 'F1';
    const size = options.size ?? 10;
    const indent = options.indent ?? 0;
    for (const line of wrapText(text, font, size, this.width - indent)) {
      this.line(line, font, size, MARGIN + indent);
    }
  }

  /** A label in bold and its value wrapped beside it. */
  field(label: string, value: string, labelWidth = 130): void {
    const size = 10;
    const lines = wrapText(value === '' ? '—' : value, 'F1', size, this.width - labelWidth);
    const leading = size * 1.35;
    // A label too wide for its column gets a line of its own above the value.
    const ownLine = textWidth(label, 'F2', size) > labelWidth - 6;
    if (ownLine) this.line(label, 'F2', size);
    lines.forEach((text, index) => {
      this.ensure(leading);
      this.y -= leading;
      if (index === 0 && !ownLine) {
        this.ops.push(
          `BT /F2 ${size} Tf ${MARGIN} ${this.y.toFixed(2)} Td ${pdfString(label)} Tj ET`,
        );
      }
      this.ops.push(
        `BT /F1 ${size} Tf ${(MARGIN + labelWidth).toFixed(2)} ${this.y.toFixed(2)} Td ${pdfString(text)} Tj ET`,
      );
    });
  }

  space(points: number): void {
    this.y -= points;
  }

  get pageCount(): number {
    return this.pages.length;
  }

  toBytes(): Uint8Array {
    const objects: string[] = [];
    const add = (body: string): number => {
      objects.push(body);
      return objects.length;
    };
    const catalog = add('');
    const pagesRef = add('');
    const fontRefs = (Object.keys(FONTS) as FontKey[]).map((key) => ({
      key,
      ref: add(
        `<< /Type /Font /Subtype /Type1 /BaseFont /${FONTS[key]} /Encoding /WinAnsiEncoding >>`,
      ),
    }));
    const fontDict = fontRefs.map(({ key, ref }) => `/${key} ${ref} 0 R`).join(' ');
    const pageRefs: number[] = [];
    const total = this.pages.length;
    this.pages.forEach((ops, index) => {
      const footer = `${this.options.footer} · page ${index + 1} of ${total}`;
      const content = [
        ...ops,
        `BT /F1 8 Tf ${MARGIN} ${FOOTER_Y} Td ${pdfString(footer)} Tj ET`,
      ].join('\n');
      const contentRef = add(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
      pageRefs.push(
        add(
          `<< /Type /Page /Parent ${pagesRef} 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] ` +
            `/Resources << /Font << ${fontDict} >> >> /Contents ${contentRef} 0 R >>`,
        ),
      );
    });
    objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesRef} 0 R >>`;
    objects[pagesRef - 1] =
      `<< /Type /Pages /Kids [${pageRefs.map((ref) => `${ref} 0 R`).join(' ')}] /Count ${pageRefs.length} >>`;
    const created = (this.options.createdAt ?? new Date())
      .toISOString()
      .replace(/[-:T]/g, '')
      .slice(0, 14);
    const info = add(
      `<< /Title ${pdfString(this.options.title)} /Producer (Custody) /CreationDate (D:${created}Z) >>`,
    );

    let file = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n';
    const offsets: number[] = [];
    objects.forEach((body, index) => {
      offsets.push(file.length);
      file += `${index + 1} 0 obj\n${body}\nendobj\n`;
    });
    const xref = file.length;
    file += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
    for (const offset of offsets) file += `${String(offset).padStart(10, '0')} 00000 n \n`;
    file += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return new Uint8Array(Buffer.from(file, 'latin1'));
  }
}
