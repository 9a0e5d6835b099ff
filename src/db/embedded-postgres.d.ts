export interface EmbeddedOptions {
  dataDir?: string;
  port?: number;
  database?: string;
}
export function ensure(options?: EmbeddedOptions): {
  url: string;
  startedHere: boolean;
  port: number;
  dataDir: string;
};
export function stop(options?: EmbeddedOptions, mode?: 'smart' | 'fast' | 'immediate'): boolean;
export function isRunning(options?: EmbeddedOptions): boolean;
export function urlFor(options: Required<EmbeddedOptions>, database?: string): string;
export function waitForPort(port: number, timeoutMs?: number): Promise<void>;
/** Start-up failed for a reason its message explains (a port in use, the server's own log). */
export class EmbeddedPostgresError extends Error {}
