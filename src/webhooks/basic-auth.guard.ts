import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** CometChat's webhook Basic auth, when WEBHOOK_USERNAME/WEBHOOK_PASSWORD are set. */
@Injectable()
export class BasicAuthGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(config: AppConfig) {
    this.expected =
      config.WEBHOOK_USERNAME && config.WEBHOOK_PASSWORD
        ? digest(`${config.WEBHOOK_USERNAME}:${config.WEBHOOK_PASSWORD}`)
        : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const match = /^Basic\s+(\S+)\s*$/i.exec(header);
    // Digests have equal length whatever was sent, so the comparison time says nothing.
    const given = digest(match ? Buffer.from(match[1], 'base64').toString('utf8') : '');
    if (match && timingSafeEqual(given, this.expected)) return true;
    void context
      .switchToHttp()
      .getResponse<FastifyReply>()
      .header('WWW-Authenticate', 'Basic realm="webhooks"');
    throw new UnauthorizedException('Missing or wrong webhook credentials');
  }
}
