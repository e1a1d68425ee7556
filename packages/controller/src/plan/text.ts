/** Input quoted in a reason: at most 64 characters of it, so an Event stays readable whatever was written. */
export function quote(text: string): string {
  const json = JSON.stringify(text);
  return json.length <= 66 ? json : `${json.slice(0, 60)}…" (${text.length} characters)`;
}

/** Any value quoted the same way (numbers, lists, objects as JSON). */
export function quoteValue(value: unknown): string {
  return typeof value === 'string' ? quote(value) : quote(JSON.stringify(value) ?? String(value)).slice(1, -1);
}
