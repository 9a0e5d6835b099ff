import { createHash } from 'node:crypto';
import { BadRequestException, Injectable, Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '../db/database-errors';
import { PrismaService } from '../db/prisma.service';
import { MetricsService } from '../metrics/metrics.service';
import { readCometChatEvent, triggerLabel } from '../ingest/cometchat-event';
import { EventNotStorableError, IngestWriter } from '../ingest/ingest-writer.service';
import { PayloadError, assertStorable, parseJson } from '../ingest/payload-reader';

export type WebhookAnswer = Record<string, never> | { eventId: string; duplicate: boolean };

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly writer: IngestWriter,
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  /** Stores one webhook; resolves only after it is committed. */
  async receive(raw: Buffer, contentType: string | undefined): Promise<WebhookAnswer> {
    const receivedAt = Date.now();
    const started = performance.now();
    const text = raw.toString('utf8').replace(/^\uFEFF/, '');
    let parsed: unknown;
    try {
      parsed = parseJson(text);
    } catch (error) {
      this.metrics.received.inc({ trigger: 'none' });
      const detail = text.trim() === '' ? 'the body is empty' : (error as Error).message;
      return this.reject(
        raw,
        contentType,
        new PayloadError('body', `body is not valid JSON: ${detail}`),
      );
    }
    const trigger = triggerLabel((parsed as { trigger?: unknown } | null)?.trigger);
    this.metrics.received.inc({ trigger });
    let event;
    try {
      assertStorable(parsed);
      event = readCometChatEvent(parsed);
    } catch (error) {
      if (error instanceof PayloadError) {
        return this.reject(raw, contentType, error, parsed);
      }
      throw error;
    }
    try {
      const result = await this.writer.submit({
        event,
        bodyText: text,
        bodySha256: createHash('sha256').update(raw).digest('hex'),
        receivedAt,
      });
      this.metrics.ingestLatency.observe((performance.now() - started) / 1000);
      (result.duplicate ? this.metrics.duplicated : this.metrics.stored).inc({ trigger });
      // CometChat copies a before_message answer into the message's metadata: keep it empty.
      return event.trigger === 'before_message' ? {} : result;
    } catch (error) {
      if (!(error instanceof EventNotStorableError)) {
        throw error;
      }
      // PostgreSQL's own words stay in the log: they may quote the body or the schema.
      this.logger.warn(`Event refused by the database: ${error.message}`);
      return this.reject(
        raw,
        contentType,
        new PayloadError(
          'body',
          'body could not be stored: a value is out of the range or size the store can hold',
        ),
        parsed,
      );
    }
  }

  /** Keeps the unusable body byte for byte, then answers 400 naming the field. */
  private async reject(
    raw: Buffer,
    contentType: string | undefined,
    error: PayloadError,
    parsed?: unknown,
  ): Promise<never> {
    const envelope = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
      string,
      unknown
    >;
    const short = (v: unknown) =>
      typeof v === 'string' || typeof v === 'number' ? storableText(String(v).slice(0, 255)) : null;
    // Not keeping the body would lose it: when that fails, 503 so CometChat sends it again.
    const rejected = await this.prisma.rejectedEvent
      .create({
        data: {
          appId: short(envelope.appId),
          trigger: short(envelope.trigger),
          reason: storableText(error.message),
          field: storableText(error.field),
          contentType: contentType === undefined ? null : storableText(contentType.slice(0, 255)),
          body: new Uint8Array(raw),
        },
        select: { id: true },
      })
      .catch((cause: unknown) => {
        throw new DatabaseUnavailableError(
          `the rejected body could not be kept: ${(cause as Error).message}`,
          { cause },
        );
      });
    this.metrics.rejected.inc({ trigger: triggerLabel(envelope.trigger) });
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: error.message,
      field: error.field,
      rejectedId: rejected.id.toString(),
    });
  }
}

/**
 * The rejected body is kept byte for byte (bytea); the text that describes it comes from the same
 * hostile input and must fit a text column, which holds neither NUL nor unpaired surrogates.
 */
const storableText = (text: string) => text.toWellFormed().replaceAll('\u0000', '\uFFFD');
