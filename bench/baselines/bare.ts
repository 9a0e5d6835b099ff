// Baseline (a): the HTTP ceiling of Fastify on this machine: parse, hash, answer, no database.
import { serveBaseline } from './server';

void serveBaseline(() => Promise.resolve({ ok: true }));
