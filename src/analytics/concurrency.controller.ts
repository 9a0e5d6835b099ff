import { Controller, Get, Query } from '@nestjs/common';
import { ConcurrencyDto, ConcurrencyQueryDto } from './concurrency.dto';
import { ConcurrencyService } from './concurrency.service';

@Controller('analytics')
export class ConcurrencyController {
  constructor(private readonly concurrency: ConcurrencyService) {}

  @Get('concurrency')
  get(@Query() query: ConcurrencyQueryDto): Promise<ConcurrencyDto> {
    return this.concurrency.concurrency(query);
  }
}
