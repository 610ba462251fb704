/** The per-field messages the server attached to a failed tRPC call (see errorFormatter). */
export function fieldErrorsFrom(error: unknown): Record<string, string[]> {
  const data = (error as { data?: { fieldErrors?: unknown } } | null)?.data;
  const fieldErrors = data?.fieldErrors;
  return fieldErrors && typeof fieldErrors === 'object'
    ? (fieldErrors as Record<string, string[]>)
    : {};
}

/** A text field's value from a submitted form ('' when absent). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
