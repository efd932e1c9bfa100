// Binding a listening socket (the admin port here, the Canal ports in server/), with a failure
// that says which configured port it was, so the CLI can name the config key (listen.port,
// tls.port, admin.port) instead of printing a stack. Here because observe/ imports nothing.
import type { Server } from 'node:net';

/** Which configured port a socket was for. */
export type ListenRole = 'listen' | 'tls' | 'admin';

export class ListenError extends Error {
  constructor(
    readonly role: ListenRole,
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    cause: Error,
  ) {
    super(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : cause.message}`, { cause });
  }
}

/** Listens and resolves with the bound port (useful with port 0); rejects with a ListenError. */
export async function listenOn(server: Server, role: ListenRole, port: number, host: string): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(role, host, port, err.code, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}
