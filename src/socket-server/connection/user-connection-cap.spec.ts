import type { Socket } from 'socket.io';
import { UserConnectionCap } from './user-connection-cap.js';

type Conn = Socket['conn'];
const conn = (): Conn => ({}) as Conn;

describe('UserConnectionCap', () => {
  it('admits a user up to the cap, then refuses a further connection', () => {
    const cap = new UserConnectionCap(3);
    const conns = [conn(), conn(), conn()];
    for (const c of conns) {
      expect(cap.admits('u', c)).toBe(true);
      cap.add('u', c);
    }
    expect(cap.admits('u', conn())).toBe(false);
    expect(cap.admits('someone else', conn())).toBe(true);
  });

  it('a connection already counted is admitted again (another namespace on it)', () => {
    const cap = new UserConnectionCap(1);
    const first = conn();
    cap.add('u', first);
    expect(cap.admits('u', first)).toBe(true);
    cap.add('u', first);
    expect(cap.admits('u', conn())).toBe(false);
  });

  it('with a cap of 1, the only connection leaving lets the next one in', () => {
    const cap = new UserConnectionCap(1);
    const first = conn();
    cap.add('u', first);
    cap.remove('u', first);
    expect(cap.admits('u', conn())).toBe(true);
  });

  it('a connection that leaves frees its place, from a set of several too', () => {
    const cap = new UserConnectionCap(2);
    const [a, b, c] = [conn(), conn(), conn()];
    cap.add('u', a);
    cap.add('u', b);
    expect(cap.admits('u', c)).toBe(false);
    cap.remove('u', a);
    expect(cap.admits('u', c)).toBe(true);
    cap.add('u', c);
    expect(cap.admits('u', conn())).toBe(false);
    cap.remove('u', b);
    cap.remove('u', c);
    expect(cap.admits('u', conn())).toBe(true);
  });

  it('removing a connection that was never counted changes nothing', () => {
    const cap = new UserConnectionCap(1);
    const held = conn();
    cap.add('u', held);
    cap.remove('u', conn());
    cap.remove('nobody', held);
    expect(cap.admits('u', conn())).toBe(false);
  });
});
