import { createManager, FAST_RECONNECTION, RECONNECTION_DEFAULTS } from './reconnection.js';

describe('createManager', () => {
  it('backs off exponentially from 1 s to 5 s, jittered by ±50 %, without limit, and does not connect by itself', () => {
    const manager = createManager('http://127.0.0.1:9');
    expect(manager.reconnection()).toBe(true);
    expect(manager.reconnectionDelay()).toBe(1000);
    expect(manager.reconnectionDelayMax()).toBe(5000);
    expect(manager.randomizationFactor()).toBe(0.5);
    expect(manager.reconnectionAttempts()).toBe(Infinity);
    expect(manager.opts.transports).toEqual(['websocket', 'polling']);
    expect(manager.engine).toBeUndefined();
  });

  it('takes options over the defaults, such as the fast profile for a development server', () => {
    const manager = createManager('http://127.0.0.1:9', FAST_RECONNECTION);
    expect(manager.reconnectionDelay()).toBe(500);
    expect(manager.reconnectionDelayMax()).toBe(2000);
    expect(manager.randomizationFactor()).toBe(RECONNECTION_DEFAULTS.randomizationFactor);
  });
});
