import type { PresenceState, PresentUser, UserRef } from '../chat.events.js';

/**
 * Who is in which room. A user is present while at least one of their sockets is in the
 * room; `join` and `leave` say when that changes, so the caller announces it exactly once.
 * The in-memory store serves one instance; a Redis store (with TTL) serves a cluster.
 */
export interface PresenceStore {
  /** Resolves to true when this socket is the user's first in the room. */
  join(room: string, user: UserRef, socketId: string): Promise<boolean>;
  /** Resolves to true when this socket was the user's last in the room. */
  leave(room: string, user: UserRef, socketId: string): Promise<boolean>;
  /** Who is present, each with their state if they set one. */
  list(room: string): Promise<PresentUser[]>;
  /** Sets a present user's state; it goes with their presence. False when not present. */
  setState(room: string, userId: string, state: PresenceState): Promise<boolean>;
  /**
   * Users who vanished without leaving (their instance died), per room. The caller announces
   * them with `presence:left`. The in-memory store never has any.
   */
  onUsersGone?(listener: UsersGoneListener): void;
  /** Users present again after the store rewrote lost state (announced as joined). */
  onUsersBack?(listener: UsersGoneListener): void;
  /**
   * A room went from nobody to somebody (`occupied`) or back, on any instance: told once per
   * change, by the store whose write made it.
   */
  onRoomChange(listener: RoomChangeListener): void;
}

export type UsersGoneListener = (room: string, users: UserRef[]) => void;
export type RoomChangeListener = (room: string, occupied: boolean) => void;

export const PRESENCE_STORE = Symbol('PRESENCE_STORE');
