import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../common/public.decorator';
import { DashboardService } from './dashboard.service';

/** The page is public; the API calls it makes need the API key when one is set. Not API. */
@Controller()
@Public()
@ApiExcludeController()
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): Buffer {
    return this.dashboard.file('index.html');
  }

  @Get('dashboard/dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): Buffer {
    return this.dashboard.file('dashboard.js');
  }

  @Get('dashboard/dashboard.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  style(): Buffer {
    return this.dashboard.file('dashboard.css');
  }

  @Get('dashboard/chart.umd.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  chartLibrary(): Buffer {
    return this.dashboard.file('chart.umd.min.js');
  }
}
