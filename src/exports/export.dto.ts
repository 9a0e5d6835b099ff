import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { RequiredQueryTime } from '../common/query-params';
import { EXPORT_FORMATS, ExportFormat } from './export-formats';

/**
 * `GET /export/{messages|receipts|sessions|events}?appId&from&to&format`: one app's rows whose
 * time is in [from, to), at most EXPORT_MAX_DAYS days, in a stable order.
 */
export class ExportQueryDto {
  @ApiProperty({ description: 'The CometChat app (an export is one app’s data)', maxLength: 255 })
  @IsDefined({ message: 'appId is required' })
  @IsString()
  @Length(1, 255)
  appId: string;
  @RequiredQueryTime('Start of the range, inclusive.')
  from: Date;
  @RequiredQueryTime('End of the range, exclusive; at most EXPORT_MAX_DAYS (31) days after from.')
  to: Date;
  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    default: 'csv',
    description:
      'csv: RFC 4180 (header row, CRLF, quoted when needed, null as an empty field); ndjson: one JSON object per line',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
  format: ExportFormat = 'csv';
}
