import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addSecret } from '../output/redact.js';

/** What `opsctl db start` records about the embedded cluster under `.opsctl/pg`. */
export interface EmbeddedState {
  port: number;
  user: string;
  password: string;
  database: string;
}

export function embeddedDir(root: string): string {
  return join(root, '.opsctl', 'pg');
}

export function embeddedStateFile(root: string): string {
  return join(embeddedDir(root), 'opsctl.json');
}

export function readEmbeddedState(root: string): EmbeddedState | undefined {
  const file = embeddedStateFile(root);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedState;
    addSecret(state.password);
    return state;
  } catch {
    return undefined;
  }
}

export function embeddedUrl(state: EmbeddedState): string {
  return `postgres://${state.user}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${state.database}`;
}
