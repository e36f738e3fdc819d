import { isDmMember } from './dm-rooms.js';

describe('dm rooms', () => {
  it('admit the two users they name, and no one else', () => {
    expect(isDmMember('dm:alice:bob', 'alice')).toBe(true);
    expect(isDmMember('dm:alice:bob', 'bob')).toBe(true);
    expect(isDmMember('dm:alice:bob', 'carol')).toBe(false);
  });

  it('take ids with dots, underscores and hyphens whole', () => {
    expect(isDmMember('dm:a.b_c-d:e-f.g', 'a.b_c-d')).toBe(true);
    expect(isDmMember('dm:a.b_c-d:e-f.g', 'e-f.g')).toBe(true);
    expect(isDmMember('dm:a.b_c-d:e-f.g', 'a.b')).toBe(false);
  });

  it('dm:a:a is a room for a alone', () => {
    expect(isDmMember('dm:alice:alice', 'alice')).toBe(true);
    expect(isDmMember('dm:alice:alice', 'bob')).toBe(false);
  });

  it('compare ids exactly: no part, prefix, suffix or other case of an id', () => {
    for (const id of ['ali', 'alice2', 'lice', 'bo', 'ob', 'bobby', 'Alice', 'BOB', '']) {
      expect(isDmMember('dm:alice:bob', id)).toBe(false);
    }
    expect(isDmMember('dm:alice:bobby', 'bob')).toBe(false);
    expect(isDmMember('dm:xalice:bob', 'alice')).toBe(false);
  });

  it.each([
    ['dm:', ['', 'dm']],
    ['dm:alice', ['alice']],
    ['dm:alice:', ['alice', '']],
    ['dm::alice', ['alice', '']],
    ['dm::', ['', ':']],
    ['dm:a:b:c', ['a', 'b', 'c', 'a:b', 'b:c']],
    ['dm:alice::bob', ['alice', 'bob', ':bob', 'alice:']],
    ['dmx:alice:bob', ['alice', 'bob']],
    ['xdm:alice:bob', ['alice', 'bob']],
  ])('a malformed name (%s) admits nobody', (room, ids) => {
    for (const id of ids) expect(isDmMember(room, id)).toBe(false);
  });
});
