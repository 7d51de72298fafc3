/**
 * A TCP proxy in front of a JSON-RPC endpoint, for outage tests: `stop()` closes the listening socket and kills
 * every open connection (the client sees ECONNRESET, then ECONNREFUSED), `start()` listens again on the same port.
 * Plain node:net: it forwards bytes and understands nothing of HTTP.
 */
import net from "node:net";

export class RpcProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private boundPort: number;
  /** Connections accepted since construction (all starts). */
  connections = 0;

  /**
   * @param target where to forward (the `hardhat node`)
   * @param port the port to listen on; 0 picks a free one at the first start and keeps it for restarts
   */
  constructor(
    private readonly target: { host: string; port: number },
    port = 0,
  ) {
    this.boundPort = port;
  }

  /** The proxy's port (after the first start). */
  get port(): number {
    return this.boundPort;
  }

  /** The proxy's JSON-RPC URL. */
  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Whether the proxy is listening. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Starts listening (on the same port as before after a stop); resolves with the port. */
  async start(): Promise<number> {
    if (this.server) return this.boundPort;
    const server = net.createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.boundPort, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this.boundPort;
  }

  /** Stops listening and destroys every open connection at once (an abrupt outage, not a graceful close). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private forward(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
