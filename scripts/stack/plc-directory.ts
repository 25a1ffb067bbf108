// A real PLC directory (@did-plc/server, in-memory database) on loopback: the stack's directory when
// CANOPY_PLC_URL is not set, and the tests' directory.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PlcDirectory {
  /** By name, not IP: the reference PDS fetches DID documents with a client that refuses IP hosts. */
  url: string;
  close(): Promise<void>;
}

export async function startPlcDirectory(opts: { port?: number } = {}): Promise<PlcDirectory> {
  const { PlcServer, Database } = await import('@did-plc/server');
  const plc = PlcServer.create({ db: Database.mock() });
  // Our own listener: the package's start() binds every interface, the stack and tests use loopback only.
  const server = http.createServer(plc.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => plc.ctx.db.close()),
  };
}
