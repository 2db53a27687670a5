import { redactValue } from '../output/redact.js';
import type { WatchEvent } from './types.js';

/** What a sink receives (README, "`opsctl watch`"): `text` for chat webhooks, and the structured fields. */
export interface AlertPayload extends WatchEvent {
  /** One human line: Slack, Mattermost and Discord-compatible incoming webhooks show it as is. */
  text: string;
  app: string;
  host: string;
}

const LABEL: Record<WatchEvent['event'], string> = {
  started: 'watching',
  fail: 'FAIL',
  recover: 'RECOVERED',
  reminder: 'STILL FAILING',
  restart: 'RESTART',
};

/** The payload of an event, redacted as a whole: no secret reaches a webhook or a command's stdin. */
export function alertPayload(event: WatchEvent, app: string, host: string): AlertPayload {
  const hint = event.hint && event.event !== 'recover' ? ` → ${event.hint}` : '';
  const text = `[${app}@${host}] ${LABEL[event.event]} ${event.check}: ${event.message}${hint}`;
  return redactValue({ text, ...event, app, host });
}
