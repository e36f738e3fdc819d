import { Injectable, Scope, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { AuthUser } from '../../auth/auth-user.js';
import { LoggingModule } from '../../logging/logging.module.js';
import { RoomAccess, RULE_TIMEOUT_MS } from './room-access.js';
import { RoomAccessModule } from './room-access.module.js';
import { type RoomAccessRule, RoomRule } from './room-access-rule.js';

type Allows = RoomAccessRule['allows'];

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly room?: string;
  readonly userId?: string;
  readonly rule?: string;
}

/** A `@RoomRule(prefix)` provider class named `name` whose `allows` is the function given. */
function ruleClass(prefix: string, allows: Allows, name = 'TestRule'): Type {
  @RoomRule(prefix)
  @Injectable()
  class Rule implements RoomAccessRule {
    allows(user: AuthUser, room: string): boolean | Promise<boolean> {
      return allows(user, room);
    }
  }
  Object.defineProperty(Rule, 'name', { value: name });
  return Rule;
}

const user = (id: string, rooms?: string[]): AuthUser => ({
  id,
  name: id,
  expiresAt: Date.now() + 60_000,
  ...(rooms && { rooms: Object.freeze(rooms) }),
});

const alice = user('alice');

describe('RoomAccess', () => {
  let moduleRef: TestingModule | undefined;
  let logs: LogLine[];

  /** RoomAccess in a module of its own, with the rule classes given as providers. */
  async function accessWith(...providers: Type[]): Promise<RoomAccess> {
    if (moduleRef) throw new Error('one RoomAccess per test');
    logs = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    );
    moduleRef = await Test.createTestingModule({
      imports: [LoggingModule.forRoot(logger), RoomAccessModule],
      providers,
    }).compile();
    await moduleRef.init();
    return moduleRef.get(RoomAccess);
  }

  afterEach(async () => {
    jest.useRealTimers();
    await moduleRef?.close();
    moduleRef = undefined;
  });

  describe('with no app rules', () => {
    let access: RoomAccess;
    beforeEach(async () => {
      access = await accessWith();
    });

    it('lets every user into an ordinary room', async () => {
      expect(await access.mayEnter(alice, 'lobby')).toBe(true);
      expect(await access.mayEnter(user('bob'), 'team:ops')).toBe(true);
    });

    it('lets only its two users into a dm room', async () => {
      expect(await access.mayEnter(alice, 'dm:alice:bob')).toBe(true);
      expect(await access.mayEnter(user('bob'), 'dm:alice:bob')).toBe(true);
      expect(await access.mayEnter(user('carol'), 'dm:alice:bob')).toBe(false);
      expect(await access.mayEnter(alice, 'dm:alice')).toBe(false);
    });

    it('lets into a private room only the users whose claim matches it', async () => {
      expect(await access.mayEnter(alice, 'private:ops')).toBe(false);
      expect(await access.mayEnter(user('bob', ['private:o*']), 'private:ops')).toBe(true);
      expect(await access.mayEnter(user('bob', ['private:hr']), 'private:ops')).toBe(false);
    });

    it('refuses everyone a name that is not a room name', async () => {
      for (const room of ['', 'x'.repeat(65), 'lobby two', 'lobby/2', 'é', 'dm:a b:c']) {
        expect(await access.mayEnter(alice, room)).toBe(false);
      }
    });

    it('answers synchronously, with no promise, when no app rule applies', () => {
      for (const room of ['lobby', 'dm:alice:bob', 'private:ops']) {
        expect(typeof access.mayEnter(alice, room)).toBe('boolean');
      }
    });
  });

  describe('app rules', () => {
    it('are asked for the rooms under their prefix, with the user and the room', async () => {
      const allows = jest.fn<Allows>((who, room) => who.id === 'alice' && room === 'team:ops');
      const access = await accessWith(ruleClass('team:', allows));
      expect(await access.mayEnter(alice, 'team:ops')).toBe(true);
      expect(await access.mayEnter(alice, 'team:hr')).toBe(false);
      expect(await access.mayEnter(user('bob'), 'team:ops')).toBe(false);
      expect(allows).toHaveBeenCalledWith(alice, 'team:ops');
      allows.mockClear();
      expect(await access.mayEnter(alice, 'teams')).toBe(true);
      expect(await access.mayEnter(alice, 'lobby')).toBe(true);
      expect(allows).not.toHaveBeenCalled();
    });

    it('may be sync or async', async () => {
      const access = await accessWith(
        ruleClass('sync:', () => true, 'SyncRule'),
        ruleClass('async:', () => Promise.resolve(true), 'AsyncRule'),
        ruleClass('later:', () => new Promise((resolve) => setTimeout(resolve, 5, false))),
      );
      expect(await access.mayEnter(alice, 'sync:a')).toBe(true);
      expect(await access.mayEnter(alice, 'async:a')).toBe(true);
      expect(await access.mayEnter(alice, 'later:a')).toBe(false);
    });

    it('the longest prefix wins', async () => {
      const access = await accessWith(
        ruleClass('t', () => true, 'T'),
        ruleClass('team:', () => false, 'Team'),
        ruleClass('team:ops-', () => true, 'TeamOps'),
      );
      expect(await access.mayEnter(alice, 'tx')).toBe(true);
      expect(await access.mayEnter(alice, 'team:dev')).toBe(false);
      expect(await access.mayEnter(alice, 'team:ops-1')).toBe(true);
      expect(await access.mayEnter(alice, 'team:ops')).toBe(false);
    });

    it('only true admits', async () => {
      const answers: unknown[] = ['yes', 1, {}, undefined, null, 'true'];
      const access = await accessWith(
        ruleClass('sync:', () => answers[0] as boolean),
        ruleClass('async:', () => Promise.resolve(answers[0] as boolean)),
      );
      for (; answers.length > 0; answers.shift()) {
        expect(await access.mayEnter(alice, 'sync:a')).toBe(false);
        expect(await access.mayEnter(alice, 'async:a')).toBe(false);
      }
      expect(logs).toEqual([]);
    });

    it('for private:, admit whom the claim does not, and are not asked when it does', async () => {
      const allows = jest.fn<Allows>((who) => who.id === 'bob');
      const access = await accessWith(ruleClass('private:', allows));
      expect(await access.mayEnter(user('bob'), 'private:ops')).toBe(true);
      expect(await access.mayEnter(alice, 'private:ops')).toBe(false);
      allows.mockClear();
      expect(await access.mayEnter(user('carol', ['private:*']), 'private:ops')).toBe(true);
      expect(allows).not.toHaveBeenCalled();
    });

    it('within private: the longest prefix wins too', async () => {
      const access = await accessWith(
        ruleClass('p', () => true, 'P'),
        ruleClass('private:', () => false, 'Private'),
        ruleClass('private:open-', () => true, 'PrivateOpen'),
      );
      expect(await access.mayEnter(alice, 'public')).toBe(true);
      expect(await access.mayEnter(alice, 'private:ops')).toBe(false);
      expect(await access.mayEnter(alice, 'private:open-day')).toBe(true);
    });

    it('a rule shorter than private: does not reach private rooms', async () => {
      const access = await accessWith(ruleClass('priv', () => true));
      expect(await access.mayEnter(alice, 'private:ops')).toBe(false);
      expect(await access.mayEnter(alice, 'privy')).toBe(true);
    });

    it('never reach a dm room, however short their prefix', async () => {
      const access = await accessWith(
        ruleClass('d', () => true),
        ruleClass('dm', () => true, 'Dm'),
      );
      expect(await access.mayEnter(user('carol'), 'dm:alice:bob')).toBe(false);
      expect(await access.mayEnter(user('carol'), 'dmz')).toBe(true);
    });
  });

  describe('a failing app rule refuses, and is logged once with the room and user', () => {
    const failure = { level: 50, room: 'team:ops', userId: 'alice', rule: 'TeamRule' };

    it('a sync rule that throws', async () => {
      const access = await accessWith(
        ruleClass(
          'team:',
          () => {
            throw new Error('teams database down');
          },
          'TeamRule',
        ),
      );
      expect(await access.mayEnter(alice, 'team:ops')).toBe(false);
      expect(logs).toEqual([expect.objectContaining(failure)]);
    });

    it('an async rule that rejects', async () => {
      const access = await accessWith(
        ruleClass('team:', () => Promise.reject(new Error('teams database down')), 'TeamRule'),
      );
      expect(await access.mayEnter(alice, 'team:ops')).toBe(false);
      expect(logs).toEqual([expect.objectContaining(failure)]);
    });

    it('a thenable whose then() throws', async () => {
      const access = await accessWith(
        ruleClass(
          'team:',
          () =>
            ({
              then: () => {
                throw new Error('broken');
              },
            }) as never,
          'TeamRule',
        ),
      );
      expect(await access.mayEnter(alice, 'team:ops')).toBe(false);
      expect(logs).toEqual([expect.objectContaining(failure)]);
    });

    it(`a rule with no answer within ${RULE_TIMEOUT_MS} ms; a late answer changes nothing`, async () => {
      let answer: (allowed: boolean) => void = () => undefined;
      const access = await accessWith(
        ruleClass('team:', () => new Promise<boolean>((resolve) => (answer = resolve)), 'TeamRule'),
      );
      jest.useFakeTimers();
      let result: boolean | undefined;
      void Promise.resolve(access.mayEnter(alice, 'team:ops')).then(
        (allowed) => (result = allowed),
      );
      await jest.advanceTimersByTimeAsync(RULE_TIMEOUT_MS - 1);
      expect(result).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(result).toBe(false);
      answer(true);
      await jest.advanceTimersByTimeAsync(RULE_TIMEOUT_MS);
      expect(result).toBe(false);
      expect(logs).toEqual([expect.objectContaining(failure)]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('a rule that rejects after the bound: one log line, no unhandled rejection', async () => {
      let fail: (error: Error) => void = () => undefined;
      const access = await accessWith(
        ruleClass('team:', () => new Promise<boolean>((_, reject) => (fail = reject)), 'TeamRule'),
      );
      jest.useFakeTimers();
      const result = access.mayEnter(alice, 'team:ops');
      await jest.advanceTimersByTimeAsync(RULE_TIMEOUT_MS);
      expect(await result).toBe(false);
      fail(new Error('too late'));
      await jest.advanceTimersByTimeAsync(0);
      expect(logs).toEqual([expect.objectContaining(failure)]);
    });

    it(`an answer just inside ${RULE_TIMEOUT_MS} ms counts, and leaves no timer behind`, async () => {
      const access = await accessWith(
        ruleClass(
          'team:',
          () => new Promise((resolve) => setTimeout(resolve, RULE_TIMEOUT_MS - 1, true)),
        ),
      );
      jest.useFakeTimers();
      const result = access.mayEnter(alice, 'team:ops');
      await jest.advanceTimersByTimeAsync(RULE_TIMEOUT_MS - 1);
      expect(await result).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
      expect(logs).toEqual([]);
    });

    it('other users and rooms are answered while a rule hangs', async () => {
      const access = await accessWith(
        ruleClass('slow:', () => new Promise<boolean>(() => undefined), 'Slow'),
        ruleClass('team:', () => true, 'TeamRule'),
      );
      jest.useFakeTimers();
      const hanging = access.mayEnter(alice, 'slow:1');
      expect(await access.mayEnter(user('bob'), 'team:ops')).toBe(true);
      expect(await access.mayEnter(user('bob'), 'lobby')).toBe(true);
      await jest.advanceTimersByTimeAsync(RULE_TIMEOUT_MS);
      expect(await hanging).toBe(false);
    });
  });

  describe('registration stops the start with a message naming the rule', () => {
    it.each<[string, Type[], RegExp]>([
      [
        'two rules for one prefix',
        [ruleClass('team:', () => true, 'TeamA'), ruleClass('team:', () => true, 'TeamB')],
        /@RoomRule\('team:'\) is on both Team[AB] and Team[AB]/,
      ],
      ['a rule inside dm:', [ruleClass('dm:', () => true, 'Dms')], /@RoomRule\('dm:'\) on Dms/],
      ['a prefix with a space', [ruleClass('team ', () => true, 'Spaced')], /on Spaced: a prefix/],
      ['an empty prefix', [ruleClass('', () => true, 'Empty')], /@RoomRule\(''\) on Empty/],
      ['a prefix of 65 characters', [ruleClass('x'.repeat(65), () => true, 'Long')], /on Long/],
    ])('%s', async (_case, rules, message) => {
      await expect(accessWith(...rules)).rejects.toThrow(message);
    });

    it('a class without allows()', async () => {
      @RoomRule('team:')
      @Injectable()
      class NoAllows {}
      await expect(accessWith(NoAllows)).rejects.toThrow(/on NoAllows: .*allows\(user, room\)/);
    });

    it('a request-scoped rule', async () => {
      @RoomRule('team:')
      @Injectable({ scope: Scope.REQUEST })
      class PerRequest implements RoomAccessRule {
        allows(): boolean {
          return true;
        }
      }
      await expect(accessWith(PerRequest)).rejects.toThrow(/on PerRequest: .*singleton/);
    });
  });
});
