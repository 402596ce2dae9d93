import { AgentError } from '../errors.ts';

/** How much of a received value a message echoes: a spec is read every cycle and its messages are logged every cycle. */
const echoLimit = 200;

/** What a message shows of a received value: JSON, cut short. */
export function received(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > echoLimit ? `${text.slice(0, echoLimit)}...` : text;
}

/** A refused spec: the file, the field, what it must be and (where it is safe to echo) what it holds. */
export function specError(where: string, field: string, want: string, ...got: [] | [unknown]): AgentError {
  const tail = got.length ? `, got ${received(got[0])}` : '';
  return new AgentError('WN_ERR_CONFIG', `--spec ${where}: "${field}" must be ${want}${tail}`);
}
