import { jest } from '@jest/globals';
import { runningTimeout, STALL_MS } from './running-time.js';
import { checkPhase, elapse, stall } from '../../test/support/loop-turns.js';

describe('runningTimeout', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('fires once after ms, not before', async () => {
    const fire = jest.fn();
    runningTimeout(fire, 1000);
    await elapse(999);
    expect(fire).not.toHaveBeenCalled();
    await elapse(1);
    expect(fire).toHaveBeenCalledTimes(1);
    await elapse(2000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('never fires once cancelled before it falls due', async () => {
    const fire = jest.fn();
    const timeout = runningTimeout(fire, 1000);
    await elapse(500);
    timeout.cancel();
    await elapse(2000);
    expect(fire).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fires after the I/O read in the loop turn it falls due in, not from the timer itself', async () => {
    const events: string[] = [];
    runningTimeout(() => events.push('fire'), 1000);
    jest.advanceTimersByTime(1000);
    // The timer fell due in this turn's timers phase; this is the turn's I/O.
    events.push('io');
    await checkPhase();
    expect(events).toEqual(['io', 'fire']);
  });

  it('an answer read in the loop turn it falls due in still cancels it', async () => {
    const fire = jest.fn();
    const timeout = runningTimeout(fire, 1000);
    jest.advanceTimersByTime(1000);
    // Due, but the awaited answer was waiting in this turn's I/O.
    timeout.cancel();
    await checkPhase();
    await elapse(2000);
    expect(fire).not.toHaveBeenCalled();
  });

  it('a timer that falls due more than STALL_MS late starts over for its full ms', async () => {
    const fire = jest.fn();
    runningTimeout(fire, 1000);
    await elapse(400);
    // Due at 1000, it falls due at 1900: 900 ms late.
    await stall(1500);
    expect(fire).not.toHaveBeenCalled();
    await elapse(999);
    expect(fire).not.toHaveBeenCalled();
    await elapse(1);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('a timer late by STALL_MS still fires; one millisecond later is a stall', async () => {
    const onTime = jest.fn();
    runningTimeout(onTime, 1000);
    await stall(1000 + STALL_MS);
    expect(onTime).toHaveBeenCalledTimes(1);

    const late = jest.fn();
    runningTimeout(late, 1000);
    await stall(1000 + STALL_MS + 1);
    expect(late).not.toHaveBeenCalled();
    await elapse(1000);
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('starts over only once: a process that is late again still gets its deadline', async () => {
    const fire = jest.fn();
    runningTimeout(fire, 1000);
    await stall(1500);
    expect(fire).not.toHaveBeenCalled();
    // The restarted timer, due at 2500, falls due at 4000: late again, it fires.
    await stall(2500);
    expect(fire).toHaveBeenCalledTimes(1);
    await elapse(2000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('a cancel during the restarted wait stops it', async () => {
    const fire = jest.fn();
    const timeout = runningTimeout(fire, 1000);
    await stall(1500);
    timeout.cancel();
    await elapse(2000);
    expect(fire).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
