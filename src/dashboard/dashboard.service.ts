import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Injectable } from '@nestjs/common';

export type DashboardAsset = 'index.html' | 'dashboard.js' | 'dashboard.css' | 'chart.umd.min.js';

/**
 * The dashboard's files, read once at start-up: the page, its script and style (copied next to
 * the compiled code by nest-cli's assets), and Chart.js's browser build from node_modules.
 */
@Injectable()
export class DashboardService {
  private readonly files: Record<DashboardAsset, Buffer>;

  constructor() {
    const own = (name: string) => readFileSync(path.join(__dirname, 'public', name));
    this.files = {
      'index.html': own('index.html'),
      'dashboard.js': own('dashboard.js'),
      'dashboard.css': own('dashboard.css'),
      // chart.js exports no path to its UMD build; it sits beside the CommonJS entry point.
      'chart.umd.min.js': readFileSync(
        path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
      ),
    };
  }

  file(name: DashboardAsset): Buffer {
    return this.files[name];
  }
}
