import { describe, expect, it } from 'vitest';
import { isSecretEnvName } from '../../src/audit/code/rules.js';

describe('isSecretEnvName (README, "`opsctl audit`", code audit)', () => {
  it('a secret word, with a last word that is not about the secret', () => {
    const secret = ['ENCRYPTION_KEY', 'JWT_SECRET', 'DB_PASS', 'DB_PW', 'SECRET_KEY_BASE', 'APIKEY', 'STRIPE_KEY'];
    const plain = ['TOKEN_TTL', 'CACHE_KEY_PREFIX', 'KEYBOARD_LAYOUT', 'PASSWORD_RESET_URL', 'AWS_ACCESS_KEY_ID'];
    expect(secret.filter((n) => !isSecretEnvName(n))).toEqual([]);
    expect([...plain, 'PASSPORT_STRATEGY', 'MONKEY_MODE', 'PORT'].filter(isSecretEnvName)).toEqual([]);
    expect(isSecretEnvName('jwtSecret')).toBe(true);
    expect(isSecretEnvName('PRIVATE_KEY_PATH')).toBe(false);
  });
});
