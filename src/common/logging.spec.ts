import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../config/app-config';
import { loggerParams, requestId } from './logging';

describe(loggerParams.name, () => {
  const options = (env: Record<string, string>) => {
    const { pinoHttp } = loggerParams(loadConfig(env));
    return Array.isArray(pinoHttp) ? { ...pinoHttp[0], stream: pinoHttp[1] } : pinoHttp;
  };

  it.each([
    ['fatal', 'fatal'],
    ['error', 'error'],
    ['warn', 'warn'],
    ['log', 'info'],
    ['debug', 'debug'],
    ['verbose', 'trace'],
    ['silent', 'silent'],
  ])('maps LOG_LEVEL=%s to pino level %s', (level, pino) => {
    expect(options({ LOG_LEVEL: level, LOG_FORMAT: 'json' })).toMatchObject({ level: pino });
  });

  it('redacts credentials', () => {
    const sut = options({ LOG_FORMAT: 'json' }) as { redact: { paths: string[] } };
    expect(sut.redact.paths).toEqual(
      expect.arrayContaining(['req.headers.authorization', 'req.headers.cookie']),
    );
  });

  it('writes JSON in production, or when asked, and pretty lines when asked', () => {
    expect(options({ LOG_FORMAT: 'json' })).not.toHaveProperty('stream');
    expect(options({ LOG_FORMAT: 'auto', NODE_ENV: 'production' })).not.toHaveProperty('stream');
    expect(options({ LOG_FORMAT: 'pretty' })).toHaveProperty('stream');
  });
});

describe(requestId.name, () => {
  const sut = (header?: string) =>
    requestId({
      headers: header === undefined ? {} : { 'x-request-id': header },
    } as IncomingMessage);

  it("keeps the caller's id when it looks like one", () => {
    expect(sut('cometchat-7f3a:retry.2')).toBe('cometchat-7f3a:retry.2');
  });

  it.each([undefined, '', 'x'.repeat(129), 'two words', 'line\nbreak'])(
    'makes a UUID for %j',
    (header) => {
      expect(sut(header)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    },
  );
});
