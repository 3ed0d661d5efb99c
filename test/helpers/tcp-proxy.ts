/**
 * A local port that refuses connections until told to forward them to a real server (PostgreSQL,
 * Kafka): the "server appears late" of the status tests (test/integration/status-connecting.test.ts),
 * with nothing mocked on either side. Bytes are copied both ways unchanged.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class LateServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly port: number) {}

  /** A port on 127.0.0.1 that nothing listens on (yet). */
  static async reserve(): Promise<LateServer> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return new LateServer(port);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** From now on, connections to the port reach `target` ("host:port"). */
  async forwardTo(target: string): Promise<void> {
    const cut = target.lastIndexOf(':');
    const host = target.slice(0, cut);
    const port = Number(target.slice(cut + 1));
    const server = createServer((client) => {
      const upstream = connect(port, host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops listening and cuts the connections forwarded so far. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
