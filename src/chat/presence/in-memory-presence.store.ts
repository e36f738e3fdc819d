import { Injectable } from '@nestjs/common';
import type { PresenceState, PresentUser, UserRef } from '../chat.events.js';
import type { PresenceStore, RoomChangeListener } from './presence.store.js';

interface Member {
  readonly user: UserRef;
  /**
   * The user's one socket in the room, or a set once there are several. Every /chat socket
   * is counted in the online room: a set for one id would cost ~180 bytes per connection.
   */
  sockets: string | Set<string>;
  state?: PresenceState;
}

/** Presence for a single instance: room → user id → that user's sockets in the room. */
@Injectable()
export class InMemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<string, Map<string, Member>>();
  private readonly roomListeners: RoomChangeListener[] = [];

  onRoomChange(listener: RoomChangeListener): void {
    this.roomListeners.push(listener);
  }

  join(room: string, user: UserRef, socketId: string): Promise<boolean> {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    const member = members.get(user.id);
    if (member) {
      if (typeof member.sockets !== 'string') member.sockets.add(socketId);
      else if (member.sockets !== socketId) member.sockets = new Set([member.sockets, socketId]);
      return Promise.resolve(false);
    }
    members.set(user.id, { user, sockets: socketId });
    if (members.size === 1) for (const listener of this.roomListeners) listener(room, true);
    return Promise.resolve(true);
  }

  leave(room: string, user: UserRef, socketId: string): Promise<boolean> {
    const members = this.rooms.get(room);
    const member = members?.get(user.id);
    if (!members || !member || !removeSocket(member, socketId)) return Promise.resolve(false);
    if (typeof member.sockets !== 'string' && member.sockets.size > 0)
      return Promise.resolve(false);
    members.delete(user.id);
    if (members.size === 0) {
      this.rooms.delete(room);
      for (const listener of this.roomListeners) listener(room, false);
    }
    return Promise.resolve(true);
  }

  list(room: string): Promise<PresentUser[]> {
    const members = this.rooms.get(room);
    return Promise.resolve(
      [...(members?.values() ?? [])].map(({ user, state }) =>
        state === undefined ? user : { ...user, state },
      ),
    );
  }

  setState(room: string, userId: string, state: PresenceState): Promise<boolean> {
    const member = this.rooms.get(room)?.get(userId);
    if (member) member.state = state;
    return Promise.resolve(member !== undefined);
  }
}

/** Takes the socket out of the member's; false when it was not there. */
function removeSocket(member: Member, socketId: string): boolean {
  if (typeof member.sockets !== 'string') return member.sockets.delete(socketId);
  return member.sockets === socketId;
}
