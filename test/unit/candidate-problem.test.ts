import { describe, expect, it } from 'vitest';
import { candidateProblem } from '../../src/deploy/candidate.js';

const tail = [
  '2026-11-29T17:40:02.100+00:00: listening on 43917',
  '2026-11-29T17:40:05.101+00:00: /srv/app/server.js:9',
  '2026-11-29T17:40:05.101+00:00: TypeError: late crash after listen',
  '2026-11-29T17:40:05.102+00:00:     at Timeout._onTimeout (/srv/app/server.js:9:27)',
];

describe('candidateProblem', () => {
  it('names an exited candidate and its error, not PM2 ids', () => {
    expect(candidateProblem('instance 4 is stopped (0 restarts)', tail)).toBe(
      'the candidate exited (TypeError: late crash after listen)',
    );
  });
  it('names a candidate that stopped listening, not its scratch port', () => {
    expect(candidateProblem('nothing listens on port 43917 after it was healthy', tail)).toBe(
      'the candidate stopped listening after it was healthy (TypeError: late crash after listen)',
    );
  });
  it('keeps other problems and does not repeat an error already named', () => {
    expect(candidateProblem('the release failed to load its code (TypeError: late crash after listen)', tail)).toBe(
      'the release failed to load its code (TypeError: late crash after listen)',
    );
    expect(candidateProblem('GET /api/products answered 500', [])).toBe('GET /api/products answered 500');
  });
});
