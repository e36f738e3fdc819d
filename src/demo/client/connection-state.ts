/** What the status line shows; one variant for each thing a socket.io client goes through. */
export type ConnectionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly transport: string }
  | { readonly kind: 'reconnecting'; readonly attempt: number }
  /** An attempt failed (server down or refusing connections); the client tries again. */
  | { readonly kind: 'unreachable'; readonly attempt: number }
  /** `willRetry`: the client reconnects by itself (a transport close, not a server's or the user's decision). */
  | { readonly kind: 'disconnected'; readonly reason: string; readonly willRetry: boolean }
  /** The server refused the token; the page is getting a new one. */
  | { readonly kind: 'renewing'; readonly reason: string }
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
    case 'unreachable':
      return `server unreachable (attempt ${state.attempt}); retrying…`;
    case 'disconnected':
      return `disconnected: ${state.reason}`;
    case 'renewing':
      return `token refused (${state.reason}); minting a new one…`;
    case 'unauthorized':
      return `unauthorized (${state.reason}): a new token is needed`;
    case 'refused':
      return `refused (${state.code}): ${state.reason}`;
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected connection state ${JSON.stringify(value)}`);
}
