import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { ApiErrorDto, ApiQueryEndpoint } from '../common/openapi';
import { ReadsDerivedState } from '../ingest/read-your-writes';
import { ExportQueryDto } from './export.dto';
import { EXPORTS, ExportKind, ExportService } from './export.service';

const file = { type: 'string', format: 'binary' } as const;

/** The documentation of one export route, from its definition. */
function ApiExport(kind: ExportKind) {
  const { columns, rangeOn, orderBy } = EXPORTS[kind];
  return applyDecorators(
    ApiQueryEndpoint(
      `Export ${kind} as CSV or NDJSON, streamed`,
      `The rows of one app with ${rangeOn} in [from, to), ordered by ${orderBy.replaceAll('x.', '')}. ` +
        `Columns: ${columns.map((c) => c.name).join(', ')}. Times are ISO-8601 UTC. ` +
        'Streamed from a server-side cursor, never held whole in memory.',
    ),
    ApiProduces('text/csv', 'application/x-ndjson'),
    ApiOkResponse({
      description: 'The rows; `Content-Disposition: attachment` names a file',
      content: { 'text/csv': { schema: file }, 'application/x-ndjson': { schema: file } },
    }),
    ApiServiceUnavailableResponse({
      type: ApiErrorDto,
      description: 'The database is unavailable, or too many exports run at once',
    }),
  );
}

@ApiTags('export')
@Controller('export')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  private async stream(kind: ExportKind, query: ExportQueryDto): Promise<StreamableFile> {
    const { stream, contentType, filename } = await this.exports.openForRequest(
      kind,
      { appId: query.appId, from: query.from.getTime(), to: query.to.getTime() },
      query.format,
    );
    return new StreamableFile(stream, {
      type: contentType,
      disposition: `attachment; filename="${filename}"`,
    });
  }

  @Get('messages')
  @ReadsDerivedState()
  @ApiExport('messages')
  messages(@Query() query: ExportQueryDto): Promise<StreamableFile> {
    return this.stream('messages', query);
  }

  @Get('receipts')
  @ReadsDerivedState()
  @ApiExport('receipts')
  receipts(@Query() query: ExportQueryDto): Promise<StreamableFile> {
    return this.stream('receipts', query);
  }

  @Get('sessions')
  @ReadsDerivedState()
  @ApiExport('sessions')
  sessions(@Query() query: ExportQueryDto): Promise<StreamableFile> {
    return this.stream('sessions', query);
  }

  /** The raw log, which every ack has committed: nothing to wait for. */
  @Get('events')
  @ApiExport('events')
  events(@Query() query: ExportQueryDto): Promise<StreamableFile> {
    return this.stream('events', query);
  }
}
