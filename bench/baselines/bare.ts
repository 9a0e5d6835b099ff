// Baseline (a): the HTTP ceiling of Fastify on this machine: parse, hash, answer, no database;
// and a bare GET route shaped like the presence query, for the read side.
import { serveBaseline } from './server';

void serveBaseline(
  () => Promise.resolve({ ok: true }),
  undefined,
  (app) =>
    app.get<{ Params: { uid: string } }>('/users/:uid/presence', (request) =>
      Promise.resolve({ uid: request.params.uid, status: 'offline' }),
    ),
);
