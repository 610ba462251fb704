/** The visible text of a CGI HTML page (`<body …>text</body>`), whitespace collapsed. */
export function htmlText(html: string): string {
  const bodyStart = /<body[^>]*>/i.exec(html);
  let text = html;
  if (bodyStart !== null) {
    text = html.slice(bodyStart.index + bodyStart[0].length);
    const bodyEnd = text.search(/<\/body>/i);
    if (bodyEnd !== -1) text = text.slice(0, bodyEnd);
  }
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The reason after `Error:` in a CGI text reply (errors arrive with HTTP 200, §7.4). */
export function cgiErrorMessage(text: string): string | undefined {
  const match = /(?:^|\s)Error:\s*(.*)$/.exec(text);
  return match === null ? undefined : (match[1] ?? '').trim();
}
