import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { confirm } from '../../commands/shared/confirm.js';

function ask(answer: string | null): Promise<{ yes: boolean; prompt: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let prompt = '';
  output.on('data', (d) => {
    prompt += String(d);
  });
  const result = confirm('Revert 1 migration(s): 0002_b?', { input, output });
  if (answer === null) input.end();
  else input.write(answer);
  return result.then((yes) => ({ yes, prompt }));
}

describe('rollback confirmation', () => {
  it('asks on the given stream and takes y / yes as consent', async () => {
    expect(await ask('y\n')).toEqual({ yes: true, prompt: 'Revert 1 migration(s): 0002_b? (y/N) ' });
    expect((await ask('YES\n')).yes).toBe(true);
  });
  it('anything else, an empty answer or a closed input is a no', async () => {
    expect((await ask('n\n')).yes).toBe(false);
    expect((await ask('\n')).yes).toBe(false);
    expect((await ask('sure\n')).yes).toBe(false);
    expect((await ask(null)).yes).toBe(false);
  });
});
