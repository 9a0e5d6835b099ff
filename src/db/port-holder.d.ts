export function portHolder(
  port: number,
): { pid: number; command: string | null; others: number } | null;
export function describeHolder(port: number): string;
export function isPortTaken(port: number, host?: string): boolean;
export function freePortNear(port: number, host?: string): number;
