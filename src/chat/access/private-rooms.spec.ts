import type { AuthUser } from '../../auth/auth-user.js';
import { claimAdmits, matchesPattern } from './private-rooms.js';

const withClaim = (...rooms: string[]): AuthUser => ({
  id: 'alice',
  name: 'Alice',
  expiresAt: Date.now() + 60_000,
  rooms: Object.freeze(rooms),
});

describe('room patterns', () => {
  it('without a star, match exactly that name', () => {
    expect(matchesPattern('private:ops', 'private:ops')).toBe(true);
    expect(matchesPattern('private:ops', 'private:ops2')).toBe(false);
    expect(matchesPattern('private:ops', 'private:op')).toBe(false);
    expect(matchesPattern('private:ops', 'xprivate:ops')).toBe(false);
  });

  it('* matches any run of characters, the empty one included', () => {
    expect(matchesPattern('private:team-*', 'private:team-')).toBe(true);
    expect(matchesPattern('private:team-*', 'private:team-red.blue:2')).toBe(true);
    expect(matchesPattern('private:team-*', 'private:teams')).toBe(false);
    expect(matchesPattern('private:*-eu', 'private:ops-eu')).toBe(true);
    expect(matchesPattern('private:*-eu', 'private:ops-eu2')).toBe(false);
  });

  it('private:* matches every private room; private:a*b only names from a to b', () => {
    for (const room of ['private:', 'private:a', 'private:zz:top']) {
      expect(matchesPattern('private:*', room)).toBe(true);
    }
    expect(matchesPattern('private:a*b', 'private:ab')).toBe(true);
    expect(matchesPattern('private:a*b', 'private:a-to-b')).toBe(true);
    for (const room of ['private:a', 'private:b', 'private:ba', 'private:abc', 'private:xab']) {
      expect(matchesPattern('private:a*b', room)).toBe(false);
    }
  });

  it('several stars: the parts in order, none overlapping', () => {
    expect(matchesPattern('private:*a*b*', 'private:xaybz')).toBe(true);
    expect(matchesPattern('private:*a*b*', 'private:xbyaz')).toBe(false);
    expect(matchesPattern('private:ab*ba', 'private:aba')).toBe(false);
    expect(matchesPattern('private:ab*ba', 'private:abba')).toBe(true);
    expect(matchesPattern('private:a**b', 'private:ab')).toBe(true);
    expect(matchesPattern('private:a*b*bc', 'private:abc')).toBe(false);
    expect(matchesPattern('private:a*b*bc', 'private:abbc')).toBe(true);
  });

  it.each([
    ['private:.*', ['private:x', 'private:ops'], ['private:.', 'private:.x']],
    ['private:a+', ['private:a', 'private:aa'], ['private:a+']],
    ['private:[a-z]*', ['private:a', 'private:b'], ['private:[a-z]', 'private:[a-z]x']],
    ['private:(a|b)', ['private:a', 'private:b'], ['private:(a|b)']],
    ['private:a?', ['private:a', 'private:ab'], ['private:a?']],
    ['private:^a$', ['private:a'], ['private:^a$']],
    ['private:\\d', ['private:1', 'private:d'], ['private:\\d']],
    ['private:a{2}', ['private:aa'], ['private:a{2}']],
    ['[', ['private:a', 'private:['], ['[']],
  ])('%s is literal apart from its stars', (pattern, outside, inside) => {
    for (const room of outside) expect(matchesPattern(pattern, room)).toBe(false);
    for (const room of inside) expect(matchesPattern(pattern, room)).toBe(true);
  });

  it('a pattern full of stars is answered at once (no backtracking)', () => {
    // As a regular expression this pattern takes seconds on this name.
    const pattern = `private:${'*a'.repeat(6)}*b`;
    const room = `private:${'a'.repeat(56)}`;
    const started = performance.now();
    expect(matchesPattern(pattern, room)).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('the rooms claim', () => {
  it('admits to the private rooms one of its patterns matches', () => {
    const user = withClaim('private:ops', 'private:team-*');
    expect(claimAdmits(user, 'private:ops')).toBe(true);
    expect(claimAdmits(user, 'private:team-red')).toBe(true);
    expect(claimAdmits(user, 'private:hr')).toBe(false);
  });

  it('admits nobody without a claim, or with an empty one', () => {
    expect(claimAdmits({ id: 'bob', name: 'Bob', expiresAt: 0 }, 'private:ops')).toBe(false);
    expect(claimAdmits(withClaim(), 'private:ops')).toBe(false);
  });

  it('uses only patterns that start with private: (the rest are for the app)', () => {
    for (const pattern of ['*', 'ops', '*ops', '*:ops', 'private*', 'Private:ops', 'team-*']) {
      expect(claimAdmits(withClaim(pattern), 'private:ops')).toBe(false);
    }
  });

  it('opens nothing more with patterns written as regular expressions', () => {
    const user = withClaim('private:.*', 'private:a+', 'private:[a-z]*', '[', 'private:(', '.*');
    for (const room of ['private:ops', 'private:a', 'private:aa', 'private:x']) {
      expect(claimAdmits(user, room)).toBe(false);
    }
  });

  it('answers for each token by its own claim', () => {
    const ops = withClaim('private:ops');
    const hr = withClaim('private:hr');
    expect(claimAdmits(ops, 'private:ops')).toBe(true);
    expect(claimAdmits(hr, 'private:ops')).toBe(false);
    expect(claimAdmits(ops, 'private:hr')).toBe(false);
    expect(claimAdmits(hr, 'private:hr')).toBe(true);
  });
});
