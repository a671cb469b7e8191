import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Core } from '../../app/core.js';
import { hostAllowed, newToken, originAllowed, tokenMatches } from './auth.js';
import { serveStatic } from './static-files.js';
import { attachSocket } from './socket-session.js';
import { attachDisplay, DISPLAY_PATH, displaySideOf } from './display-socket.js';
import { LockstepError } from '../../contract/index.js';

export interface WebServer {
  url: string;
  /** the URL to open: carries the per-launch token in the fragment (never sent to the server) */
  appUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export interface WebServerOptions {
  staticDir: string;
  port?: number;
  token?: string;
}

/** Web mode: the renderer and a WebSocket API on 127.0.0.1, token- and Origin-checked. */
export async function startWebServer(core: Core, opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const root = resolve(opts.staticDir);
  let port = 0;
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, port)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request');
      return;
    }
    // a page of another site gets nothing from us, not even the renderer (a navigation sends no Origin)
    if (!originAllowed(req.headers.origin, port)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden origin');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    serveStatic(root, req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
    };
    if (url.pathname !== '/api' && url.pathname !== DISPLAY_PATH) return refuse(404, 'Not Found');
    // the same checks for the API and a VM's screen: our own page, this launch's token
    if (!hostAllowed(req.headers.host, port)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(req.headers.origin, port)) return refuse(403, 'Forbidden origin');
    if (!tokenMatches(token, url.searchParams.get('token'))) return refuse(401, 'Unauthorized: missing or wrong token');
    let side: 'primary' | 'secondary' | undefined;
    if (url.pathname === DISPLAY_PATH) {
      try {
        side = displaySideOf(url.searchParams);
      } catch (e) {
        return refuse(400, (e as LockstepError).message);
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      if (side) void attachDisplay(core, ws, side);
      else attachSocket(core, ws);
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    appUrl: `${url}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
