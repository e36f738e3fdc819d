/**
 * Room and user lifecycle events, each published once per transition for the whole cluster
 * (by the instance whose presence write made it). Subscribe in any provider:
 *
 *   @OnEvent(LifecycleEvent.RoomOccupied)
 *   startFeed({ room }: LifecyclePayload) { … }
 */
export const LifecycleEvent = {
  /** A room's first user arrived (it had nobody, on any instance). */
  RoomOccupied: 'room.occupied',
  /** A room's last user left, or vanished with a crashed instance. */
  RoomVacated: 'room.vacated',
  /** A user's first `/chat` connection, on any instance. */
  UserOnline: 'user.online',
  /** A user's last `/chat` connection went, or vanished with a crashed instance. */
  UserOffline: 'user.offline',
} as const;

export type LifecycleEventName = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

export interface LifecyclePayload {
  readonly name: LifecycleEventName;
  readonly room?: string;
  readonly userId?: string;
  /** When this instance saw the transition. */
  readonly time_ms: number;
}
