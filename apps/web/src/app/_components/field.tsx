import type { InputHTMLAttributes } from 'react';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'name'> {
  name: string;
  label: string;
  hint?: string | undefined;
  /** Messages from the server for this field. */
  errors?: string[] | undefined;
  multiline?: boolean;
}

/** A labelled input whose hint and errors are tied to it for assistive technology. */
export function Field({ name, label, hint, errors, multiline, ...input }: FieldProps) {
  const id = `field-${name}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors?.length ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name,
    'aria-invalid': errors?.length ? true : undefined,
    'aria-describedby': describedBy,
  } as const;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <span id={hintId} className="hint">
          {hint}
        </span>
      ) : null}
      {multiline ? (
        <textarea {...common} rows={3} defaultValue={input.defaultValue} />
      ) : (
        <input {...common} {...input} />
      )}
      {errorId ? (
        <span id={errorId} className="field-error">
          {errors?.join(' ')}
        </span>
      ) : null}
    </div>
  );
}
