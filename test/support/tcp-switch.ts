import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

const HOST = '127.0.0.1';

export interface TcpSwitch {
  /** The port clients connect to. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Where NEW connections go from now on; live ones stay where they are. */
  switchTo(port: number): void;
  /** Destroys every live connection, both sides: a socket.io client sees "transport close". */
  cutAll(): void;
  /** Stops listening and destroys everything still open. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free port that forwards each new connection to the current target, the
 * way a load balancer sends a reconnecting client to another instance.
 */
export async function startTcpSwitch(targetPort: number): Promise<TcpSwitch> {
  let target = targetPort;
  const pairs = new Set<readonly [Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: HOST, port: target });
    const pair = [client, upstream] as const;
    pairs.add(pair);
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.once('close', teardown);
      // A reset is how a cut ends; the 'close' that follows tears the pair down.
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const cutAll = (): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of pair) socket.destroy();
    }
  };
  return {
    port,
    url: `http://${HOST}:${port}`,
    switchTo: (next) => void (target = next),
    cutAll,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      cutAll();
      await closed;
    },
  };
}
