import { describe, expect, it } from 'vitest';
import { checkPdfStructure, shownText, textOf } from './pdf-test-support.ts';
import { PdfDocument, textWidth, wrapText } from './pdf-writer.ts';

describe('wrapText', () => {
  it('keeps every line within the width and loses no word', () => {
    const text = 'The camera was reset with the owner’s approval and recommissioned. '.repeat(8);
    const lines = wrapText(text, 'F1', 10, 200);
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(textWidth(line, 'F1', 10)).toBeLessThanOrEqual(200);
    expect(lines.join(' ').split(/\s+/).filter(Boolean)).toEqual(text.split(/\s+/).filter(Boolean));
  });

  it('breaks a word longer than the line', () => {
    const hash = 'a'.repeat(64);
    const lines = wrapText(hash, 'F3', 10, 100);
    expect(lines.join('')).toBe(hash);
    for (const line of lines) expect(textWidth(line, 'F3', 10)).toBeLessThanOrEqual(100);
  });

  it('keeps explicit line breaks', () => {
    expect(wrapText('one\ntwo', 'F1', 10, 500)).toEqual(['one', 'two']);
  });
});

describe('PdfDocument', () => {
  it('writes a PDF whose cross-reference table points at its objects', () => {
    const pdf = new PdfDocument({ title: 'Test', footer: 'Custody test' });
    pdf.title('Handover (test)');
    pdf.field('Serial', 'ACCC8E123456');
    const bytes = pdf.toBytes();
    expect(checkPdfStructure(bytes)).toBeGreaterThanOrEqual(7);
    expect(shownText(bytes)).toContain('Handover (test)');
    expect(shownText(bytes)).toContain('ACCC8E123456');
  });

  it('flows long content onto more pages, numbering them in the footer', () => {
    const pdf = new PdfDocument({ title: 'Long', footer: 'Long document' });
    for (let index = 0; index < 200; index += 1) pdf.paragraph(`Line ${index} of the timeline.`);
    const bytes = pdf.toBytes();
    expect(pdf.pageCount).toBeGreaterThan(2);
    checkPdfStructure(bytes);
    expect(textOf(bytes)).toContain(`/Count ${pdf.pageCount}`);
    expect(shownText(bytes)).toContain(`Long document · page ${pdf.pageCount} of ${pdf.pageCount}`);
    expect(shownText(bytes)).toContain('Line 199 of the timeline.');
  });

  it('escapes PDF syntax in text and writes characters the fonts lack as "?"', () => {
    const pdf = new PdfDocument({ title: 'Escapes', footer: 'x' });
    pdf.paragraph('a) b( c\\ Café – 東京');
    const bytes = pdf.toBytes();
    checkPdfStructure(bytes);
    expect(shownText(bytes)).toContain('a) b( c\\ Café \u0096 ??');
    // Only ASCII after the binary marker line: the escapes carry everything else.
    const body = textOf(bytes).split('\n').slice(2).join('\n');
    expect([...body].every((char) => char.charCodeAt(0) < 0x80)).toBe(true);
  });
});
