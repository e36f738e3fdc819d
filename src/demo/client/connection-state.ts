/** What the status line shows; one variant for each thing a socket.io client goes through. */
export type ConnectionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly transport: string }
  | { readonly kind: 'reconnecting'; readonly attempt: number }
  | { readonly kind: 'disconnected'; readonly reason: string }
  | { readonly kind: 'unauthorized'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string };

export function describeState(state: ConnectionState): string {
  switch (state.kind) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return `connected (${state.transport})`;
    case 'reconnecting':
      return `reconnecting, attempt ${state.attempt}`;
    case 'disconnected':
      return `disconnected: ${state.reason}`;
    case 'unauthorized':
      return `unauthorized: ${state.reason}`;
    case 'refused':
      return `refused (${state.code}): ${state.reason}`;
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected connection state ${JSON.stringify(value)}`);
}
