import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
  DocumentBuilder,
  SwaggerModule,
} from '@nestjs/swagger';

export const WEBHOOK_AUTH = 'webhookBasicAuth';
export const API_KEY_AUTH = 'apiKey';

/** The error body of every 4xx/5xx answer. */
export class ApiErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiPropertyOptional({ example: 'Bad Request' }) error?: string;
  @ApiProperty({ example: 'limit must not be greater than 500' }) message: string;
  @ApiPropertyOptional({ description: 'The parameter at fault', example: 'limit' })
  field?: string;
}

/** A query endpoint: API key when one is set, 400 naming the parameter, 503 without a database. */
export function ApiQueryEndpoint(summary: string, description?: string) {
  return applyDecorators(
    ApiOperation({ summary, description }),
    ApiBearerAuth(API_KEY_AUTH),
    ApiBadRequestResponse({ type: ApiErrorDto, description: 'A parameter is invalid' }),
    ApiUnauthorizedResponse({
      type: ApiErrorDto,
      description: 'API_KEY is set and `Authorization: Bearer <API_KEY>` is missing or wrong',
    }),
    ApiServiceUnavailableResponse({
      type: ApiErrorDto,
      description: 'The database is unavailable',
    }),
  );
}

/**
 * `GET /docs` (Swagger UI), `/docs-json` and `/docs-yaml`. They are served by Fastify directly,
 * outside Nest's guards, so they need no API key, like /health.
 */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Presence & Receipts Store')
    .setDescription(
      'Keeps every CometChat webhook event in PostgreSQL and answers presence, session and ' +
        'receipt-latency questions. Times are ISO-8601 UTC strings; durations and latencies ' +
        'integer milliseconds. Query times (`from`, `to`) take ISO-8601 or Unix seconds/milliseconds.',
    )
    .setVersion(packageVersion())
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: 'WEBHOOK_USERNAME / WEBHOOK_PASSWORD, when set',
      },
      WEBHOOK_AUTH,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'API_KEY, when set' },
      API_KEY_AUTH,
    )
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Presence & Receipts Store API',
  });
}

function packageVersion(): string {
  const file = path.resolve(__dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
