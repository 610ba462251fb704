import { expect } from 'vitest';

// Tests only: reading back what pdf-writer.ts wrote, without a PDF library.

/** The file as Latin-1 text, one character per byte. */
export function textOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

/** Checks the cross-reference table against the objects it points at; returns the object count. */
export function checkPdfStructure(bytes: Uint8Array): number {
  const file = textOf(bytes);
  expect(file.startsWith('%PDF-1.4\n')).toBe(true);
  expect(file.endsWith('%%EOF\n')).toBe(true);
  const startxref = /startxref\n(\d+)\n%%EOF\n$/.exec(file);
  const xrefAt = Number(startxref?.[1]);
  expect(file.slice(xrefAt, xrefAt + 5)).toBe('xref\n');
  const header = /^xref\n0 (\d+)\n/.exec(file.slice(xrefAt));
  const size = Number(header?.[1]);
  const entries = file
    .slice(xrefAt + (header?.[0].length ?? 0))
    .split('\n')
    .slice(0, size);
  expect(entries[0]).toBe('0000000000 65535 f ');
  for (let index = 1; index < size; index += 1) {
    const offset = Number(entries[index]?.slice(0, 10));
    expect(file.slice(offset, offset + `${index} 0 obj`.length)).toBe(`${index} 0 obj`);
  }
  // Every stream's /Length is its exact byte count.
  for (const match of file.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    expect(file.slice(start + Number(match[1]), start + Number(match[1]) + 10)).toBe('\nendstream');
  }
  return size - 1;
}

/** The text shown by Tj operators, escapes decoded (WinAnsi ≈ Latin-1 for these tests). */
export function shownText(bytes: Uint8Array): string {
  const file = textOf(bytes);
  const parts: string[] = [];
  for (const match of file.matchAll(/\(((?:\\.|[^\\)])*)\) Tj/g)) {
    parts.push(
      (match[1] ?? '')
        .replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
        .replace(/\\(.)/g, '$1'),
    );
  }
  return parts.join('\n');
}
